"""Releases built from parts: a draft is invisible until published, a part can be replaced,
a failed or killed part leaves the others, publishing checks the parts agree."""

from __future__ import annotations

import gzip
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from omicsgate.ingest.cli import main
from omicsgate.ingest.demo import DemoFiles, write_demo
from omicsgate.storage import get_store
from tests.conftest import DEMO_RELEASE, Caller, build_release, use_store

pytestmark = pytest.mark.integration
CLI = [sys.executable, "-m", "omicsgate.ingest.cli", "--quiet"]


def reference_args(release: str, files: DemoFiles) -> list[str]:
    return [
        "ingest",
        "reference",
        "--release",
        release,
        "--tissues",
        files.tissues,
        "--annotation",
        files.annotation,
        "--variants",
        files.variants,
    ]


def expression_args(release: str, files: DemoFiles, **override: str) -> list[str]:
    paths = {
        "gct": files.expression,
        "sample-attributes": files.sample_attributes,
        "subject-phenotypes": files.subject_phenotypes,
        **override,
    }
    args = ["ingest", "expression", "--release", release]
    for name, path in paths.items():
        args += [f"--{name}", path]
    return args


def omicsgate(uri: str, *args: str) -> int:
    return main(["--quiet", "--data-uri", uri, *args])


@pytest.fixture
def store_uri(tmp_path: Path, demo_files: DemoFiles) -> str:
    """A store whose current release is the demo, for drafts to be built beside it."""
    uri = str(tmp_path / "data")
    build_release(uri, demo_files)
    return uri


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_demo(str(tmp_path_factory.mktemp("small")), genes=80, seed=21)


def draft_parts(uri: str, release: str) -> list[str]:
    return sorted(p.stem for p in (Path(uri) / "releases" / release / "draft").glob("*.json"))


def test_a_draft_is_invisible_until_published(
    store_uri: str, small: DemoFiles, call: Caller, capsys: pytest.CaptureFixture[str]
) -> None:
    assert omicsgate(store_uri, *reference_args("v2", small)) == 0
    assert omicsgate(store_uri, *expression_args("v2", small)) == 0
    assert draft_parts(store_uri, "v2") == ["expression", "reference"]
    use_store(store_uri)
    assert get_store().list_releases() == [DEMO_RELEASE]
    status, body = call.get("/api/v4/tissueInfo", "datasetId=v2")
    assert status == 400 and "v2" in body["detail"]
    capsys.readouterr()
    assert omicsgate(store_uri, "releases", "list") == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[0] == f"* {DEMO_RELEASE}"
    assert (
        "  v2 (parts: expression, reference)"
        in listed[listed.index(next(line for line in listed if line.startswith("drafts"))) :]
    )

    assert omicsgate(store_uri, "releases", "publish", "v2") == 0
    assert "published with parts expression, reference (not current)" in capsys.readouterr().out
    use_store(store_uri)
    assert get_store().current_release() == DEMO_RELEASE
    status, body = call.get("/api/v4/tissueInfo", "datasetId=v2")
    assert status == 200 and len(body["tissueInfo"]) == 13
    assert draft_parts(store_uri, "v2") == []


