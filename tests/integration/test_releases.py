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
    args = ["ingest", "reference", "--release", release, "--publish"]
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


def attempts(data_uri: str, release: str) -> list[Path]:
    return sorted((Path(data_uri) / "releases" / release / "attempts").glob("*"))


def age_lease(attempt: Path, seconds: float) -> None:
    """What a lease looks like once its writer has been gone for ``seconds``."""
    lease = attempt / "lease.json"
    document = json.loads(lease.read_text())
    document["heartbeat"] -= seconds
    lease.write_text(json.dumps(document))


def test_killed_ingestion_leaves_the_current_release_serving(
    fresh_local: str, tmp_path: Path, call: Caller
) -> None:
    big = write_demo(str(tmp_path / "big"), genes=30_000, seed=5, expression=False)
    process = subprocess.Popen(
        [*CLI, "--data-uri", fresh_local, *ingest_args("v2", big)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if any((a / "tissues").exists() for a in attempts(fresh_local, "v2")):
            break
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait()
    [partial] = attempts(fresh_local, "v2")
    assert (partial / "tissues").exists(), "the ingestion was not caught mid-way"
    assert not (Path(fresh_local) / "releases" / "v2" / "release.json").exists()

    use_store(fresh_local)
    assert get_store().current_release() == DEMO_RELEASE
    assert get_store().list_releases() == [DEMO_RELEASE]
    status, body = call.get("/api/v4/tissueInfo")
    assert status == 200 and len(body["tissueInfo"]) == 13
    assert call.get("/api/v4/gene", "datasetId=v2&geneId=Eno1")[0] == 400

    # Its lease is fresh: prune cannot tell it from a live writer and keeps it.
    kept = run_cli("--data-uri", fresh_local, "releases", "prune")
    assert kept.returncode == 0 and "nothing to prune" in kept.stdout
    assert partial.exists()
    # Once the lease has aged past the grace period, the writer is known dead.
    age_lease(partial, 3600)
    pruned = run_cli("--data-uri", fresh_local, "releases", "prune")
    assert pruned.returncode == 0 and partial.name in pruned.stdout
    assert not partial.exists()

    # The same ID can be ingested again, and is then current.
    shutil.rmtree(tmp_path / "big")
    small = write_demo(str(tmp_path / "small"), genes=50, seed=6)
    assert run_cli("--data-uri", fresh_local, *ingest_args("v2", small)).returncode == 0
    use_store(fresh_local)
    assert get_store().current_release() == "v2"
    assert {a.name for a in attempts(fresh_local, "v2")} == named_attempts(fresh_local, "v2")


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
    assert run_cli("--data-uri", fresh_local, "releases", "current", DEMO_RELEASE).returncode == 0
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
        "Liver\tLiver\tLiver\tLiver\tzzzzzz\t1,2,3\td\tdi\t1\t1\ttrue\n",
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


def test_a_missing_array_is_a_503(fresh_local: str, call: Caller) -> None:
    shutil.rmtree(table_dir(fresh_local, DEMO_RELEASE, "exons"))
    use_store(fresh_local)
    status, body = call.get("/api/v4/exon", "geneId=Eno1")
    assert status == 503
    assert body["detail"] == "data store unavailable, retry later"


@pytest.mark.parametrize("damage", ["{not json", "[]", '{"release": "../etc"}', ""])
def test_a_damaged_pointer_is_a_503_and_the_cli_names_it(
    fresh_local: str, call: Caller, damage: str
) -> None:
    pointer = Path(fresh_local) / "current.json"
    pointer.write_text(damage)
    use_store(fresh_local)
    from omicsgate.localapi.events import LocalContext, http_api_event

    event = http_api_event("GET", "/api/v4/gene", "geneId=Eno1")
    response = call.handler_for("ReferenceFunction")(event, LocalContext())
    body = json.loads(response["body"])
    assert response["statusCode"] == 503
    assert body["detail"] == "data store unavailable, retry later"
    assert body["requestId"] == event["requestContext"]["requestId"]

    listed = run_cli("--data-uri", fresh_local, "releases", "list")
    assert listed.returncode == 2
    assert f"{pointer} is damaged" in listed.stderr
    assert f"  {DEMO_RELEASE}" in listed.stdout  # the releases are still listed
    assert "Traceback" not in listed.stderr
    # Publishing a release repairs the pointer.
    fixed = run_cli("--data-uri", fresh_local, "releases", "current", DEMO_RELEASE)
    assert fixed.returncode == 0
    assert fixed.stdout.strip() == f"release {DEMO_RELEASE} is now current (was none)"
    use_store(fresh_local)
    assert call.get("/api/v4/gene", "geneId=Eno1")[0] == 200


def test_a_damaged_manifest_is_a_503_and_the_cli_names_it(
    fresh_local: str, tmp_path: Path, call: Caller
) -> None:
    other = write_demo(str(tmp_path / "other"), genes=40, seed=9)
    assert run_cli("--data-uri", fresh_local, *ingest_args("v2", other)).returncode == 0
    assert run_cli("--data-uri", fresh_local, "releases", "current", DEMO_RELEASE).returncode == 0
    manifest = Path(fresh_local) / "releases" / "v2" / "release.json"
    manifest.write_text('{"release": "v2"}')  # no tables
    use_store(fresh_local)
    assert call.get("/api/v4/gene", "geneId=Eno1&datasetId=v2")[0] == 503
    assert call.get("/api/v4/dataset")[0] == 503
    assert call.get("/api/v4/gene", "geneId=Eno1")[0] == 200  # the current release serves

    listed = run_cli("--data-uri", fresh_local, "releases", "list")
    assert listed.returncode == 2
    assert f"{manifest} is damaged: no 'tables' object" in listed.stderr
    assert listed.stdout.splitlines() == [f"* {DEMO_RELEASE}"]


def table_dir(uri: str, release: str, table: str) -> Path:
    """Where a published release keeps one of its arrays: the attempt its manifest names."""
    manifest = json.loads((Path(uri) / "releases" / release / "release.json").read_text())
    return Path(uri) / "releases" / release / manifest["tables"][table]["data"] / table


def named_attempts(uri: str, release: str) -> set[str]:
    """The attempt directories a published release's manifest names."""
    manifest = json.loads((Path(uri) / "releases" / release / "release.json").read_text())
    named = {manifest["data"], *manifest["parts"].values()}
    named |= {table["data"] for table in manifest["tables"].values()}
    return {path.split("/")[-1] for path in named}


def test_concurrent_ingests_of_one_release_leave_one_whole_release(
    fresh_local: str, tmp_path: Path, call: Caller
) -> None:
    """Three writers of one release ID at the same moment, trial after trial: exactly one
    wins, the others fail saying why, and the release holds the winner's rows once."""
    files = write_demo(str(tmp_path / "race"), genes=60, seed=12)
    for trial in range(6):
        release = f"race{trial}"
        outcomes = race(3, ["--data-uri", fresh_local, *ingest_args(release, files)])
        assert_one_winner(outcomes, release)
        # Every attempt the manifest names is there; a loser's part may linger until prune.
        assert named_attempts(fresh_local, release) <= {
            a.name for a in attempts(fresh_local, release)
        }
        use_store(fresh_local)
        assert get_store().current_release() == release
        assert_release_whole(call, release, files)


def test_concurrent_ingests_on_s3_leave_one_whole_release(
    moto_endpoint: str, s3_data: str, tmp_path: Path, call: Caller
) -> None:
    files = write_demo(str(tmp_path / "race"), genes=60, seed=12)
    env = {"OMICSGATE_S3_ENDPOINT": moto_endpoint}
    for trial in range(2):
        release = f"s3race{trial}"
        args = ["--data-uri", s3_data, *ingest_args(release, files), "--no-current"]
        assert_one_winner(race(3, args, env), release)
        use_store(s3_data, moto_endpoint)
        assert_release_whole(call, release, files)


def race(
    writers: int, args: list[str], env: dict[str, str] | None = None
) -> list[subprocess.CompletedProcess[str]]:
    processes = [
        subprocess.Popen(
            [*CLI, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {})},
        )
        for _ in range(writers)
    ]
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        outcomes.append(subprocess.CompletedProcess(process.args, process.returncode, out, err))
    return outcomes


def assert_one_winner(outcomes: list[subprocess.CompletedProcess[str]], release: str) -> None:
    codes = sorted(o.returncode for o in outcomes)
    assert codes == [0] + [2] * (len(outcomes) - 1), [o.stderr for o in outcomes]
    for loser in (o for o in outcomes if o.returncode):
        assert "Traceback" not in loser.stderr
        assert f"omicsgate: release {release!r}" in loser.stderr
        assert "already exists" in loser.stderr or "committed by another" in loser.stderr


def assert_release_whole(call: Caller, release: str, files: DemoFiles) -> None:
    status, body = call.get("/api/v4/tissueInfo", f"datasetId={release}")
    ids = [t["tissueSiteDetailId"] for t in body["tissueInfo"]]
    expected = [row.split("\t")[0] for row in Path(files.tissues).read_text().splitlines()[1:]]
    assert status == 200 and ids == expected
    status, body = call.get("/api/v4/exon", f"geneId=Eno1&datasetId={release}")
    assert status == 200
    keys = [(e["transcriptId"], e["exonNumber"]) for e in body["exon"]]
    assert keys and len(keys) == len(set(keys))  # no row written twice


def test_prune_never_touches_a_live_writer_or_a_committed_release(fresh_local: str) -> None:
    from omicsgate.storage.writer import ReleaseWriter, find_orphans

    use_store(fresh_local)
    store = get_store()
    legacy = Path(fresh_local) / "releases" / "old_half" / "genes"
    legacy.mkdir(parents=True)  # an array left by a format-1 writer that never committed
    with ReleaseWriter(store, "live") as writer:
        live = Path(writer.uri.removeprefix("file://"))
        assert live.exists()
        orphans = [o.uri for o in find_orphans(store)]
        assert orphans == [str(legacy)] or orphans == [f"file://{legacy}"]
        with pytest.raises(ValueError, match="grace"):
            find_orphans(store, grace_seconds=1)
        age_lease(live, 3600)
        assert any(o.endswith(live.name) for o in (o.uri for o in find_orphans(store)))
    assert not live.exists()  # a writer that fails removes its own attempt
    assert attempts(fresh_local, DEMO_RELEASE)  # the committed attempt stays


def test_format_1_releases_are_still_served(fresh_local: str, call: Caller) -> None:
    """Releases written before attempts and packs: arrays in the release directory."""
    use_store(fresh_local)
    before = [call.get(*q) for q in QUERIES]
    release = Path(fresh_local) / "releases" / DEMO_RELEASE
    manifest = json.loads((release / "release.json").read_text())
    for table in ("tissues", "genes", "exons", "variants"):
        table_dir(fresh_local, DEMO_RELEASE, table).rename(release / table)
    tables = {name: manifest["tables"][name] for name in ("tissues", "genes", "exons", "variants")}
    for table in tables.values():
        table.pop("data")
    manifest = {
        "format": 1,
        "release": DEMO_RELEASE,
        "tables": tables,
        "access": manifest["access"],
        "description": manifest["description"],
        "created": manifest["created"],
    }
    (release / "release.json").write_text(json.dumps(manifest))
    (Path(fresh_local) / "current.json").write_text(json.dumps({"release": DEMO_RELEASE}))
    shutil.rmtree(release / "attempts")
    use_store(fresh_local)
    assert [call.get(*q) for q in QUERIES] == before


QUERIES = [
    ("/api/v4/tissueInfo", ""),
    ("/api/v4/gene", "geneId=Eno1,Cd300lf"),
    ("/api/v4/exon", "geneId=Eno1"),
    ("/api/v4/dataset", ""),
]


def test_an_unreachable_s3_endpoint_is_a_503(call: Caller, free_port_endpoint: str) -> None:
    use_store("s3://nowhere/omicsgate", free_port_endpoint)
    status, body = call.get("/api/v4/tissueInfo")
    assert status == 503
    assert "unavailable" in body["detail"]
