"""Query parameters: repeated keys, and one answer per kind of mistake on every route.

Missing required parameter: 422 with FastAPI's list. Present but naming no ID (empty,
blank, only commas), too many or too long IDs, a single-valued parameter given twice:
400 with a string ``detail`` naming the parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, Query

from omicsgate.ingest.demo import DemoFiles
from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from omicsgate.web import create_app, make_handler
from omicsgate.web.errors import GTEX
from omicsgate.web.params import split_ids
from tests.conftest import DEMO_RELEASE, Caller, reset_settings, use_store
from tests.helpers import vcf_sites

pytestmark = pytest.mark.integration


@pytest.fixture
def local(local_data: str) -> Iterator[str]:
    """The web layer is the same over any store: the local one is enough here."""
    use_store(local_data)
    yield local_data
    reset_settings()


def gene_ids(body: dict[str, Any]) -> list[str]:
    return [g["geneId"] for g in body["gene"]]


def test_repeated_gene_ids_are_a_list_like_commas(local: str, call: Caller) -> None:
    exploded = call.get("/api/v4/gene", "geneId=Eno1&geneId=Cd300lf")
    assert exploded[0] == 200 and gene_ids(exploded[1]) == ["Eno1", "Cd300lf"]
    assert call.get("/api/v4/gene", "geneId=Eno1,Cd300lf") == exploded
    mixed = call.get("/api/v4/gene", "geneId=Actb,Eno1&geneId=&geneId=Cd300lf")
    assert gene_ids(mixed[1]) == ["Actb", "Eno1", "Cd300lf"]


def test_repeated_variant_ids_are_a_list_like_commas(
    local: str, call: Caller, demo_files: DemoFiles
) -> None:
    (c1, p1, *_), (c2, p2, *_) = vcf_sites(demo_files.variants)[10:12]
    first, second = f"{c1}:{p1}", f"{c2}:{p2}"
    exploded = call.get("/api/v4/variant", f"variantId={second}&variantId={first}")
    assert exploded[0] == 200
    ids = [v["variantId"] for v in exploded[1]["variant"]]
    assert ids[0] == second and ids[-1] == first
    assert call.get("/api/v4/variant", f"variantId={second},{first}") == exploded


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/api/v4/gene", f"geneId=Eno1&datasetId=nope&datasetId={DEMO_RELEASE}", "datasetId"),
        ("/api/v4/gene", f"geneId=Eno1&datasetId={DEMO_RELEASE}&datasetId=nope", "datasetId"),
        ("/api/v4/tissueInfo", f"datasetId={DEMO_RELEASE}&datasetId={DEMO_RELEASE}", "datasetId"),
        ("/api/v4/exon", "geneId=Eno1&geneId=Cd300lf", "geneId"),
        ("/api/v4/exon", "geneId=Eno1,Cd300lf", "geneId"),
        ("/api/v4/exon", "geneId=" + "x" * 129, "geneId"),
        ("/api/v4/gene", "geneId=Eno1&datasetId=" + "x" * 65, "datasetId"),
        ("/api/v4/gene", f"geneId=Eno1&datasetId={DEMO_RELEASE},other", "datasetId"),
    ],
)
def test_single_valued_parameters_take_one_value(
    local: str, call: Caller, path: str, query: str, parameter: str
) -> None:
    status, body = call.get(path, query)
    assert status == 400, body
    assert isinstance(body["detail"], str) and body["detail"].startswith(f"{parameter}: ")


# route, the other parameters it needs, the parameter under test, required, a list
PARAMETERS = [
    ("/api/v4/gene", "", "geneId", True, True),
    ("/api/v4/exon", "", "geneId", True, False),
    ("/api/v4/variant", "", "variantId", True, True),
    ("/api/v4/tissueInfo", "", "datasetId", False, False),
    ("/api/v4/gene", "geneId=Eno1", "datasetId", False, False),
    ("/api/v4/exon", "geneId=Eno1", "datasetId", False, False),
    ("/api/v4/variant", "variantId=chr1:1", "datasetId", False, False),
]
GOOD = {"geneId": "Eno1", "variantId": "chr1:1", "datasetId": DEMO_RELEASE}
MISTAKES = {
    "missing": lambda name: "",
    "empty": lambda name: f"{name}=",
    "blank": lambda name: f"{name}=%20",
    "only commas": lambda name: f"{name}=,,",
    "repeated": lambda name: f"{name}={GOOD[name]}&{name}={GOOD[name]}",
}


def expected(mistake: str, required: bool, is_list: bool) -> int:
    if mistake == "missing":
        return 422 if required else 200
    if mistake == "repeated" and is_list:
        return 200
    return 400


@pytest.mark.parametrize("mistake", MISTAKES)
@pytest.mark.parametrize(("path", "others", "name", "required", "is_list"), PARAMETERS)
def test_the_same_mistake_gets_the_same_answer_on_every_route(
    local: str,
    call: Caller,
    path: str,
    others: str,
    name: str,
    required: bool,
    is_list: bool,
    mistake: str,
) -> None:
    query = "&".join(q for q in (others, MISTAKES[mistake](name)) if q)
    status, body = call.get(path, query)
    assert status == expected(mistake, required, is_list), (query, body)
    if status == 422:
        assert body["message"] == f"{name}: Field required"
        assert [d["loc"] for d in body["detail"]] == [["query", name]]
    elif status == 400:
        assert set(body) - {"requestId"} == {"detail"}
        assert isinstance(body["detail"], str) and body["detail"].startswith(f"{name}: ")


def test_a_new_group_gets_the_same_rules(local: str) -> None:
    """The rules live in the shared web layer: any router given to create_app has them."""
    router = APIRouter()

    @router.get("/things")
    def things(
        thing: Annotated[list[str], Query()], size: Annotated[str | None, Query()] = None
    ) -> dict[str, object]:
        return {"things": split_ids(thing, "thing"), "size": size}

    handler = make_handler(create_app("test", GTEX, [router]))

    def get(query: str) -> tuple[int, Any]:
        response = handler(http_api_event("GET", "/things", query), LocalContext())
        return response["statusCode"], json.loads(response_body(response))

    assert get("thing=a&thing=b,c&size=1") == (200, {"things": ["a", "b", "c"], "size": "1"})
    status, body = get("thing=a&size=1&size=2")
    assert (status, body["detail"]) == (400, "size: given more than once; it takes one value")
    assert get("thing=,")[0] == 400
    assert get("size=1")[0] == 422