def test_a_published_release_is_immutable(
    store_uri: str, small: DemoFiles, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = Path(store_uri) / "releases" / DEMO_RELEASE / "release.json"
    before = manifest.read_bytes()
    capsys.readouterr()
    assert omicsgate(store_uri, *reference_args(DEMO_RELEASE, small)) == 2
    assert "a published release is immutable" in capsys.readouterr().err
    assert omicsgate(store_uri, "releases", "publish", DEMO_RELEASE) == 2
    assert "already exists" in capsys.readouterr().err
    assert manifest.read_bytes() == before
    assert draft_parts(store_uri, DEMO_RELEASE) == []


def test_a_part_ingested_again_replaces_the_earlier_one(
    store_uri: str, small: DemoFiles, demo_files: DemoFiles, call: Caller
) -> None:
    assert omicsgate(store_uri, *reference_args("v3", demo_files)) == 0
    assert omicsgate(store_uri, *reference_args("v3", small)) == 0
    assert omicsgate(store_uri, "releases", "publish", "v3", "--current") == 0
    use_store(store_uri)
    assert get_store().current_release() == "v3"
    manifest = get_store().manifest("v3")
    assert manifest["tables"]["genes"]["rows"] == 80 + gene_lines_added_by_demo(small)


def gene_lines_added_by_demo(files: DemoFiles) -> int:
    """Genes beyond the requested count (the demo's mitochondrial genes, if any)."""
    with gzip.open(files.annotation, "rt") as handle:
        genes = sum(1 for line in handle if "\tgene\t" in line)
    return genes - 80


def test_a_failed_part_leaves_the_drafts_other_parts(
    store_uri: str, small: DemoFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert omicsgate(store_uri, *reference_args("v4", small)) == 0
    record = Path(store_uri) / "releases" / "v4" / "draft" / "reference.json"
    before = record.read_bytes()
    broken = tmp_path / "broken.gct"
    lines = gzip.decompress(Path(small.expression).read_bytes()).decode().splitlines()
    header, row = lines[2].split("\t"), lines[9].split("\t")
    row[5] = "not-a-number"
    lines[9] = "\t".join(row)
    broken.write_text("\n".join(lines) + "\n")
    assert omicsgate(store_uri, *expression_args("v4", small, gct=str(broken))) == 2
    assert f"{broken}:10: field {header[5]}:" in capsys.readouterr().err
    assert draft_parts(store_uri, "v4") == ["reference"]
    assert record.read_bytes() == before
    attempts = {p.name for p in (Path(store_uri) / "releases" / "v4" / "attempts").iterdir()}
    assert attempts == {json.loads(before)["attempt"].split("/")[-1]}


def test_publishing_lists_what_does_not_fit(
    store_uri: str, small: DemoFiles, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert omicsgate(store_uri, *expression_args("v5", small)) == 0
    capsys.readouterr()
    assert omicsgate(store_uri, "releases", "publish", "v5") == 2
    assert "no reference part" in capsys.readouterr().err

    other = write_demo(str(tmp_path / "other"), genes=40, seed=99)
    assert omicsgate(store_uri, *reference_args("v5", other)) == 0
    assert omicsgate(store_uri, "releases", "publish", "v5") == 2
    err = capsys.readouterr().err
    assert "cannot be published" in err and "genes of the expression part are not" in err
    assert draft_parts(store_uri, "v5") == ["expression", "reference"]  # nothing lost
    assert not (Path(store_uri) / "releases" / "v5" / "release.json").exists()


def test_publishing_nothing_says_so(store_uri: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert omicsgate(store_uri, "releases", "publish", "nothing") == 2
    assert "no draft release 'nothing'" in capsys.readouterr().err


def long_gct(source: str, target: Path, rows: int) -> str:
    """A GCT of ``rows`` genes made of the source's first row, quick to write and slow
    enough to ingest that a kill lands mid-way."""
    lines = gzip.decompress(Path(source).read_bytes()).decode().splitlines()
    values = lines[3].split("\t", 2)[2]
    with target.open("w") as out:
        out.write(f"#1.2\n{rows}\t{len(lines[2].split(chr(9))) - 2}\n{lines[2]}\n")
        for i in range(rows):
            out.write(f"G{i}\tG{i}\t{values}\n")
    return str(target)


def test_a_killed_expression_ingest_leaves_the_reference_part_and_published_releases(
    store_uri: str, small: DemoFiles, tmp_path: Path, call: Caller
) -> None:
    assert omicsgate(store_uri, *reference_args("v6", small)) == 0
    record = Path(store_uri) / "releases" / "v6" / "draft" / "reference.json"
    before = record.read_bytes()
    gct = long_gct(small.expression, tmp_path / "long.gct", rows=6000)
    args = [*CLI, "--data-uri", store_uri, *expression_args("v6", small, gct=gct)]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    attempts = Path(store_uri) / "releases" / "v6" / "attempts"
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if any((a / "expression" / "__fragments").exists() for a in attempts.iterdir()):
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait() == -signal.SIGKILL, "the ingestion ended before it was killed"

    assert draft_parts(store_uri, "v6") == ["reference"]
    assert record.read_bytes() == before
    use_store(store_uri)
    assert get_store().list_releases() == [DEMO_RELEASE]
    status, body = call.get("/api/v4/geneExpression", "geneId=Eno1")
    assert status == 200 and body["geneExpression"]
    # The draft's reference part is whole: it publishes, and serves.
    assert omicsgate(store_uri, "releases", "publish", "v6") == 0
    use_store(store_uri)
    status, body = call.get("/api/v4/gene", "geneId=Eno1&datasetId=v6")
    assert status == 200 and body["gene"][0]["geneId"] == "Eno1"


def test_derived_fields_follow_the_matrix(
    local_data: str, demo_files: DemoFiles, call: Caller
) -> None:
    """rnaSeqSampleCount, expressedGeneCount and statusInTissue[].expressed, computed at
    publish, agree with GTEx's rule applied with numpy to the raw GCT."""
    use_store(local_data)
    matrix, genes, tissue_of = raw_expression(demo_files)
    _, body = call.get("/api/v4/tissueInfo")
    expressed = {}
    for tissue in body["tissueInfo"]:
        columns = tissue_of == tissue["tissueSiteDetailId"]
        assert tissue["rnaSeqSampleCount"] == int(columns.sum())
        flags = (matrix[:, columns] >= 0.1).mean(axis=1) >= 0.2
        assert tissue["expressedGeneCount"] == int(flags.sum())
        expressed[tissue["tissueSiteDetailId"]] = dict(zip(genes, flags.tolist(), strict=True))
    sample = genes[:: max(1, len(genes) // 40)]
    _, body = call.get("/api/v4/gene", "geneId=" + ",".join(sample))
    assert len(body["gene"]) == len(sample)
    for gene in body["gene"]:
        for status in gene["statusInTissue"]:
            assert status["expressed"] == expressed[status["tissueSiteDetailId"]][gene["geneId"]]


def raw_expression(files: DemoFiles) -> tuple[np.ndarray, list[str], np.ndarray]:
    """The demo GCT as numbers, its gene names and each column's tissue."""
    lines = gzip.decompress(Path(files.expression).read_bytes()).decode().splitlines()
    samples = lines[2].split("\t")[2:]
    rows = [line.split("\t") for line in lines[3:]]
    matrix = np.array([row[2:] for row in rows], dtype=np.float64)
    tissue_by_sample = {}
    with open(files.sample_attributes) as handle:
        header = handle.readline().rstrip("\n").split("\t")
        for line in handle:
            cells = dict(zip(header, line.rstrip("\n").split("\t"), strict=True))
            tissue_by_sample[cells["SAMPID"]] = cells["SMTSD"]
    return matrix, [row[0] for row in rows], np.array([tissue_by_sample[s] for s in samples])
