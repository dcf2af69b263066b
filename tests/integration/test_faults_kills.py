"""Writers killed (SIGKILL) at random points: reference and expression parts, a GWAS study,
a TRS tool. After every kill each published release (study, tool) serves as before and
nothing the killed writer half-wrote is visible; the same write then runs to its end.

Reference and expression: each test first times one complete write, then kills copies of
it at random moments of that span (``KILLS`` of them; the seed is in every failure
message). GWAS and TRS: each kill waits until the writer has begun to write (its slot
claimed; its first new file stored), then lands a random moment later. Every test also
asserts that some kill really hit a write in progress (arrays, a claimed slot or stored
files left, nothing visible), so none can pass by killing only before or after. The single-point
kill tests in test_releases.py, test_drafts.py and test_gwas_ingest.py stay: they kill at
one chosen step each; these cover the steps around it.
"""

from __future__ import annotations

import copy
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from omicsgate.gwas import get_gwas, parse_chrpos
from omicsgate.ingest.demo import DemoFiles, write_demo
from omicsgate.ingest.demo_trs import omicsgate_tools
from omicsgate.storage import get_store
from tests.conftest import DEMO_RELEASE, ROOT, TEMPLATE, Caller, build_release, use_store
from tests.integration.test_drafts import draft_parts, expression_args, long_gct, reference_args
from tests.integration.test_gwas_ingest import write_meta, write_vcf
from tests.integration.test_releases import QUERIES

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "omicsgate.ingest.cli", "--quiet"]
KILLS = 4
SEED = int(os.environ.get("OMICSGATE_KILL_SEED") or time.time_ns() % 100_000)


def timed(command: list[str], env: dict[str, str] | None = None) -> float:
    """Seconds one complete run takes."""
    start = time.monotonic()
    subprocess.run(command, check=True, env={**os.environ, **(env or {})}, capture_output=True)
    return time.monotonic() - start


# A CLI run that writes nothing: how long starting Python and importing takes, so that the
# kills land while the writer writes.
STARTUP = [*CLI, "--help"]


def kill_during(
    command: list[str],
    span: float,
    check: Callable[[str], None],
    env: dict[str, str] | None = None,
    startup: float = 0.0,
) -> list[float]:
    """Run ``command`` KILLS times, each SIGKILLed at a random moment between ``startup``
    and ``span``, and ``check`` the stores after each; the moments at which a writer was
    really killed (not already ended)."""
    rng = random.Random(SEED)
    killed = []
    for _ in range(KILLS):
        at = rng.uniform(startup, 0.95 * span)
        process = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(at)
        process.send_signal(signal.SIGKILL)
        if process.wait() == -signal.SIGKILL:
            killed.append(round(at, 2))
        check(f"seed {SEED}, killed at {at:.2f} s of {span:.2f} s")
    return killed


def kill_while_writing(
    start: Callable[[], subprocess.Popen[bytes]],
    writing: Callable[[], bool],
    rng: random.Random,
    window: float,
) -> bool:
    """Start a writer, wait until ``writing()`` says it has begun to write, then SIGKILL it
    a random moment of ``window`` later; True when it was killed (had not ended)."""
    process = start()
    while not writing() and process.poll() is None:
        time.sleep(0.0005)
    time.sleep(rng.uniform(0, window))
    process.send_signal(signal.SIGKILL)
    return process.wait() == -signal.SIGKILL


def served(call: Caller, dataset: str | None = None) -> list[tuple[int, Any]]:
    extra = f"&datasetId={dataset}" if dataset else ""
    return [call.get(path, (query + extra).lstrip("&")) for path, query in QUERIES]


# ----------------------------------------------------------------- reference, expression


@pytest.fixture
def store_uri(tmp_path: Path, demo_files: DemoFiles) -> str:
    uri = str(tmp_path / "data")
    build_release(uri, demo_files)
    return uri


