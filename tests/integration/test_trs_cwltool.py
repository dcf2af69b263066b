"""cwltool, given only the registry's URL and a tool's TRS ID, fetches, validates and runs
a registered workflow from the local API (cwltool's resolver uses the legacy
/api/ga4gh/v2 paths, ``plain-CWL`` and HEAD)."""

from __future__ import annotations

import json
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


def test_the_demo_ingest_tool_runs_the_real_cli(tmp_path: Path) -> None:
    """The demo registry's own tool (omicsgate.ingest.demo_trs) describes the command as
    it is: cwltool runs its CWL, which ingests the real GWAS-VCF into a fresh store."""
    from omicsgate.ingest.demo_trs import INGEST_GWAS_CWL
    from omicsgate.localapi.devtools import reset_settings, use_store
    from omicsgate.storage import get_store
    from tests.conftest import SHARED

    found = shutil.which("cwltool", path=os.path.dirname(sys.executable))
    assert found, "cwltool is a dev dependency: run `make install`"
    (tmp_path / "ingest-gwas.cwl").write_text(INGEST_GWAS_CWL)
    (tmp_path / "ieu-a-2.json").write_text('{"trait": "Body mass index", "population": "Mixed"}')
    job = {
        "study_id": "cwl-a-1",
        "metadata": {"class": "File", "path": str(tmp_path / "ieu-a-2.json")},
        "vcf": {"class": "File", "path": str(SHARED / "data" / "gwasvcf" / "data.vcf.gz")},
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    store = tmp_path / "store"
    env = {
        **os.environ,
        "OMICSGATE_DATA_URI": str(store),
        "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}",
    }
    result = subprocess.run(
        [
            found,
            "--no-container",
            "--preserve-environment",
            "OMICSGATE_DATA_URI",
            "--outdir",
            str(tmp_path / "out"),
            "ingest-gwas.cwl",
            "job.json",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    from omicsgate.gwas.writer import list_studies

    use_store(str(store))
    try:
        studies = {s.id: s for s in list_studies(get_store())}
    finally:
        reset_settings()
    assert studies["cwl-a-1"].trait == "Body mass index", studies
