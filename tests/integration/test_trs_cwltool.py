"""cwltool, given only the registry's URL and a tool's TRS ID, fetches, validates and runs
a registered workflow from the local API (cwltool's resolver uses the legacy
/api/ga4gh/v2 paths, ``plain-CWL`` and HEAD)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Caller
from tests.trs_data import DEMO_ID, demo_registry_server

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def registry_url(tmp_path_factory: pytest.TempPathFactory, call: Caller) -> Iterator[str]:
    """The local API over a registry holding the demo tool (registered by its write API)."""
    with demo_registry_server(str(tmp_path_factory.mktemp("trs-data")), call) as url:
        yield url


def cwltool(registry: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    found = shutil.which("cwltool", path=os.path.dirname(sys.executable))
    assert found, "cwltool is a dev dependency: run `make install`"
    return subprocess.run(
        [found, "--add-ga4gh-tool-registry", registry, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_cwltool_validates_a_registered_workflow_by_its_id(
    registry_url: str, tmp_path: Path
) -> None:
    result = cwltool(registry_url, "--validate", f"{DEMO_ID}:1.0", cwd=tmp_path)
    output = result.stdout + result.stderr  # cwltool logs to either, by version
    assert result.returncode == 0, output
    assert f"{DEMO_ID}:1.0 is valid CWL" in output
    # Resolved through the registry, to the primary descriptor under the legacy path.
    legacy = f"{registry_url}/api/ga4gh/v2/tools/{DEMO_ID}/versions/1.0"
    assert f"Resolved '{DEMO_ID}:1.0' to '{legacy}/plain-CWL/descriptor/workflow.cwl'" in output


def test_cwltool_runs_a_registered_workflow_without_containers(
    registry_url: str, tmp_path: Path
) -> None:
    """The workflow imports tools/echo.cwl by a relative path: the registry serves it too."""
    result = cwltool(
        registry_url,
        "--no-container",
        "--outdir",
        str(tmp_path / "out"),
        f"{DEMO_ID}:1.0",
        "--message",
        "hello from the registry",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "out.txt").read_text() == "hello from the registry\n"