def test_a_reference_ingestion_killed_anywhere_leaves_releases_whole(
    store_uri: str, tmp_path: Path, call: Caller
) -> None:
    files = write_demo(str(tmp_path / "big"), genes=4000, seed=5, expression=False)
    args = [
        "ingest",
        "reference",
        "--release",
        "v2",
        "--publish",
        "--tissues",
        files.tissues,
        "--annotation",
        files.annotation,
        "--variants",
        files.variants,
        "--gene-status",
        files.gene_status,
    ]
    scratch = str(tmp_path / "scratch")
    shutil.copytree(store_uri, scratch)
    span = timed([*CLI, "--data-uri", scratch, *args])
    use_store(store_uri)
    before = served(call)

    def check(where: str) -> None:
        use_store(store_uri)
        store = get_store()
        assert store.current_release() == DEMO_RELEASE, where
        assert served(call) == before, where
        releases = store.list_releases()
        assert set(releases) <= {DEMO_RELEASE, "v2"}, (where, releases)
        for release in releases:  # a listed release is whole: every table answers
            assert all(status == 200 for status, _ in served(call, release)), (where, release)
        if "v2" not in releases and any((attempts / "v2" / "attempts").glob("*/*")):
            mid_write.append(where)  # this kill left arrays behind: it hit a writer

    attempts = Path(store_uri) / "releases"
    mid_write: list[str] = []
    command = [*CLI, "--data-uri", store_uri, *args]
    killed = kill_during(command, span, check, startup=timed(STARTUP))
    assert killed, f"seed {SEED}: every run ended before its kill"
    assert mid_write, f"seed {SEED}: no kill landed while arrays were being written"
    if "v2" not in get_store().list_releases():
        assert subprocess.run([*CLI, "--data-uri", store_uri, *args]).returncode == 0
    use_store(store_uri)
    assert all(status == 200 for status, _ in served(call, "v2"))


def test_an_expression_part_killed_anywhere_leaves_the_draft_and_releases(
    store_uri: str, tmp_path: Path, call: Caller
) -> None:
    small = write_demo(str(tmp_path / "small"), genes=80, seed=21)
    subprocess.run([*CLI, "--data-uri", store_uri, *reference_args("v6", small)], check=True)
    record = Path(store_uri) / "releases" / "v6" / "draft" / "reference.json"
    reference_part = record.read_bytes()
    gct = long_gct(small.expression, tmp_path / "long.gct", rows=6000)
    command = [*CLI, "--data-uri", store_uri, *expression_args("v6", small, gct=gct)]
    scratch = str(tmp_path / "scratch")
    shutil.copytree(store_uri, scratch)
    span = timed([*CLI, "--data-uri", scratch, *expression_args("v6", small, gct=gct)])
    use_store(store_uri)
    before = call.get("/api/v4/geneExpression", "geneId=Eno1")
    assert before[0] == 200

    def check(where: str) -> None:
        # The part is recorded once whole, or not at all; the other part is untouched.
        assert draft_parts(store_uri, "v6") in (["reference"], ["expression", "reference"])
        assert record.read_bytes() == reference_part, where
        use_store(store_uri)
        assert get_store().list_releases() == [DEMO_RELEASE], where
        assert call.get("/api/v4/geneExpression", "geneId=Eno1") == before, where
        written = (Path(store_uri) / "releases" / "v6" / "attempts").glob("*/expression")
        if "expression" not in draft_parts(store_uri, "v6") and any(written):
            mid_write.append(where)

    mid_write: list[str] = []
    killed = kill_during(command, span, check, startup=timed(STARTUP))
    assert killed, f"seed {SEED}: every run ended before its kill"
    assert mid_write, f"seed {SEED}: no kill landed while the matrix was being written"
    # Ingesting the part again (with genes the reference part knows) replaces what was left.
    whole = [*CLI, "--data-uri", store_uri, *expression_args("v6", small)]
    assert subprocess.run(whole).returncode == 0
    publish = [*CLI, "--data-uri", store_uri, "releases", "publish", "v6"]
    assert subprocess.run(publish).returncode == 0
    use_store(store_uri)
    status, body = call.get("/api/v4/geneExpression", "geneId=Eno1&datasetId=v6")
    assert status == 200 and body["geneExpression"], body


# ----------------------------------------------------------------- GWAS


