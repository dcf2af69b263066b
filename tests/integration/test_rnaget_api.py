"""RNAget service-info, projects and studies through the real handler, on a local
directory and on S3 (moto): the demo release as a project with one study per tissue, and
the compliance suite's objects hosted through ``omicsgate ingest rnaget-compliance``
(when ../shared is beside the checkout; read in place)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omicsgate.ingest.cli import main as cli_main
from omicsgate.ingest.demo import DEMO_RELEASE
from omicsgate.ingest.rnaget import COMPLIANCE_PROJECT, COMPLIANCE_STUDY, COMPLIANCE_TAG
from omicsgate.localapi.events import http_api_event
from tests.conftest import SHARED, Caller

pytestmark = pytest.mark.integration
COMPLIANCE_DIR = SHARED / "data" / "rnaget-compliance"
needs_shared = pytest.mark.skipif(
    not (COMPLIANCE_DIR / "project.json").is_file(), reason="../shared is not beside the checkout"
)
MISSING = "nonexistentid9999999999999999999"


@pytest.fixture
def rnaget(backend: str, call: Caller) -> Caller:
    """The backend's store with the compliance objects hosted (ingested once per store,
    through the CLI as a user would)."""
    from omicsgate.ingest.rnaget import has_compliance
    from omicsgate.storage import get_store

    store = get_store()
    if COMPLIANCE_DIR.is_dir() and not has_compliance(store):
        assert (
            cli_main(["--data-uri", backend, "ingest", "rnaget-compliance", str(COMPLIANCE_DIR)])
            == 0
        )
        from omicsgate.rnaget.catalog import forget_hosted

        forget_hosted()
    return call


def get(call: Caller, path: str, query: str = "") -> tuple[int, object]:
    status, body, headers = call.event(http_api_event("GET", f"/rnaget{path}", query))
    assert headers["content-type"] == "application/json"
    return status, body


def test_service_info_is_ga4gh_service_info_with_supported_parts(rnaget: Caller) -> None:
    status, body = get(rnaget, "/service-info")
    assert status == 200
    assert isinstance(body, dict)
    for field in ("id", "name", "type", "organization", "version"):  # service-info 1.0 required
        assert body[field], field
    assert body["type"] == {"group": "org.ga4gh", "artifact": "rnaget", "version": "1.2.0"}
    assert set(body["organization"]) == {"name", "url"}
    assert body["supported"] == {
        "projects": True,
        "studies": True,
        "expressions": True,
        "continuous": True,
    }


def test_the_demo_release_is_a_project(rnaget: Caller) -> None:
    status, project = get(rnaget, f"/projects/{DEMO_RELEASE}")
    assert status == 200
    assert project == {
        "id": DEMO_RELEASE,
        "version": "1.0",
        "name": DEMO_RELEASE,
        "description": "OmicsGate demo data (synthetic)",
        "tags": ["OmicsGate"],
    }
    status, listed = get(rnaget, "/projects")
    assert status == 200 and project in listed  # type: ignore[operator]


def test_each_tissue_with_expression_is_a_study(rnaget: Caller) -> None:
    status, tissues = rnaget.get("/api/v4/tissueInfo")
    assert status == 200
    expressed = [t for t in tissues["tissueInfo"] if t["rnaSeqSampleCount"] > 0]
    assert expressed
    status, studies = get(rnaget, "/studies", f"parentProjectID={DEMO_RELEASE}")
    assert status == 200
    assert isinstance(studies, list)
    assert [s["id"] for s in studies] == [
        f"{DEMO_RELEASE}:{t['tissueSiteDetailId']}" for t in expressed
    ]
    for study, tissue in zip(studies, expressed, strict=True):
        assert study["name"] == tissue["tissueSiteDetail"]
        assert study["parentProjectID"] == DEMO_RELEASE
        assert f"{tissue['rnaSeqSampleCount']} samples" in study["description"]
        status, one = get(rnaget, f"/studies/{study['id']}")
        assert status == 200 and one == study


@pytest.mark.parametrize(
    "path",
    [
        f"/projects/{MISSING}",
        f"/studies/{MISSING}",
        f"/studies/{DEMO_RELEASE}:NoSuchTissue",
        f"/studies/{DEMO_RELEASE}",  # a project ID is not a study ID
        f"/projects/{DEMO_RELEASE}:IL",
        "/projects/..",
    ],
)
def test_unknown_ids_are_404_with_a_message(rnaget: Caller, path: str) -> None:
    status, body = get(rnaget, path)
    assert status == 404
    assert isinstance(body, dict) and set(body) <= {"message", "requestId"}
    assert "could not be found" in body["message"]


@pytest.mark.parametrize("resource", ["projects", "studies"])
def test_filters_list_what_a_search_accepts(rnaget: Caller, resource: str) -> None:
    status, filters = get(rnaget, f"/{resource}/filters")
    assert status == 200
    assert isinstance(filters, list)
    for item in filters:
        assert set(item) == {"filter", "fieldType", "description", "values"}
        assert item["values"], item
        for value in item["values"]:  # every value listed finds something, and only matches
            status, found = get(rnaget, f"/{resource}", f"{item['filter']}={value}")
            assert status == 200 and found, (item["filter"], value)
            for obj in found:  # type: ignore[attr-defined]
                have = obj[item["filter"]]
                assert value in have if isinstance(have, list) else have == value
        status, found = get(rnaget, f"/{resource}", f"{item['filter']}={MISSING}")
        assert status == 200 and found == []
    names = {f["filter"] for f in filters}
    assert {"version", "name", "tags"} <= names
    tags = next(f for f in filters if f["filter"] == "tags")
    assert "OmicsGate" in tags["values"]


@pytest.mark.parametrize("resource", ["projects", "studies"])
def test_search_mistakes_are_400_with_a_message(rnaget: Caller, resource: str) -> None:
    status, body = get(rnaget, f"/{resource}", "colour=blue")
    assert status == 400 and body["message"].startswith("colour: unknown filter")  # type: ignore[index]
    status, body = get(rnaget, f"/{resource}", "version=1.0&version=2.0")
    assert status == 400 and body["message"].startswith("version: given more than once")  # type: ignore[index]


def test_filters_combine(rnaget: Caller) -> None:
    status, found = get(rnaget, "/studies", f"parentProjectID={DEMO_RELEASE}&version=1.0")
    assert status == 200 and found
    status, found = get(rnaget, "/studies", f"parentProjectID={DEMO_RELEASE}&version=2.0")
    assert status == 200 and found == []


@needs_shared
def test_compliance_objects_are_hosted_under_the_suites_ids(rnaget: Caller) -> None:
    shipped = json.loads((COMPLIANCE_DIR / "project.json").read_text())
    status, project = get(rnaget, f"/projects/{COMPLIANCE_PROJECT}")
    assert status == 200
    assert project == {**shipped, "tags": [COMPLIANCE_TAG]}
    status, study = get(rnaget, f"/studies/{COMPLIANCE_STUDY}")
    assert status == 200
    assert study["name"] == "RNAgetTestStudy0"  # type: ignore[index]
    assert study["parentProjectID"] == COMPLIANCE_PROJECT  # type: ignore[index]
    # The suite's own searches: all its filters, each one, and a value nothing has.
    query = f"version=1.0&tags={COMPLIANCE_TAG}&name=RNAgetTestProject0"
    status, found = get(rnaget, "/projects", query)
    assert status == 200 and found == [project]
    status, found = get(rnaget, "/studies", f"tags={COMPLIANCE_TAG}")
    assert status == 200 and found == [study]
    status, found = get(rnaget, "/studies", f"tags={MISSING}&version={MISSING}")
    assert status == 200 and found == []


@needs_shared
def test_ingesting_again_replaces_and_a_bad_directory_is_named(
    rnaget: Caller, backend: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    command = ["--data-uri", backend, "ingest", "rnaget-compliance"]
    assert cli_main([*command, str(COMPLIANCE_DIR)]) == 0
    status, projects = get(rnaget, "/projects", f"tags={COMPLIANCE_TAG}")
    assert status == 200 and [p["id"] for p in projects] == [COMPLIANCE_PROJECT]  # type: ignore[attr-defined]
    (tmp_path / "project.json").write_text('{"id": "a/b"}')
    assert cli_main([*command, str(tmp_path)]) == 2
    assert "project.json:1: field id" in capsys.readouterr().err
