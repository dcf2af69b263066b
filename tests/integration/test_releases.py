"""Releases: immutable, selected by datasetId, and never half-visible."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from omicsgate.ingest.demo import DemoFiles, write_demo
from omicsgate.storage import ReleaseExists, get_store
from tests.conftest import BUCKET, DEMO_RELEASE, Caller, build_release, use_store

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "omicsgate.ingest.cli", "--quiet"]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def ingest_args(release: str, files: DemoFiles, **override: str) -> list[str]:
    paths = {
        "tissues": files.tissues,
        "annotation": files.annotation,
        "variants": files.variants,
        "gene-status": files.gene_status,
        **override,
    }
    args = ["ingest", "reference", "--release", release]
    for name, path in paths.items():
        args += [f"--{name}", path]
    return args


@pytest.fixture
def free_port_endpoint() -> str:
    """An endpoint nothing listens on."""
    from omicsgate.localapi.devtools import free_port

    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def fresh_local(tmp_path: Path, demo_files: DemoFiles) -> str:
    uri = str(tmp_path / "data")
    build_release(uri, demo_files)
    return uri


def broken_copy(source: str, target: Path, line: int, bad: str) -> str:
    lines = Path(source).read_text().splitlines(keepends=True)
    lines[line - 1] = bad
    target.write_text("".join(lines))
    return str(target)


def test_malformed_file_names_file_line_and_field_and_keeps_the_release(
    fresh_local: str, demo_files: DemoFiles, tmp_path: Path, call: Caller
) -> None:
    before = call.get("/api/v4/tissueInfo")
    bad = broken_copy(
        demo_files.gene_status, tmp_path / "status.tsv", 40, "Eno1\tLiver\tmaybe\ttrue\tfalse\n"
    )
    result = run_cli(
        "--data-uri", fresh_local, *ingest_args("v2", demo_files, **{"gene-status": bad})
    )
    assert result.returncode == 2
    assert f"{bad}:40: field expressed" in result.stderr
    assert "Traceback" not in result.stderr
    use_store(fresh_local)
    assert get_store().current_release() == DEMO_RELEASE
    assert call.get("/api/v4/tissueInfo") == before
    assert call.get("/api/v4/tissueInfo", "datasetId=v2")[0] == 400


def test_killed_ingestion_leaves_the_current_release_serving(
    fresh_local: str, tmp_path: Path, call: Caller
) -> None:
    big = write_demo(str(tmp_path / "big"), genes=30_000, seed=5)
    process = subprocess.Popen(
        [*CLI, "--data-uri", fresh_local, *ingest_args("v2", big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    partial = Path(fresh_local) / "releases" / "v2" / "tissues"
    deadline = time.monotonic() + 120
    while not partial.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert partial.exists(), "the ingestion was not caught mid-way"
    assert not (Path(fresh_local) / "releases" / "v2" / "release.json").exists()

    use_store(fresh_local)
    assert get_store().current_release() == DEMO_RELEASE
    assert get_store().list_releases() == [DEMO_RELEASE]
    status, body = call.get("/api/v4/tissueInfo")
    assert status == 200 and len(body["tissueInfo"]) == 13
    assert call.get("/api/v4/gene", "datasetId=v2&geneId=Eno1")[0] == 400

    # The same ID can be ingested again: the leftovers are replaced, then it is current.
    shutil.rmtree(tmp_path / "big")
    small = write_demo(str(tmp_path / "small"), genes=50, seed=6)
    assert run_cli("--data-uri", fresh_local, *ingest_args("v2", small)).returncode == 0
    use_store(fresh_local)
    assert get_store().current_release() == "v2"


def test_older_releases_stay_selectable_by_dataset_id(
    fresh_local: str, tmp_path: Path, call: Caller
) -> None:
    other = write_demo(str(tmp_path / "other"), genes=40, seed=9)
    assert run_cli("--data-uri", fresh_local, *ingest_args("v2", other)).returncode == 0
    use_store(fresh_local)
    new_ids = call.get("/api/v4/gene", "geneId=Actb")
    old_ids = call.get("/api/v4/gene", f"geneId=Actb&datasetId={DEMO_RELEASE}")
    assert new_ids[0] == old_ids[0] == 200
    assert new_ids[1] != old_ids[1]  # different demo seeds place Actb differently
    assert run_cli("--data-uri", fresh_local, "releases", "publish", DEMO_RELEASE).returncode == 0
    use_store(fresh_local)
    assert call.get("/api/v4/gene", "geneId=Actb") == old_ids


def test_a_complete_release_cannot_be_overwritten(fresh_local: str, demo_files: DemoFiles) -> None:
    use_store(fresh_local)
    with pytest.raises(ReleaseExists):
        build_release(fresh_local, demo_files)
    result = run_cli("--data-uri", fresh_local, *ingest_args(DEMO_RELEASE, demo_files))
    assert result.returncode == 2 and "already exists" in result.stderr


def test_failed_ingestion_on_s3_keeps_the_current_release(
    moto_endpoint: str, s3_data: str, demo_files: DemoFiles, tmp_path: Path, call: Caller
) -> None:
    bad = broken_copy(
        demo_files.tissues,
        tmp_path / "tissues.tsv",
        3,
        "Liver\tLiver\tLiver\tLiver\tzzzzzz\t1,2,3\td\tdi\t1\t1\t1\t1\ttrue\n",
    )
    env = {"OMICSGATE_S3_ENDPOINT": moto_endpoint}
    result = run_cli("--data-uri", s3_data, *ingest_args("s3v2", demo_files, tissues=bad), env=env)
    assert result.returncode == 2
    assert f"{bad}:3: field colorHex" in result.stderr
    use_store(s3_data, moto_endpoint)
    assert get_store().current_release() == DEMO_RELEASE
    assert call.get("/api/v4/tissueInfo")[0] == 200
    assert call.get("/api/v4/tissueInfo", "datasetId=s3v2")[0] == 400
    import boto3

    keys = boto3.client("s3", endpoint_url=moto_endpoint).list_objects_v2(
        Bucket=BUCKET, Prefix="omicsgate/releases/s3v2/release.json"
    )
    assert keys.get("KeyCount", 0) == 0


def test_stray_directories_under_releases_are_ignored(fresh_local: str) -> None:
    (Path(fresh_local) / "releases" / ".DS_Store dir").mkdir()
    (Path(fresh_local) / "releases" / "half_written").mkdir()
    use_store(fresh_local)
    assert get_store().list_releases() == [DEMO_RELEASE]


def test_a_broken_store_answers_json_not_a_stack_trace(fresh_local: str, call: Caller) -> None:
    root = Path(fresh_local)
    shutil.rmtree(root / "releases" / DEMO_RELEASE / "tissues")  # an array gone missing
    use_store(fresh_local)
    status, body = call.get("/api/v4/tissueInfo")
    assert status == 503
    assert body["detail"] == "data store unavailable, retry later"

    (root / "current.json").write_text("{not json")  # a corrupt pointer: a bug, not a 4xx
    use_store(fresh_local)
    from omicsgate.localapi.events import LocalContext, http_api_event

    event = http_api_event("GET", "/api/v4/gene", "geneId=Eno1")
    response = call.handler_for("ReferenceFunction")(event, LocalContext())
    body = json.loads(response["body"])
    assert response["statusCode"] == 500
    assert body["requestId"] == event["requestContext"]["requestId"]
    assert "Traceback" not in response["body"] and "JSONDecodeError" not in response["body"]


def test_an_unreachable_s3_endpoint_is_a_503(call: Caller, free_port_endpoint: str) -> None:
    use_store("s3://nowhere/omicsgate", free_port_endpoint)
    status, body = call.get("/api/v4/tissueInfo")
    assert status == 503
    assert "unavailable" in body["detail"]
