"""Route matching and events of the local API."""

from __future__ import annotations

import asyncio
import base64
import threading
from typing import Any

import pytest

from omicsgate.localapi.events import http_api_event, is_text
from omicsgate.localapi.server import FunctionWorker, _lambda_reply, _oversized
from omicsgate.localapi.template import Cors, Route, load_template
from omicsgate.settings import Settings
from omicsgate.storage._context import tiledb_config
from tests.conftest import TEMPLATE

pytestmark = pytest.mark.unit


def test_path_parameters_and_greedy_proxy() -> None:
    assert Route("GET", "/tools/{id}/versions", "F").matches("GET", "/tools/x/versions") == {
        "id": "x"
    }
    assert Route("GET", "/tools/{id}", "F").matches("GET", "/tools/x/y") is None
    assert Route("ANY", "/files/{proxy+}", "F").matches("POST", "/files/a/b") == {"proxy": "a/b"}
    assert Route("GET", "/gene", "F").matches("POST", "/gene") is None


def test_repeated_query_keys_are_joined_like_api_gateway() -> None:
    event = http_api_event("GET", "/api/v4/gene", "geneId=a&geneId=b&x=")
    assert event["queryStringParameters"] == {"geneId": "a,b", "x": ""}
    assert event["rawQueryString"] == "geneId=a&geneId=b&x="


def test_cookies_go_in_the_cookies_list_not_the_headers() -> None:
    event = http_api_event("GET", "/x", headers={"Cookie": "a=1; b=2", "X-Y": "z"})
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"] == {"x-y": "z"}
    assert "cookies" not in http_api_event("GET", "/x")


def test_text_bodies_are_strings_and_binary_bodies_base64() -> None:
    json_event = http_api_event(
        "POST", "/x", headers={"content-type": "application/json"}, body=b'{"a": 1}'
    )
    assert (json_event["body"], json_event["isBase64Encoded"]) == ('{"a": 1}', False)
    binary = http_api_event(
        "POST", "/x", headers={"content-type": "application/octet-stream"}, body=b"\x00\xff"
    )
    assert (binary["body"], binary["isBase64Encoded"]) == ("AP8=", True)
    untyped = http_api_event("POST", "/x", body=b"abc")
    assert base64.b64decode(untyped["body"]) == b"abc" and untyped["isBase64Encoded"]
    not_utf8 = http_api_event("POST", "/x", headers={"content-type": "text/plain"}, body=b"\xff")
    assert not_utf8["isBase64Encoded"]


def test_text_content_types() -> None:
    for kind in ("text/csv", "application/json; charset=utf-8", "application/problem+json"):
        assert is_text(kind), kind
    for kind in ("application/octet-stream", "image/png", "multipart/form-data; boundary=x", ""):
        assert not is_text(kind), kind


def test_template_cors_configuration() -> None:
    cors = load_template(str(TEMPLATE)).cors
    assert cors is not None
    assert cors.allow_origins == ("*",) and not cors.allow_credentials
    assert dict(cors.preflight_headers("https://a.example")) == {
        "access-control-allow-origin": "*",
        "access-control-allow-methods": "GET,POST,PUT,DELETE,OPTIONS,HEAD",
        "access-control-allow-headers": "authorization,content-type",
        "access-control-max-age": "600",
    }
    exposed = dict(cors.response_headers("https://a.example"))["access-control-expose-headers"]
    assert set(exposed.split(",")) == {
        "x-allowance-limit",
        "x-allowance-remaining",
        "x-allowance-reset",
        "x-request-id",
        "retry-after",
        "x-next-cursor",  # GWAS paging
        "x-total-count",
        "next_page",  # TRS /tools paging
        "last_page",
        "self_link",
        "current_offset",
        "current_limit",
        "x-dropped-count",  # GWAS variants left out, proxies unavailable
        "x-dropped-variants",
        "x-dropped-truncated",
        "x-proxies-unavailable",
        "deprecation",  # the catalog's lifecycle marks
        "sunset",
        "link",
        "content-disposition",  # download file names
        "www-authenticate",
    }