def test_a_gwas_study_killed_anywhere_is_absent_or_whole(tmp_path: Path) -> None:
    uri = str(tmp_path / "data")
    meta = write_meta(tmp_path / "m.json")
    kept = write_vcf(tmp_path / "kept.vcf.gz", "kept-1", [(77, "rs77", "A", "G", 0.1, 0.1, 1.0)])
    rows = [(100 + 7 * i, f"rs{i}", "A", "G", 0.01, 0.1, 2.0) for i in range(40_000)]
    big = write_vcf(tmp_path / "big.vcf.gz", "big-1", rows)
    gwas_cli = [*CLI, "--data-uri", uri, "ingest", "gwas", "--metadata", meta]
    subprocess.run([*gwas_cli, "--study", "kept-1", kept], check=True)
    scratch = str(tmp_path / "scratch")
    shutil.copytree(uri, scratch)
    span = timed([*CLI, "--data-uri", scratch, *gwas_cli[4:], "--study", "big-1", big])
    use_store(uri)
    everywhere = [parse_chrpos("1:1-1000000")]

    def read() -> tuple[dict[str, Any], list[dict[str, Any]]]:
        gwas = type(get_gwas(get_store()))(get_store())  # a fresh reader: no cache
        studies = gwas.studies()
        return studies, gwas.associations(list(studies.values()), everywhere)

    studies, answer = read()
    before = [r for r in answer if r["id"] == "kept-1"]

    def check(where: str) -> None:
        use_store(uri)
        studies, answer = read()
        assert set(studies) <= {"kept-1", "big-1"}, where
        assert [r for r in answer if r["id"] == "kept-1"] == before, where
        if "big-1" in studies:  # a listed study has every row
            assert len([r for r in answer if r["id"] == "big-1"]) == len(rows), where
        else:
            assert not [r for r in answer if r["id"] == "big-1"], where

    # Each kill lands after the writer claimed its slot (step 1 of omicsgate.gwas.writer),
    # at a random moment of the rest of the write: rows, indexes, the record.
    slots = Path(uri) / "gwas" / "slots"
    claimed: set[str] = set(claims(slots, "big-1"))
    mid_write: list[str] = []
    rng = random.Random(SEED)
    startup = timed(STARTUP)
    killed = []
    for _ in range(KILLS):
        before_kill = set(claims(slots, "big-1"))
        was_killed = kill_while_writing(
            lambda: subprocess.Popen(
                [*gwas_cli, "--study", "big-1", big],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            ),
            lambda known=frozenset(before_kill): bool(set(claims(slots, "big-1")) - known),
            rng,
            0.8 * (span - startup),
        )
        where = f"seed {SEED}, kill {len(killed) + 1}"
        check(where)
        new = set(claims(slots, "big-1")) - claimed
        claimed |= new
        if was_killed:
            killed.append(where)
            records = {p.name for p in (Path(uri) / "gwas" / "studies").glob("big-1@*.json")}
            if any(f"big-1@{claim}" not in records for claim in new):
                mid_write.append(where)  # its slot claimed, its record never written
    assert killed, f"seed {SEED}: every run ended before its kill"
    assert mid_write, f"seed {SEED}: no kill landed between the slot claim and the record"
    # Ingesting a study ID again replaces it (and whatever a killed writer left).
    subprocess.run([*gwas_cli, "--study", "big-1", big], check=True)
    use_store(uri)
    studies, answer = read()
    assert "big-1" in studies
    assert len([r for r in answer if r["id"] == "big-1"]) == len(rows)


def claims(slots: Path, study: str) -> list[str]:
    """The slot claims a study's writers made (claims are never removed or reused)."""
    found = []
    for path in slots.glob("*.json"):
        try:
            if json.loads(path.read_text()).get("study") == study:
                found.append(path.name)
        except ValueError:
            continue  # being written this instant
    return found


# ----------------------------------------------------------------- TRS

REGISTER = """
import json, sys
from omicsgate.localapi.events import LocalContext, http_api_event
from omicsgate.localapi.template import load_handler, load_template
handler = load_handler(load_template(sys.argv[1]).functions["TrsFunction"])
token, tool_id, body = sys.argv[2], sys.argv[3], sys.stdin.read()
event = http_api_event(
    "PUT", f"/ga4gh/trs/v2/tools/{tool_id}", body=body.encode(),
    headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
)
response = handler(event, LocalContext())
sys.exit(0 if response["statusCode"] == 200 else 1)
"""


