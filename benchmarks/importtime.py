"""Where a handler's import time goes: ``python -X importtime``, compared with the bare one.

python -m benchmarks.importtime      prints the extra import cost by top-level package
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass

from benchmarks.env import ROOT, setup_process_env

_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)$")


@dataclass(frozen=True)
class Import:
    self_us: int
    cumulative_us: int
    depth: int
    name: str


def import_times(module: str) -> list[Import]:
    """Every module a fresh interpreter imports for ``module``, in importtime's order."""
    command = [sys.executable, "-X", "importtime", "-c", f"import {module}"]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, check=True, env=os.environ.copy()
    )
    found = (_LINE.match(line) for line in done.stderr.splitlines())
    return [Import(int(m[1]), int(m[2]), len(m[3]) // 2, m[4]) for m in found if m]


def extra_by_package(real: list[Import], bare: list[Import]) -> list[tuple[str, float]]:
    """Self time (ms) of the modules only the real handler imports, by top-level package."""
    seen = {i.name for i in bare}
    totals: dict[str, float] = {}
    for item in real:
        if item.name not in seen:
            top = item.name.split(".")[0]
            totals[top] = totals.get(top, 0.0) + item.self_us / 1000
    return sorted(totals.items(), key=lambda kv: -kv[1])


def importer_chain(imports: list[Import], name: str) -> list[str]:
    """Who imports ``name`` first: importtime lists children before their parent."""
    for index, item in enumerate(imports):
        if item.name == name:
            chain, depth = [name], item.depth
            for later in imports[index + 1 :]:
                if later.depth < depth:
                    chain.append(later.name)
                    depth = later.depth
            return chain
    return []


def report(real_module: str, bare_module: str, top: int = 8) -> list[str]:
    real, bare = import_times(real_module), import_times(bare_module)
    total = {
        m: sum(i.self_us for i in imps) / 1000
        for m, imps in ((real_module, real), (bare_module, bare))
    }
    lines = [
        f"import {real_module}: {total[real_module]:.0f} ms, "
        f"import {bare_module}: {total[bare_module]:.0f} ms (one -X importtime run each)",
        "extra import time vs the bare handler, by top-level package:",
    ]
    lines += [f"  {name:<28}{ms:8.1f} ms" for name, ms in extra_by_package(real, bare)[:top]]
    for heavy in ("tiledb", "numpy", "boto3", "botocore", "aws_lambda_powertools"):
        chain = importer_chain(real, heavy)
        if chain:
            lines.append(f"  first import of {heavy}: {' <- '.join(chain)}")
    return lines


if __name__ == "__main__":
    setup_process_env()
    print("\n".join(report("reference_api.handler", "benchmarks.bare_handler")))
