"""Cold starts: a fresh interpreter imports a handler and answers its first event."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

from benchmarks.env import ROOT
from benchmarks.stats import median
from omicsgate.localapi.events import http_api_event

BARE = "benchmarks.bare_handler:handler"
REAL = "reference_api.handler:handler"


@dataclass(frozen=True)
class Case:
    name: str
    spec: str
    path: str
    query: str = ""


@dataclass
class Samples:
    inside_ms: list[float] = field(default_factory=list)
    import_ms: list[float] = field(default_factory=list)
    first_ms: list[float] = field(default_factory=list)
    wall_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        return {
            "inside_ms": median(self.inside_ms),
            "import_ms": median(self.import_ms),
            "first_ms": median(self.first_ms),
            "wall_ms": median(self.wall_ms),
        }


def cold_start(case: Case) -> dict[str, float]:
    """One fresh interpreter; the environment (data location included) is inherited."""
    event = json.dumps(http_api_event("GET", case.path, case.query))
    command = [sys.executable, "-m", "benchmarks.cold_child", case.spec, event]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    wall_ms = (time.perf_counter() - start) * 1000
    if done.returncode:
        raise RuntimeError(f"{case.name}: cold start failed:\n{done.stderr}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != 200:
        raise RuntimeError(f"{case.name}: status {result['status']}:\n{done.stderr}")
    return {**result, "wall_ms": wall_ms}


def run(cases: list[Case], repeats: int) -> dict[str, Samples]:
    """Interleaved rounds (every case once per round), so cases share the machine's noise."""
    for case in cases:
        cold_start(case)  # not counted: warms the OS file cache and writes .pyc files
    samples = {case.name: Samples() for case in cases}
    for _ in range(repeats):
        for case in cases:
            result = cold_start(case)
            s = samples[case.name]
            s.inside_ms.append(result["total_ms"])
            s.import_ms.append(result["import_ms"])
            s.first_ms.append(result["first_ms"])
            s.wall_ms.append(result["wall_ms"])
    return samples