def test_a_trs_registration_killed_anywhere_is_absent_or_whole(
    tmp_path: Path, call: Caller
) -> None:
    uri = str(tmp_path / "data")
    use_store(uri)
    base = next(iter(omicsgate_tools().values()))
    version = base["versions"][0]
    base = {**base, "versions": [{**version, "id": f"0.{i}", "name": f"0.{i}"} for i in range(8)]}
    tool = base
    token = _writer_token()
    register = [sys.executable, "-c", REGISTER, str(TEMPLATE), token]

    def put(tool_id: str) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [*register, tool_id],
            stdin=subprocess.PIPE,
            env={**os.environ, "OMICSGATE_DATA_URI": uri},
            cwd=ROOT,
        )
        assert process.stdin is not None
        process.stdin.write(json.dumps(tool).encode())
        process.stdin.close()
        return process

    assert put("kept-tool").wait() == 0
    kept = call.get("/ga4gh/trs/v2/tools/kept-tool")

    def check(where: str) -> None:
        use_store(uri)
        assert call.get("/ga4gh/trs/v2/tools/kept-tool") == kept, where
        status, body = call.get("/ga4gh/trs/v2/tools/new-tool")
        if status == 404:
            return
        assert status == 200 and len(body["versions"]) == 8, (where, body)
        for v in body["versions"]:  # every file it names is there
            path = f"/ga4gh/trs/v2/tools/new-tool/versions/{v['id']}/CWL/descriptor"
            assert call.get(path)[0] == 200, (where, v["id"])

    # Each registration of new-tool carries files of its own (a nonce), so its first new
    # file under trs/files/ shows the writer writing: files first, the record last. The
    # kill lands a random moment (up to 2 ms) after that, while the other files are written
    # or just before the record.
    blobs = Path(uri) / "trs" / "files"
    rng = random.Random(SEED)
    killed, mid_write = [], []
    for attempt in range(KILLS):
        tool = with_unique_files(base, f"{SEED}-{attempt}")
        known = set(os.listdir(blobs))
        was_killed = kill_while_writing(
            lambda: put("new-tool"),
            lambda known=frozenset(known): any(
                not name.startswith(".tmp-") for name in set(os.listdir(blobs)) - known
            ),
            rng,
            0.002,
        )
        where = f"seed {SEED}, kill {attempt + 1}"
        check(where)
        if was_killed:
            killed.append(where)
            absent = call.get("/ga4gh/trs/v2/tools/new-tool")[0] == 404
            if absent and set(os.listdir(blobs)) - known:
                mid_write.append(where)  # files written, the tool not there
    assert killed, f"seed {SEED}: every run ended before its kill"
    assert mid_write, f"seed {SEED}: no kill landed between the files and the record"
    tool = with_unique_files(base, f"{SEED}-whole")
    assert put("new-tool").wait() == 0
    check("after a complete registration")
    assert call.get("/ga4gh/trs/v2/tools/new-tool")[0] == 200


def with_unique_files(tool: dict[str, Any], nonce: str) -> dict[str, Any]:
    """The tool with every file of every version made unique (a comment, or a key of the
    JSON test files): 64 new files to write before the record."""
    unique = copy.deepcopy(tool)
    for version in unique["versions"]:
        version["files"] = copy.deepcopy(version["files"])  # versions may share one list
        mark = f"{nonce}-{version['id']}"
        for entry in version["files"]:
            wrapper, path = entry["file_wrapper"], entry["tool_file"]["path"]
            if entry["tool_file"]["file_type"] == "TEST_FILE":
                wrapper["content"] = json.dumps({**json.loads(wrapper["content"]), "nonce": mark})
            else:
                comment = "//" if path.endswith(".nf") else "#"
                wrapper["content"] += f"\n{comment} {mark}\n"
    return unique


def _writer_token() -> str:
    from omicsgate.auth import get_auth
    from omicsgate.localapi.tokens import issue_token

    return issue_token(
        get_auth(), "kill-writer", frozenset(), "trusted", 3600, frozenset({"trs-writer"})
    )
