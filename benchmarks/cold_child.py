"""One cold start, run in a fresh interpreter by :mod:`benchmarks.coldstart`.

    python -m benchmarks.cold_child MODULE:ATTR '<event JSON>'

Times, from inside, the import of the handler's module and its first event; prints one
JSON line. The harness (json, the local Lambda context) is imported before the clock starts.
"""

from __future__ import annotations

import importlib
import json
import sys
import time

from omicsgate.localapi.events import LocalContext


def main(spec: str, event_json: str) -> None:
    event = json.loads(event_json)
    module_name, attr = spec.split(":")
    start = time.perf_counter()
    handler = getattr(importlib.import_module(module_name), attr)
    imported = time.perf_counter()
    response = handler(event, LocalContext())
    done = time.perf_counter()
    print(
        json.dumps(
            {
                "import_ms": (imported - start) * 1000,
                "first_ms": (done - imported) * 1000,
                "total_ms": (done - start) * 1000,
                "status": response["statusCode"],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
