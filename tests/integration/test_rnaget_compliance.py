"""The official GA4GH RNAget compliance suite, PyPI ``ga4gh-rnaget-compliance`` 1.0.0,
unmodified, against the local API (``make serve``'s server) on the test release with the
suite's objects hosted from ``../shared/data/rnaget-compliance`` (read in place).

The suite pulls loompy (numba, llvmlite, scipy) and writes temporary schemas into its own
package directory, so it lives in a virtual environment of its own,
``.venv-rnaget-compliance`` (``make rnaget-compliance`` creates it; ``make test`` depends
on it). It runs with all four parts declared implemented, as the finished server will be
(140 cases), and every case's status is read from its ``results.json``.

Every case of every part must pass: projects 8, studies 8, expressions 67 (17 API + 50
content), continuous 57 (29 API + 28 content).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from omicsgate.ingest.cli import main as cli_main
from tests.conftest import ROOT, SHARED, TEMPLATE
from tests.integration.test_local_api import start_server, stop

pytestmark = pytest.mark.integration
SUITE = ROOT / ".venv-rnaget-compliance" / "bin" / "rnaget-compliance"
COMPLIANCE_DIR = SHARED / "data" / "rnaget-compliance"
STATUS = {1: "passed", 0: "skipped", -1: "failed", 2: "error"}
# Cases per part with every part implemented (apis/rnaget.md): 140 in all.
EXPECTED_CASES = {"projects": 8, "studies": 8, "expressions": 67, "continuous": 57}


@pytest.fixture(scope="module")
def server(local_data: str) -> Iterator[str]:
    if not (COMPLIANCE_DIR / "project.json").is_file():
        pytest.skip("../shared is not beside the checkout: no compliance objects to host")
    command = ["--data-uri", local_data, "ingest", "rnaget-compliance", str(COMPLIANCE_DIR)]
    assert cli_main(command) == 0
    process, url = start_server(TEMPLATE, local_data, ready_path="/rnaget/service-info")
    try:
        yield url
    finally:
        stop(process)


def run_suite(base_url: str, workdir: Path) -> list[dict[str, Any]]:
    """Every case the suite ran: ``{"part", "test", "case", "status", "message"}``."""
    if not SUITE.exists():
        pytest.fail("no .venv-rnaget-compliance: run `make rnaget-compliance` (make test does)")
    config = {
        "servers": [
            {
                "server_name": "OmicsGate",
                "base_url": f"{base_url}/rnaget/",
                "implemented": {
                    "projects": True,
                    "studies": True,
                    "expressions": True,
                    "continuous": True,
                },
            }
        ]
    }
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [str(SUITE), "report", "-c", "config.yaml", "-o", "results", "--no-tar", "-f"],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=workdir,
        env=env,
    )
    results = workdir / "results" / "results.json"
    assert results.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    return cases(json.loads(results.read_text()))


def cases(document: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A test's cases are in ``message.api_component.cases`` and, for the matrix parts,
    ``message.content_component.cases``."""
    found = []
    for server in document:
        for part, by_object in server["test_results"].items():
            for tests in by_object.values():
                for test in tests:
                    outcome = test.get("message") or {}
                    for component in ("api_component", "content_component"):
                        for case in (outcome.get(component) or {}).get("cases") or []:
                            found.append(
                                {
                                    "part": part,
                                    "test": test["name"],
                                    "case": case["name"],
                                    "status": STATUS.get(case["status"], str(case["status"])),
                                    "message": case.get("error_message") or "",
                                }
                            )
    return found


def test_every_case_of_the_official_suite_passes(server: str, tmp_path: Path) -> None:
    ran = run_suite(server, tmp_path)
    by_part: dict[str, dict[str, int]] = {}
    for case in ran:
        counts = by_part.setdefault(case["part"], {})
        counts[case["status"]] = counts.get(case["status"], 0) + 1
    passed = sum(c["status"] == "passed" for c in ran)
    # A failed test skips its children, whose cases results.json then leaves out: count
    # against the full 140, never against what ran.
    total = sum(EXPECTED_CASES.values())
    print(f"RNAget compliance: {passed}/{total} cases pass ({len(ran)} ran; {by_part})")
    for part in ("projects", "studies", "expressions", "continuous"):
        mine = [c for c in ran if c["part"] == part]
        assert len(mine) == EXPECTED_CASES[part], (part, mine)
        failing = [c for c in mine if c["status"] != "passed"]
        assert not failing, failing
    assert passed == total