def test_cors_with_listed_origins_and_credentials() -> None:
    cors = Cors.from_template(
        {"AllowOrigins": ["https://app.example"], "AllowCredentials": True, "MaxAge": 5}
    )
    assert cors is not None
    assert dict(cors.response_headers("https://app.example")) == {
        "access-control-allow-origin": "https://app.example",
        "vary": "origin",
        "access-control-allow-credentials": "true",
    }
    assert cors.response_headers("https://other.example") == []
    assert cors.preflight_headers("https://other.example") == []
    assert Cors.from_template(True) == Cors(allow_origins=("*",))
    assert Cors.from_template(None) is None


def test_lambda_response_cookies_and_multi_value_headers_become_set_cookie() -> None:
    status, headers, body = _lambda_reply(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "Content-Length": "999"},
            "multiValueHeaders": {"X-Many": ["1", "2"]},
            "cookies": ["a=1", "b=2"],
            "body": "aGk=",
            "isBase64Encoded": True,
        }
    )
    assert status == 201 and body == b"hi"
    assert headers == [
        ("content-type", "text/plain"),
        ("x-many", "1"),
        ("x-many", "2"),
        ("set-cookie", "a=1"),
        ("set-cookie", "b=2"),
    ]
    # Payload 2.0: a response without statusCode is a 200 JSON body.
    assert _lambda_reply({"hello": 1}) == (
        200,
        [("content-type", "application/json")],
        b'{"hello": 1}',
    )


def test_request_line_and_header_limits() -> None:
    assert _oversized("GET", "/x", "a=1", {"host": "h"}) is None
    assert _oversized("GET", "/x", "a" * 10_240, {})[0] == 414  # type: ignore[index]
    assert _oversized("GET", "/x", "", {"x": "a" * 10_240})[0] == 431  # type: ignore[index]


def test_a_function_worker_runs_one_event_at_a_time_with_an_event_loop() -> None:
    running: list[int] = []
    most = []
    release = threading.Event()

    def handler(event: dict[str, Any], context: Any) -> Any:
        running.append(1)
        most.append(len(running))
        asyncio.get_event_loop()  # Mangum needs one in the worker thread
        release.wait(10)
        running.pop()
        return event["n"]

    worker = FunctionWorker("F", handler)
    futures = [worker.submit({"n": n}, None) for n in range(3)]
    release.set()
    assert [f.result(timeout=10) for f in futures] == [0, 1, 2]
    assert max(most) == 1
    assert worker.thread.daemon  # a stuck handler never blocks the server's exit


def test_a_retired_worker_hands_over_its_waiting_events() -> None:
    release = threading.Event()
    worker = FunctionWorker("F", lambda event, context: release.wait(10) and event)
    first = worker.submit({"n": 0}, None)
    waiting = worker.submit({"n": 1}, None)
    for _ in range(100):  # until the first event is running
        if first.running():
            break
        threading.Event().wait(0.05)
    handed = worker.retire()
    assert [job[1] for job in handed] == [{"n": 1}]
    fresh = FunctionWorker("F", lambda event, context: event)
    for job in handed:
        fresh.jobs.put(job)
    assert waiting.result(timeout=10) == {"n": 1}
    release.set()
    assert first.result(timeout=10) == {"n": 0}
    worker.thread.join(timeout=10)
    assert not worker.thread.is_alive()


def test_template_reader_finds_the_reference_routes() -> None:
    template = load_template(str(TEMPLATE))
    paths = {r.path for r in template.routes if r.function == "ReferenceFunction"}
    assert paths == {
        "/api/v4/dataset",
        "/api/v4/tissueInfo",
        "/api/v4/gene",
        "/api/v4/exon",
        "/api/v4/variant",
        "/api/v4/reference/openapi.json",
    }


def test_s3_endpoint_override_uses_path_style() -> None:
    settings = Settings("s3://b/p", "http://127.0.0.1:5000", "eu-west-1", 60, 1000)
    config = tiledb_config(settings)
    assert config["vfs.s3.endpoint_override"] == "127.0.0.1:5000"
    assert config["vfs.s3.scheme"] == "http"
    assert config["vfs.s3.use_virtual_addressing"] == "false"
    assert config["vfs.s3.region"] == "eu-west-1"
