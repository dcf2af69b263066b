"""One way to run schemathesis from the tests: the Makefile's ``.venv-schemathesis`` (its
own dependencies) against an OpenAPI document and a running local API, with a token of a
trusted user, failures read from its JUnit report.

Checks every run skips, and why:
- ``ignored_auth``, ``missing_required_header``: the documents declare bearer schemes, but
  reads are public (a token only opens restricted data), so a request without a token is
  answered, as it should be.
- ``unsupported_method``: a method the template does not route is answered by API Gateway
  (here the local API, as API Gateway does: 404), never by the function.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.tokens import user_token

SCHEMATHESIS = ROOT / ".venv-schemathesis" / "bin" / "schemathesis"
ALWAYS_SKIPPED = ("ignored_auth", "missing_required_header", "unsupported_method")
Allowed = Sequence[tuple[str, re.Pattern[str]]]


def run_schemathesis(
    spec: Path,
    url: str,
    mode: str,
    workdir: Path,
    skipped: Sequence[str] = (),
    max_examples: int = 12,
) -> list[str]:
    """The failures schemathesis found (``mode``: positive or negative), one text each,
    naming the operation and the check's code (ST101 server error, ST108 schema...)."""
    if not SCHEMATHESIS.exists():
        pytest.fail("schemathesis is not installed: run the tests with `make test`")
    report = workdir / f"junit-{mode}.xml"
    token = user_token("schemathesis", tier="trusted")
    command = [str(SCHEMATHESIS), "run", str(spec), "--url", url, "--mode", mode,
               "--max-examples", str(max_examples), "--seed", "7", "--workers", "1",
               "--exclude-checks", ",".join([*ALWAYS_SKIPPED, *skipped]),
               "-H", f"Authorization: Bearer {token}",
               "--report", "junit", "--report-junit-path", str(report)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir, timeout=900)
    assert report.exists(), done.stdout[-3000:] + done.stderr[-2000:]
    failures = []
    for case in ET.parse(report).iter("testcase"):
        for failure in case:
            if failure.tag in ("failure", "error"):
                text = failure.text or failure.get("message") or ""
                failures += _split(str(case.get("name")), text)
    return failures


def _split(name: str, text: str) -> list[str]:
    """One entry per numbered failure of a test case ("1. Test Case ID: ...")."""
    parts = [p.strip() for p in re.split(r"(?m)^\s*\d+\. Test Case ID", text) if p.strip()]
    return [f"{name}: {part}" for part in parts] or [f"{name}: {text}"]


def unexplained(failures: list[str], allowed: Allowed = ()) -> list[str]:
    """The failures no (check code, pattern) of ``allowed`` explains."""
    return [f for f in failures if not any(c in f and p.search(f) for c, p in allowed)]


def report(failures: list[str]) -> str:
    return "\n\n".join(failures)[:8000]
