"""Every stored API Gateway event, replayed through its function's real handler."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.conftest import PORTAL_DIST, ROOT, Caller
from tests.tokens import user_token

pytestmark = pytest.mark.integration
EVENT_FILES = sorted((ROOT / "events").rglob("*.json"))


@pytest.mark.parametrize("path", EVENT_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_event_replays_to_a_json_200(backend: str, call: Caller, path) -> None:  # type: ignore[no-untyped-def]
    event = json.loads(path.read_text())
    if "authorization" in event["headers"]:
        # Stored events carry a placeholder: tokens expire, events are kept for years.
        event["headers"]["authorization"] = f"Bearer {user_token('alice')}"
    if path.stem == f"{path.parent.name}Openapi":  # a function's own OpenAPI document
        check_openapi_event(call, path.stem, event)
        return
    if path.parent.name == "gwas":
        check_gwas_event(call, path.stem, event)
        return
    if path.parent.name == "rnaget":
        check_rnaget_event(call, path.stem, event)
        return
    if path.parent.name == "trs":
        check_trs_event(call, path.stem, event)
        return
    if path.parent.name == "catalog":
        check_catalog_event(call, path.stem, event)
        return
    if path.parent.name == "portal":
        check_portal_event(call, path.stem, event)
        return
    status, body, headers = call.event(event)
    assert status == 200, body
    assert headers["x-request-id"].startswith("example-")
    # Each API names its top-level key after the resource, but /dyneqtl answers one object
    # (RatGTEx) and its POST (dyneqtlBatch.json) GTEx v2's {data, errors}.
    key = {"dyneqtl": "variantId", "dyneqtlBatch": "data"}.get(path.stem, path.stem)
    assert key in body


def check_openapi_event(call: Caller, stem: str, event: dict) -> None:  # type: ignore[type-arg]
    """The document /docs/ shows: every path it lists is a route of the same function."""
    status, body, headers = call.event(event)
    assert status == 200 and body["openapi"].startswith("3."), body
    assert headers["x-request-id"] == f"example-{stem}"
    function = call.template.route_for("GET", event["rawPath"])[0].function  # type: ignore[index]
    served = {r.path.replace("+}", "}") for r in call.template.routes if r.function == function}
    assert body["paths"] and set(body["paths"]) <= served, set(body["paths"]) - served


def check_portal_event(call: Caller, stem: str, event: dict) -> None:  # type: ignore[type-arg]
    """A bare mount is sent to its folder; a page is the built file (tests/conftest.py
    publishes portal/dist into both stores, as the deploy does)."""
    status, body, headers = call.raw(event)
    assert headers["x-request-id"] == f"example-{stem}"
    path = event["rawPath"]
    if path in ("/portal", "/docs"):
        assert status == 308 and headers["location"] == path + "/", (status, headers)
        return
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8", headers
    if headers.get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    name = path.lstrip("/").removeprefix("portal/") + ("index.html" if path.endswith("/") else "")
    assert body == (PORTAL_DIST / name).read_bytes()


# OpenGWAS answers lists and keyed objects: what each stored event's answer must hold.
GWAS_KEYS = {
    "status": "API__VERSION",
    "gwasinfoAll": "ieu-a-2",
    "gwasinfoFiles": "ieu-a-2",
    "user": "user",
    "ldMatrix": "snplist",
}
GWAS_ITEM_KEYS = {
    "batches": "count",
    "variantsRsid": "_id",
    "variantsChrpos": "query",
    "variantsGene": "query",
    "variantsChrposGet": "_id",
    "variantsAfl2": "AF.EUR",
    "variantsAfl2Snplist": "AF.EUR",
}
GWAS_RSID_LISTS = {"ldClump", "ldReflookup"}  # lists of rsids


def check_gwas_event(call: Caller, stem: str, event: dict) -> None:  # type: ignore[type-arg]
    from urllib.parse import urlsplit

    from omicsgate.localapi.events import LocalContext, response_body
    from omicsgate.settings import get_settings
    from omicsgate.web.signing import api_file_url

    if stem == "file":
        # Stored URLs expire: sign the stored path again, as /gwasinfo/files would.
        study, name = event["pathParameters"]["study_id"], event["pathParameters"]["name"]
        url = api_file_url(get_settings(), "http://127.0.0.1:3000", study, name)
        event["rawQueryString"] = urlsplit(url).query
        event["queryStringParameters"] = dict(
            part.split("=", 1) for part in event["rawQueryString"].split("&")
        )
        handler = call.handler_for(call.template.route_for("GET", event["rawPath"])[0].function)  # type: ignore[index]
        response = handler(event, LocalContext())
        assert response["statusCode"] == 200, response
        assert response_body(response)[:2] == b"\x1f\x8b"  # gzip
        return
    status, body, headers = call.event(event)
    assert status == 200, body
    assert headers["x-request-id"].startswith("example-")
    if stem in GWAS_KEYS:
        assert GWAS_KEYS[stem] in body
    elif stem in GWAS_RSID_LISTS:
        assert isinstance(body, list) and body and all(str(x).startswith("rs") for x in body)
    else:
        assert isinstance(body, list) and body, body
        item = body[0][0] if stem == "variantsChrposGet" else body[0]  # a list per item
        assert GWAS_ITEM_KEYS.get(stem, "id") in item


def check_rnaget_event(call: Caller, stem: str, event: dict) -> None:  # type: ignore[type-arg]
    """RNAget answers bare objects and lists (no top-level key named after the route);
    ``bytes`` routes answer the matrix file itself."""
    if stem.endswith("Bytes"):
        check_rnaget_file(call, event)
        return
    if stem == "ticketFile":
        check_ticket_file(call, event)
        return
    status, body, headers = call.event(event)
    assert status == 200, body
    assert headers["x-request-id"].startswith("example-")
    if stem == "serviceInfo":
        assert body["type"]["artifact"] == "rnaget" and "supported" in body
    elif stem.endswith("Ticket"):
        assert body["url"] and "units" in body and body["fileType"], body
    elif stem.endswith("Formats"):
        assert isinstance(body, list) and "loom" in body and "tsv" in body, body
    elif stem.endswith("Units"):
        assert body == ["TPM"], body
    elif stem in ("project", "study"):
        assert body["id"] == event["rawPath"].rsplit("/", 1)[-1]
    else:
        assert isinstance(body, list) and body, body
        assert all(("filter" if stem.endswith("Filters") else "id") in item for item in body)


def check_rnaget_file(call: Caller, event: dict) -> None:  # type: ignore[type-arg]
    from omicsgate.localapi.events import LocalContext, response_body

    handler = call.handler_for(call.template.route_for("GET", event["rawPath"])[0].function)  # type: ignore[index]
    response = handler(event, LocalContext())
    assert response["statusCode"] == 200, response
    media = response["headers"]["content-type"]
    assert media.startswith(("text/tab-separated-values", "application/vnd.loom")), media
    assert response_body(response), "an empty file"


def check_ticket_file(call: Caller, event: dict) -> None:  # type: ignore[type-arg]
    """Stored URLs expire and name no file of this store: ask for a ticket (the stored
    expression ticket event), then replay the event with the file and query it gives."""
    from urllib.parse import parse_qsl, urlsplit

    ticket = json.loads((ROOT / "events" / "rnaget" / "expressionTicket.json").read_text())
    status, body, _ = call.event(ticket)
    assert status == 200, body
    url = urlsplit(body["url"])
    if not url.path.startswith("/rnaget/files/"):  # on S3: a presigned URL of the object
        import requests

        fetched = requests.get(body["url"], timeout=30)
        assert fetched.status_code == 200 and fetched.content, fetched.text
        assert fetched.headers["content-type"] == "text/tab-separated-values"
        return
    name = url.path.rsplit("/", 1)[-1]
    event["rawPath"] = event["requestContext"]["http"]["path"] = url.path
    event["pathParameters"] = {"name": name}
    event["rawQueryString"] = url.query
    event["queryStringParameters"] = dict(parse_qsl(url.query))
    check_rnaget_file(call, event)


def check_trs_event(call: Caller, stem: str, event: dict) -> None:  # type: ignore[type-arg]
    """The registry is live data: the demo tool and a tool class are registered (through
    the write API) before each event, writes replay with a writer's token, and each answer
    is checked for what its route returns (PLAIN_ files are text, HEAD has no JSON to read)."""
    from omicsgate.localapi.events import LocalContext, response_body
    from tests.trs_data import DEMO_ID, put_demo, trs, writer_token

    put_demo(call)
    assert (
        trs(
            call, "PUT", "/toolClasses/commandlinetool", body={"name": "CLT"}, token=writer_token()
        )[0]
        == 200
    )
    method = event["requestContext"]["http"]["method"]
    if method in ("POST", "PUT", "DELETE"):
        event["headers"]["authorization"] = f"Bearer {writer_token()}"
    response = call.handler_for("TrsFunction")(event, LocalContext())
    body = response_body(response)
    assert response["statusCode"] == 200, body
    assert response["headers"]["x-request-id"] == f"example-{stem}"
    if method != "GET":
        return
    legacy = stem.startswith("legacy")  # the same routes under /api/ga4gh/v2, in TRS 2.0.1
    if legacy:
        stem = stem[len("legacy") :][0].lower() + stem[len("legacy") + 1 :]
    if response["headers"]["content-type"].startswith("text/plain"):  # plain-CWL
        assert stem in ("getDescriptor", "getDescriptorFile") and b"cwlVersion" in body
        return
    answer = json.loads(body)
    if stem == "getServiceInfo":
        version = "2.0.1" if legacy else "2.1.0"
        assert answer["type"] == {"group": "org.ga4gh", "artifact": "trs", "version": version}
    elif stem in ("getTools", "getToolClasses", "getVersions"):
        assert isinstance(answer, list) and answer and all("id" in item for item in answer)
    elif stem in ("getTool", "getVersion"):
        assert answer["id"] == event["rawPath"].rsplit("/", 1)[-1] and "url" in answer
    elif stem in ("getDescriptor", "getDescriptorFile"):
        assert "cwlVersion" in answer["content"] and answer["checksum"][0]["type"] == "sha-256"
    elif stem == "getFiles":
        assert {f["path"] for f in answer} >= {"workflow.cwl", "tools/echo.cwl"}
    else:  # tests and containerfile: FileWrappers
        assert isinstance(answer, list) and len(answer) == 1 and answer[0]["content"], stem
    assert DEMO_ID in event["rawPath"] or stem in ("getServiceInfo", "getTools", "getToolClasses")


def check_catalog_event(call: Caller, stem: str, event: dict) -> None:  # type: ignore[type-arg]
    """Catalog answers are OpenCGA envelopes holding results (the removed /meta/endpoints a
    410 naming its successor, /meta/openapi the OpenAPI document). Tools are the registry's
    live data, as for the TRS events: the test registers its demo tool and asks for it."""
    from tests.trs_data import DEMO_ID, put_demo

    if stem == "toolsInfo":
        put_demo(call)
        _swap_ids(event, DEMO_ID)
    status, body, headers = call.event(event)
    assert headers["x-request-id"] == f"example-{stem}"
    if stem == "metaOpenapi":
        assert status == 200 and "/v2/genes/{ids}/eqtls" in body["paths"], body
        return
    if stem == "metaEndpoints":
        assert status == 410 and body["events"][0]["message"].endswith("use /v2/meta/api")
        return
    assert status == 200, body
    assert body["apiVersion"] == "v2" and len(body["responses"]) == 1, body
    # A gene may have no eQTL in the test data; every other example finds something.
    assert body["responses"][0]["results"] or stem in ("genesEqtls", "genesQtls"), body


def _swap_ids(event: dict, ids: str) -> None:  # type: ignore[type-arg]
    old = event["pathParameters"]["ids"]
    event["rawPath"] = event["rawPath"].replace(old, ids)
    event["requestContext"]["http"]["path"] = event["rawPath"]
    event["pathParameters"]["ids"] = ids
