"""Every function is traced with powertools' Tracer in Lambda, and only there.

Each check runs in a fresh interpreter, as a Lambda environment is one: the first with
Lambda's variables (``LAMBDA_TASK_ROOT``, ``_X_AMZN_TRACE_ID``) and the X-Ray daemon
address pointed at a UDP socket of the test, where the X-Ray SDK sends every subsegment
as it closes; the second as ``make serve`` and the tests run, where the X-Ray SDK must
not even be imported (it costs ~200 ms of cold start).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEMPLATE

pytestmark = pytest.mark.integration

TRACE_ROOT = "1-6751e988-bd862e3fe1be46a994272793"
PARENT = "53995c3f42cd8ad8"

# Loads every function of the template, invokes each with the recorded event of one of its
# routes, and prints what it found as JSON: per function, the X-Ray documents received.
SCRIPT = r"""
import json, os, socket, sys
from pathlib import Path

udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(("127.0.0.1", 0))
udp.settimeout(0.5)
os.environ["AWS_XRAY_DAEMON_ADDRESS"] = "127.0.0.1:%d" % udp.getsockname()[1]

from omicsgate.localapi.events import LocalContext
from omicsgate.localapi.template import load_handler, load_template

template = load_template(sys.argv[1])
events = {}
for path in sorted(Path(sys.argv[2]).rglob("*.json")):
    event = json.loads(path.read_text())
    events.setdefault(event["routeKey"], event)
found = {}
for name, function in template.functions.items():
    os.environ["POWERTOOLS_SERVICE_NAME"] = "traced-" + name
    handler = load_handler(function)
    route = next(r for r in template.routes if r.function == name and r.method == "GET")
    response = handler(events[f"{route.method} {route.path}"], LocalContext(name))
    documents = []
    while True:
        try:
            packet = udp.recv(65536).decode()
        except socket.timeout:
            break
        header, body = packet.split("\n", 1)
        documents.append(json.loads(body))
    found[name] = {"status": response["statusCode"], "documents": documents}
print(json.dumps({"found": found, "xray": "aws_xray_sdk" in sys.modules}))
"""


def run(env: dict[str, str], tmp_path: Path) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("_X_AMZN", "LAMBDA_"))}
    clean.pop("POWERTOOLS_TRACE_DISABLED", None)
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(TEMPLATE), str(ROOT / "events")],
        env={
            **clean,
            "OMICSGATE_DATA_URI": str(tmp_path / "data"),
            "OMICSGATE_AUTH_DIR": str(tmp_path / "auth"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_every_function_sends_its_handler_subsegment_to_xray(tmp_path: Path) -> None:
    report = run(
        {
            "LAMBDA_TASK_ROOT": str(tmp_path),
            "AWS_LAMBDA_FUNCTION_NAME": "traced",
            "_X_AMZN_TRACE_ID": f"Root={TRACE_ROOT};Parent={PARENT};Sampled=1",
        },
        tmp_path,
    )
    assert report["xray"]
    for name, found in report["found"].items():
        handlers = [d for d in found["documents"] if d.get("name") == "## handler"]
        assert len(handlers) == 1, (name, found)
        (segment,) = handlers
        assert segment["trace_id"] == TRACE_ROOT and segment["parent_id"] == PARENT, segment
        assert segment["type"] == "subsegment" and segment["end_time"] >= segment["start_time"]
        annotations = segment["annotations"]
        assert annotations["Service"] == f"traced-{name}", annotations
        assert "ColdStart" in annotations, annotations
        # The answer stays out of the trace.
        assert "handler response" not in json.dumps(segment.get("metadata", {})), segment


def test_outside_lambda_the_xray_sdk_is_not_even_imported(tmp_path: Path) -> None:
    report = run({}, tmp_path)
    assert not report["xray"]
    for name, found in report["found"].items():
        assert found["documents"] == [], name
        assert found["status"] < 600, name
