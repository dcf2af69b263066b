"""Releases built from parts: a draft is invisible until published, a part can be replaced,
a failed or killed part leaves the others, publishing checks the parts agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omicsgate.ingest.cli import main
from omicsgate.ingest.demo import DemoFiles, write_demo
from omicsgate.storage import get_store
from tests.conftest import DEMO_RELEASE, Caller, build_release, use_store

pytestmark = pytest.mark.integration


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
    assert "  v2 (parts: expression, reference)" in listed[listed.index(next(
        line for line in listed if line.startswith("drafts")
    )):]

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
    import gzip

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
    broken.write_text("#1.2\n1\t1\nName\tDescription\tS1\nEno1\tEno1\tnot-a-number\n")
    assert omicsgate(store_uri, *expression_args("v4", small, gct=str(broken))) == 2
    assert f"{broken}:4:" in capsys.readouterr().err
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
