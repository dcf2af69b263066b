"""The catalog group (/v2, OpenCGA REST conventions) through its real Lambda handler fed
API Gateway events, on a local directory and on S3 (moto server)."""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

import pytest

from omicsgate.catalog import LIFECYCLE, Stage
from omicsgate.localapi.events import http_api_event
from tests.conftest import DEMO_RELEASE, Caller
from tests.tokens import user_token

pytestmark = pytest.mark.integration
ENVELOPE = {"apiVersion", "time", "params", "events", "responses"}
RESULT = {
    "time",
    "events",
    "numResults",
    "results",
    "resultType",
    "numMatches",
    "numInserted",
    "numUpdated",
    "numDeleted",
    "numErrors",
    "federationNode",
}


def get(
    call: Caller, path: str, query: str = "", token: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return call.event(http_api_event("GET", path, query, headers=headers))


def results(body: dict[str, Any]) -> list[Any]:
    return list(body["responses"][0]["results"])


def ok(call: Caller, path: str, query: str = "") -> dict[str, Any]:
    status, body, _ = get(call, path, query)
    assert status == 200, body
    assert set(body) == ENVELOPE and set(body["responses"][0]) == RESULT, body
    return body


def error_message(body: dict[str, Any]) -> str:
    assert set(body) >= ENVELOPE and body["responses"] == [], body
    (event,) = [e for e in body["events"] if e["type"] == "ERROR"]
    return str(event["message"])


# ------------------------------------------------------------------ IDs


def test_ids_come_back_in_the_order_asked(backend: str, call: Caller) -> None:
    forward = ok(call, "/v2/genes/Eno1,Cd300lf/info")
    backward = ok(call, "/v2/genes/Cd300lf,Eno1/info")
    assert [g["id"] for g in results(forward)] == ["Eno1", "Cd300lf"]
    assert [g["id"] for g in results(backward)] == ["Cd300lf", "Eno1"]
    mixed = ok(call, "/v2/studies/ieu-a-2,ratgtex_v4_demo:IL,demo-a-1/info", "include=id,type")
    assert results(mixed) == [
        {"id": "ieu-a-2", "type": "gwas"},
        {"id": "ratgtex_v4_demo:IL", "type": "expression"},
        {"id": "demo-a-1", "type": "gwas"},
    ]
    assert mixed["responses"][0]["numResults"] == mixed["responses"][0]["numMatches"] == 3


def test_more_than_100_ids_are_refused(backend: str, call: Caller) -> None:
    tissues = [t["id"] for t in results(ok(call, "/v2/tissues/search", "limit=100"))]
    hundred = (tissues + [f"none{i}" for i in range(100)])[:100]
    status, body, _ = get(call, f"/v2/tissues/{','.join(hundred)}/info", "silent=true")
    assert status == 400 and len(results(body)) == len(tissues)  # 100 IDs are read
    status, body, _ = get(call, f"/v2/tissues/{','.join([*hundred, 'IL2'])}/info")
    assert status == 400
    assert "More than 100 IDs are provided" in error_message(body)


def test_duplicate_and_empty_ids_are_refused(backend: str, call: Caller) -> None:
    status, body, _ = get(call, "/v2/genes/Eno1,Cd300lf,Eno1/info", "include=id")
    assert status == 400 and "Provided IDs are not unique" in error_message(body)
    assert body["params"] == {"include": "id"}  # errors echo the options too
    # The OpenAPI's pattern for {ids} refuses an empty ID, as its validation error.
    status, body, _ = get(call, "/v2/genes/Eno1,,Cd300lf/info")
    assert status == 422 and error_message(body).startswith("ids: String should match")


def test_a_missing_id_fails_the_call_unless_silent(backend: str, call: Caller) -> None:
    status, body, _ = get(call, "/v2/samples/nope-1/info")
    assert status == 404 and "Not found or user does not have permissions" in error_message(body)
    first = results(ok(call, "/v2/samples/search", "limit=2&include=id"))
    ids = [first[0]["id"], "nope-1", first[1]["id"], "nope-2"]
    status, body, _ = get(call, f"/v2/samples/{','.join(ids)}/info", "silent=true&include=id")
    # OpenCGA >= 4: any ERROR event makes the status 400, the partial results kept.
    assert status == 400
    response = body["responses"][0]
    assert [r["id"] for r in response["results"]] == [first[0]["id"], first[1]["id"]]
    assert [(e["type"], e["id"]) for e in response["events"]] == [
        ("ERROR", "nope-1"),
        ("ERROR", "nope-2"),
    ]
    assert {e["message"] for e in response["events"]} == {
        "Not found or user does not have permissions."
    }
    assert response["numErrors"] == 2 and response["numResults"] == 2


# ------------------------------------------------------------------ query options


def test_include_and_exclude_nested_fields(backend: str, call: Caller) -> None:
    body = ok(call, "/v2/samples/search", "limit=3&include=id,individual.sex")
    assert all(set(r) == {"id", "individual"} for r in results(body))
    assert all(set(r["individual"]) == {"sex"} for r in results(body))
    body = ok(call, "/v2/samples/search", "limit=3&exclude=individual.ageBracket,project")
    for record in results(body):
        assert "project" not in record and "ageBracket" not in record["individual"]
        assert {"id", "sex"} <= set(record["individual"]) and "study" in record
    # Through a list: each item of statusInTissue keeps only what was asked.
    body = ok(call, "/v2/genes/Eno1/info", "include=id,statusInTissue.tissueSiteDetailId")
    (gene,) = results(body)
    assert set(gene) == {"id", "statusInTissue"} and gene["statusInTissue"]
    assert all(set(s) == {"tissueSiteDetailId"} for s in gene["statusInTissue"])
    body = ok(call, "/v2/studies/ieu-a-2/info", "exclude=gwasinfo.pmid,gwasinfo.author")
    (study,) = results(body)
    assert "pmid" not in study["gwasinfo"] and "author" not in study["gwasinfo"]
    assert study["gwasinfo"]["trait"] == study["trait"]
    for bad in ("a..b", "", "id,", ".id"):
        status, body, _ = get(call, "/v2/genes/Eno1/info", f"include={bad}")
        assert status == 422 and error_message(body).startswith("include: "), bad


def test_limit_skip_and_count_against_num_matches(backend: str, call: Caller) -> None:
    everything = ok(call, "/v2/samples/search", "tissue=IL&count=true&limit=5000&include=id")
    ids = [r["id"] for r in results(everything)]
    total = everything["responses"][0]["numMatches"]
    assert total == len(ids) > 20
    # The same number as the portal's own tissue table says.
    tissue = results(ok(call, "/v2/tissues/IL/info"))[0]
    assert total == tissue["rnaSeqSampleCount"]
    pages = []
    for skip in range(0, total, 7):
        page = ok(
            call, "/v2/samples/search", f"tissue=IL&count=true&limit=7&skip={skip}&include=id"
        )
        response = page["responses"][0]
        assert response["numMatches"] == total and response["numResults"] <= 7
        pages += [r["id"] for r in response["results"]]
    assert pages == ids  # in order, no overlap, nothing left out
    uncounted = ok(call, "/v2/samples/search", "tissue=IL&limit=3")["responses"][0]
    assert uncounted["numMatches"] == -1 and uncounted["numResults"] == 3  # default limit 10
    assert ok(call, "/v2/samples/search", "tissue=IL")["responses"][0]["numResults"] == 10
    none = ok(call, "/v2/samples/search", "tissue=IL&limit=0&count=true")["responses"][0]
    assert none["results"] == [] and none["numMatches"] == total
    past = ok(call, "/v2/samples/search", f"tissue=IL&skip={total}&count=true")["responses"][0]
    assert past["results"] == [] and past["numMatches"] == total
    for bad in ("limit=-1", "limit=5001", "skip=-3", "limit=ten", "count=maybe"):
        status, body, _ = get(call, "/v2/samples/search", bad)
        assert status == 422, bad
        assert body["responses"] == [] and body["events"][0]["type"] == "ERROR"


def test_sort_and_order(backend: str, call: Caller) -> None:
    query = "type=gwas&sort=year&include=id,year&limit=100"
    ascending = results(ok(call, "/v2/studies/search", query))
    years = [s["year"] for s in ascending if s.get("year") is not None]
    assert years == sorted(years) and len(years) >= 2
    descending = results(ok(call, "/v2/studies/search", query + "&order=desc"))
    assert [s["year"] for s in descending if s.get("year") is not None] == sorted(
        years, reverse=True
    )
    genes = results(
        ok(call, "/v2/genes/search", "chromosome=chr1&sort=start&order=desc&limit=50&include=start")
    )
    assert [g["start"] for g in genes] == sorted((g["start"] for g in genes), reverse=True)
    status, _, _ = get(call, "/v2/genes/search", "sort=start&order=sideways")
    assert status == 422


def test_unknown_options_are_errors(backend: str, call: Caller) -> None:
    for path, query in (
        ("/v2/genes/search", "chromosme=chr1"),
        ("/v2/genes/Eno1/info", "limit=3"),  # info takes no paging
        ("/v2/studies/search", "project=demo-a&silent=true"),  # nor does a search silence
        ("/v2/meta/ping", "x=1"),
    ):
        status, body, _ = get(call, path, query)
        assert status == 400, (path, query)
        key = query.split("&")[-1].split("=")[0]
        assert error_message(body).startswith(f"{key}: unknown option"), body


def test_filters_select_and_combine(backend: str, call: Caller) -> None:
    female_il = results(ok(call, "/v2/samples/search", "tissue=IL&sex=female&limit=5000"))
    assert female_il and all(
        s["tissue"] == "IL" and s["individual"]["sex"] == "female" for s in female_il
    )
    trait = results(ok(call, "/v2/studies/search", "trait=body mass&include=id"))
    assert {"id": "ieu-a-2"} in trait
    eno1 = results(ok(call, "/v2/genes/Eno1/info"))[0]
    start, end = eno1["start"] - 100_000, eno1["start"] + 10
    query = f"region={eno1['chromosome']}:{start}-{end}&limit=100"
    region = results(ok(call, "/v2/genes/search", query))
    assert "Eno1" in {g["id"] for g in region}
    assert all(g["start"] <= end and g["end"] >= start for g in region)
    status, body, _ = get(call, "/v2/variants/search", "region=chr1:1-99999999")
    assert status == 400 and "region" in error_message(body)


def test_project_selects_the_release(backend: str, call: Caller) -> None:
    explicit = ok(call, "/v2/tissues/IL/info", f"project={DEMO_RELEASE}")
    assert results(explicit) == results(ok(call, "/v2/tissues/IL/info"))
    assert results(explicit)[0]["project"] == DEMO_RELEASE
    status, body, _ = get(call, "/v2/tissues/IL/info", "project=nope")
    assert status == 400 and error_message(body) == "project: unknown project 'nope'"


# ------------------------------------------------------------------ the same data as the APIs


def test_records_are_the_standard_apis_records(backend: str, call: Caller) -> None:
    """The catalog reads what the portal and OpenGWAS serve, through the same readers."""
    _, portal = call.get("/api/v4/tissueInfo")
    catalog = results(ok(call, "/v2/tissues/search", "limit=5000"))
    assert [{k: v for k, v in t.items() if k not in ("id", "project")} for t in catalog] == (
        portal["tissueInfo"]
    )
    _, genes = call.get("/api/v4/gene", "geneId=Eno1,Cd300lf")
    catalog = results(ok(call, "/v2/genes/Eno1,Cd300lf/info", "exclude=id,project"))
    assert catalog == genes["gene"]
    # A search pages summaries and answers whole records: the same as /gene's.
    searched = results(ok(call, "/v2/genes/search", "hasEqtl=true&limit=7&exclude=id,project"))
    assert len(searched) == 7 and all(g["hasEqtl"] for g in searched)
    _, genes = call.get("/api/v4/gene", "geneId=" + ",".join(g["geneId"] for g in searched))
    assert searched == genes["gene"]
    _, eqtls = call.get("/api/v4/eqtl", "geneId=Cd300lf")
    linked = results(ok(call, "/v2/genes/Cd300lf/eqtls", "limit=5000"))
    assert [(e["tissueSiteDetailId"], e["variantId"]) for e in linked] == [
        (e["tissueSiteDetailId"], e["variantId"]) for e in eqtls["eqtl"]
    ]


def test_variants_are_the_portals_variants(backend: str, call: Caller) -> None:
    """A release variant is one record per locus with every ALT /variant lists there."""
    eno1 = results(ok(call, "/v2/genes/Eno1/info"))[0]
    region = f"{eno1['chromosome']}:{max(1, eno1['start'] - 2_000_000)}-{eno1['start']}"
    found = results(ok(call, "/v2/variants/search", f"region={region}&source=release&limit=20"))
    assert found and all(v["source"] == "release" for v in found)
    ids = [v["id"] for v in found]
    _, portal = call.get("/api/v4/variant", "variantId=" + ",".join(ids))
    alternates: dict[str, list[str]] = {}
    for row in portal["variant"]:
        alternates.setdefault(row["variantId"], []).append(row["alt"])
    assert {v["id"]: v["alternates"] for v in found} == alternates
    info = results(ok(call, f"/v2/variants/{','.join(reversed(ids))}/info"))
    assert info == list(reversed(found))


def test_a_variants_associations_are_opengwas_associations(backend: str, call: Caller) -> None:
    import json

    studies = sorted(
        s["id"] for s in results(ok(call, "/v2/studies/search", "type=gwas&limit=100"))
    )
    event = http_api_event(
        "POST",
        "/gwas/associations",
        headers={"content-type": "application/json"},
        body=json.dumps({"id": studies, "variant": ["rs12565286"], "proxies": 0}).encode(),
    )
    status, rows, _ = call.event(event)
    assert status == 200 and rows
    linked = ok(call, "/v2/variants/rs12565286/associations", "limit=5000&count=true")
    found = results(linked)
    assert linked["responses"][0]["numMatches"] == len(rows)
    assert sorted((r["id"], r["p"]) for r in found) == sorted((r["id"], r["p"]) for r in rows)
    assert {r["variant"] for r in found} == {"rs12565286"}


def test_cross_links(backend: str, call: Caller) -> None:
    samples = ok(call, "/v2/studies/ratgtex_v4_demo:IL/samples", "count=true&limit=5000")
    searched = ok(call, "/v2/samples/search", "tissue=IL&count=true&limit=5000")
    assert results(samples) == results(searched)
    gwas = ok(call, "/v2/studies/ieu-a-2/samples")
    assert results(gwas) == [] and gwas["responses"][0]["events"] == []  # found, no samples
    studies = results(ok(call, "/v2/projects/demo-a/studies", "include=id,project&limit=100"))
    assert studies and {s["project"] for s in studies} == {"demo-a"}
    variant = results(ok(call, "/v2/variants/rs12565286/info"))[0]
    assert variant["source"] == "gwas" and variant["start"] == 721290


# ------------------------------------------------------------------ lifecycle


def _now() -> float:
    return time.time()


@pytest.mark.parametrize("path", sorted(LIFECYCLE))
def test_each_lifecycle_stage(backend: str, call: Caller, path: str) -> None:
    entry = LIFECYCLE[path]
    ids = {"/v2/projects/{ids}/studies": "demo-a", "/v2/variants/{ids}/gwas": "rs12565286"}.get(
        path, "Cd300lf"
    )
    status, body, headers = get(call, path.replace("{ids}", ids))
    successor = entry.replacement.replace("{ids}", ids)
    link = headers["link"]
    assert link.endswith(f'{successor}>; rel="successor-version"'), link
    if entry.stage is Stage.REMOVED:
        assert status == 410 and body["responses"] == []
        assert error_message(body).endswith(f"use {successor}")
        assert "deprecation" not in headers
        return
    assert status == 200, body
    (warning,) = body["events"]
    assert warning["type"] == "WARNING" and successor in warning["message"]
    deprecation = int(headers["deprecation"].lstrip("@"))
    if entry.stage is Stage.WARNING:
        assert deprecation > _now() and "sunset" not in headers  # announced, not yet
    else:
        assert deprecation < _now() < parsedate_to_datetime(headers["sunset"]).timestamp()
    # It answers what its successor answers.
    base, _, query = successor.partition("?")
    replacement = ok(call, base, query)
    assert results(body) == results(replacement)[: len(results(body))] and results(body)


def test_successor_links_are_ascii(backend: str, call: Caller) -> None:
    """An ID outside ASCII goes into the Link header percent-encoded (schemathesis found
    the 500 a raw one made)."""
    status, body, headers = get(call, "/v2/variants/é,rs12565286/gwas", "silent=true")
    assert status == 400 and [e["id"] for e in body["responses"][0]["events"]] == ["é"]
    assert "/v2/variants/%C3%A9,rs12565286/associations>" in headers["link"]
    status, _, headers = get(call, "/v2/projects/þa/studies", "silent=true")
    assert status == 400 and "/v2/studies/search?project=%C3%BEa>" in headers["link"]


def test_openapi_marks_the_lifecycle(backend: str, call: Caller) -> None:
    document = ok_document(call)
    paths = document["paths"]
    for path, entry in LIFECYCLE.items():
        if entry.stage in (Stage.HIDDEN, Stage.REMOVED):
            assert path not in paths, path
        else:
            assert paths[path]["get"].get("deprecated", False) == (
                entry.stage is Stage.DEPRECATED
            ), path
    listed = {e["path"]: e for e in results(ok(call, "/v2/meta/api"))}
    for path, entry in LIFECYCLE.items():
        assert listed[path]["lifecycle"]["status"] == entry.stage.value
        assert listed[path]["lifecycle"]["replacement"] == entry.replacement
    assert listed["/v2/genes/{ids}/eqtls"]["lifecycle"] == {"status": "stable"}
    assert set(listed) == set(paths) | {p for p, e in LIFECYCLE.items() if not e.in_openapi}


def ok_document(call: Caller) -> dict[str, Any]:
    status, document, _ = get(call, "/v2/meta/openapi")
    assert isinstance(document, dict)
    assert status == 200 and document["openapi"].startswith("3.")
    return document


def test_openapi_documents_every_option(backend: str, call: Caller) -> None:
    from omicsgate.catalog import RESOURCES

    document = ok_document(call)
    common = {"include", "exclude", "federated"}
    paging = {"limit", "skip", "count", "sort", "order"}
    for path, item in document["paths"].items():
        if path in ("/v2/meta/openapi",):
            continue
        params = {p["name"]: p for p in item["get"].get("parameters", [])}
        assert all(p.get("description") for p in params.values()), path
        names = set(params)
        if path.startswith("/v2/meta"):
            continue
        assert common <= names, path
        if path.endswith("/info"):
            assert "silent" in names and not paging & names, path
        else:
            assert paging <= names, path
        resource = RESOURCES[path.split("/")[2]]
        if path.endswith("/search"):
            assert set(resource.filters) <= names, path
        if resource.release_scoped:
            assert "project" in names, path
        schema = item["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/RestResponse")
    limit = next(
        p
        for p in document["paths"]["/v2/samples/search"]["get"]["parameters"]
        if p["name"] == "limit"
    )
    assert limit["schema"]["maximum"] == 5000 and limit["schema"]["default"] == 10


# ------------------------------------------------------------------ meta, errors, auth


def test_meta(backend: str, call: Caller) -> None:
    assert results(ok(call, "/v2/meta/ping")) == ["pong"]
    (about,) = results(ok(call, "/v2/meta/about"))
    assert about["apiVersion"] == "v2" and "genes" in about["resources"]
    (status,) = results(ok(call, "/v2/meta/status"))
    assert status == {"releases": "OK", "gwas": "OK", "tools": "OK"}


def test_errors_are_the_envelope(backend: str, call: Caller) -> None:
    status, body, headers = get(call, "/v2/genes/Eno1/info", "", token="not-a-jwt")
    assert status == 401 and body["responses"] == [] and body["events"][0]["code"] == 401
    assert headers["www-authenticate"].startswith("Bearer")


def test_data_routes_charge_the_allowance(backend: str, call: Caller) -> None:
    _, _, headers = get(call, "/v2/genes/Eno1/info")
    assert int(headers["x-allowance-remaining"]) >= 0


def test_members_see_restricted_gwas_studies(backend: str, call: Caller) -> None:
    """The leak probes check absence; members of the group find the study everywhere."""
    from omicsgate.ingest.demo_gwas import RESTRICTED_GROUP, RESTRICTED_STUDY

    token = user_token("anna", {RESTRICTED_GROUP})
    status, body, _ = get(call, f"/v2/studies/{RESTRICTED_STUDY}/info", token=token)
    assert status == 200 and results(body)[0]["id"] == RESTRICTED_STUDY
    status, body, _ = get(call, f"/v2/studies/{RESTRICTED_STUDY}/info")
    assert status == 404
    status, body, _ = get(call, "/v2/variants/rs12565286/associations", "limit=5000", token=token)
    assert RESTRICTED_STUDY in {r["id"] for r in results(body)}
    status, body, _ = get(call, "/v2/variants/rs12565286/associations", "limit=5000")
    assert RESTRICTED_STUDY not in {r["id"] for r in results(body)}
