"""No endpoint shows a restricted dataset to an anonymous caller or to another group."""

from __future__ import annotations

from pathlib import Path

import pytest

from omicsgate.ingest.demo import write_demo
from tests.conftest import Caller, use_store
from tests.helpers import gtf_records
from tests.leaks import GWAS_PROBES, PROBES, TRS_PROBES, Probe, assert_invisible
from tests.tokens import user_token

pytestmark = pytest.mark.integration
RESTRICTED = "cohort_a_private"
DESCRIPTION = "Cohort A, consented for group use only"


@pytest.fixture(scope="module")
def restricted_release(local_data: str, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """A release only cohort-a may see, built beside the public demo release."""
    from omicsgate.ingest.cli import build_demo_release
    from omicsgate.storage import get_store

    files = write_demo(str(tmp_path_factory.mktemp("private")), genes=60, seed=77)
    use_store(local_data)
    build_demo_release(
        get_store(),
        RESTRICTED,
        files,
        progress=False,
        description=DESCRIPTION,
        groups=frozenset({"cohort-a"}),
    )
    private_genes = [g["gene_name"] for g in gtf_records(files.annotation, "gene")][6:10]
    return [RESTRICTED, DESCRIPTION, *private_genes]


@pytest.fixture
def local(local_data: str) -> str:
    use_store(local_data)
    return local_data


@pytest.mark.parametrize("probe", PROBES, ids=lambda p: p.path)
@pytest.mark.parametrize("who", ["anonymous", "other group"])
def test_restricted_release_is_invisible(
    restricted_release: list[str], local: str, call: Caller, probe: Probe, who: str
) -> None:
    token = None if who == "anonymous" else user_token("olga", {"cohort-b"})
    assert_invisible(call, probe, token, RESTRICTED, "no_such_release", restricted_release)


def test_members_see_the_restricted_release(
    restricted_release: list[str], local: str, call: Caller
) -> None:
    token = user_token("anna", {"cohort-a"})
    from omicsgate.localapi.events import http_api_event

    headers = {"authorization": f"Bearer {token}"}
    status, body, _ = call.event(http_api_event("GET", "/api/v4/dataset", headers=headers))
    assert status == 200
    listed = {d["datasetId"]: d for d in body["dataset"]}
    assert listed[RESTRICTED]["description"] == DESCRIPTION
    assert listed[RESTRICTED]["current"] is False
    gene = restricted_release[2]
    query = f"geneId={gene}&datasetId={RESTRICTED}"
    status, body, _ = call.event(http_api_event("GET", "/api/v4/gene", query, headers=headers))
    assert status == 200 and [g["geneId"] for g in body["gene"]] == [gene]


def test_members_see_the_restricted_rnaget_project(
    restricted_release: list[str], local: str, call: Caller
) -> None:
    """The RNAget probes can see something: a member gets the project and its studies."""
    from omicsgate.localapi.events import http_api_event

    headers = {"authorization": f"Bearer {user_token('anna', {'cohort-a'})}"}
    status, body, _ = call.event(
        http_api_event("GET", f"/rnaget/projects/{RESTRICTED}", headers=headers)
    )
    assert status == 200 and body["description"] == DESCRIPTION
    query = f"parentProjectID={RESTRICTED}"
    status, body, _ = call.event(http_api_event("GET", "/rnaget/studies", query, headers=headers))
    assert status == 200 and f"{RESTRICTED}:IL" in {s["id"] for s in body}


def test_members_see_the_restricted_continuous_signal(
    restricted_release: list[str], local: str, call: Caller
) -> None:
    """The continuous probes can see something: a member gets the restricted release's
    signal by ID and by search, and its study lists it."""
    from omicsgate.localapi.events import http_api_event

    headers = {"authorization": f"Bearer {user_token('anna', {'cohort-a'})}"}
    path = f"/rnaget/continuous/{RESTRICTED}-signal/ticket"
    status, body, _ = call.event(http_api_event("GET", path, headers=headers))
    assert status == 200 and body["studyID"].startswith(f"{RESTRICTED}:"), body
    query = f"format=tsv&projectID={RESTRICTED}"
    event = http_api_event("GET", "/rnaget/continuous/ticket", query, headers=headers)
    status, body, _ = call.event(event)
    assert status == 200 and body["url"], body
    status, body, _ = call.event(
        http_api_event("GET", "/rnaget/continuous/filters", headers=headers)
    )
    assert RESTRICTED in next(f["values"] for f in body if f["filter"] == "projectID")


def test_a_restricted_release_cannot_become_current(
    restricted_release: list[str], local: str
) -> None:
    from omicsgate.storage import RestrictedRelease, get_store
    from omicsgate.storage.writer import publish

    with pytest.raises(RestrictedRelease):
        publish(get_store(), RESTRICTED)
    assert get_store().current_release() != RESTRICTED


def test_leak_check_catches_a_leak(
    restricted_release: list[str], local: str, call: Caller, tmp_path: Path
) -> None:
    """The check itself can fail: the public release's own ID is a 'marker' it finds."""
    from tests.conftest import DEMO_RELEASE

    with pytest.raises(AssertionError):
        assert_invisible(
            call,
            Probe("GET", "/api/v4/dataset"),
            None,
            RESTRICTED,
            "no_such_release",
            [DEMO_RELEASE],
        )


@pytest.mark.parametrize("probe", GWAS_PROBES, ids=lambda p: f"{p.method} {p.path} {p.body}")
@pytest.mark.parametrize("who", ["anonymous", "other group"])
def test_restricted_study_is_invisible(local: str, call: Caller, probe: Probe, who: str) -> None:
    from omicsgate.ingest.demo_gwas import RESTRICTED_GROUP, RESTRICTED_STUDY, SYNTHETIC

    assert RESTRICTED_GROUP != "cohort-b"
    trait = next(t for i, t, *_ in SYNTHETIC if i == RESTRICTED_STUDY)
    token = None if who == "anonymous" else user_token("olga", {"cohort-b"})
    markers = [RESTRICTED_STUDY, trait]
    assert_invisible(call, probe, token, RESTRICTED_STUDY, "demo-a-9", markers)


def test_members_see_the_restricted_study(local: str, call: Caller) -> None:
    """The GWAS probes can see something: a member gets the restricted study's row at the
    variant the PheWAS probes ask for."""
    import json

    from omicsgate.ingest.demo_gwas import RESTRICTED_GROUP, RESTRICTED_STUDY
    from omicsgate.localapi.events import http_api_event

    token = user_token("anna", {RESTRICTED_GROUP})
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    body = json.dumps({"variant": ["rs12565286"], "pval": 1}).encode()
    event = http_api_event("POST", "/gwas/phewas", headers=headers, body=body)
    status, rows, _ = call.event(event)
    assert status == 200 and RESTRICTED_STUDY in {r["id"] for r in rows}


RESTRICTED_TOOL = "cohort-a-pipeline"
TOOL_MARKERS = [RESTRICTED_TOOL, "Cohort A private pipeline", "cohort-a-class"]


@pytest.fixture(scope="module")
def restricted_tool(local_data: str, call: Caller) -> list[str]:
    """A public demo tool, and one only cohort-a may see (its own class too)."""
    from tests.trs_data import put_demo

    use_store(local_data)
    put_demo(call)
    put_demo(
        call,
        RESTRICTED_TOOL,
        groups=["cohort-a"],
        description=TOOL_MARKERS[1],
        organization="Cohort A",
        toolclass={"id": TOOL_MARKERS[2], "name": "Workflow"},
    )
    return TOOL_MARKERS


@pytest.mark.parametrize("probe", TRS_PROBES, ids=lambda p: f"{p.path}?{p.query}")
@pytest.mark.parametrize("who", ["anonymous", "other group"])
def test_restricted_tool_is_invisible(
    restricted_tool: list[str], local: str, call: Caller, probe: Probe, who: str
) -> None:
    token = None if who == "anonymous" else user_token("olga", {"cohort-b"})
    assert_invisible(call, probe, token, RESTRICTED_TOOL, "no-such-tool", restricted_tool)


def test_members_see_the_restricted_tool(
    restricted_tool: list[str], local: str, call: Caller
) -> None:
    """The TRS probes can see something: a member lists and reads the restricted tool."""
    from tests.trs_data import trs

    token = user_token("anna", {"cohort-a"})
    import json

    status, _, body = trs(call, "GET", "/tools", "organization=Cohort", token=token)
    assert status == 200 and [t["id"] for t in json.loads(body)] == [RESTRICTED_TOOL]
    path = f"/tools/{RESTRICTED_TOOL}/versions/1.0/PLAIN_CWL/descriptor/tools/echo.cwl"
    assert trs(call, "GET", path, token=token)[0] == 200
