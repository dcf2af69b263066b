"""Route matching and events of the local API."""

from __future__ import annotations

import pytest

from omicsgate.localapi.events import http_api_event
from omicsgate.localapi.template import Route, load_template
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


def test_template_reader_finds_the_reference_routes() -> None:
    template = load_template(str(TEMPLATE))
    paths = {r.path for r in template.routes if r.function == "ReferenceFunction"}
    assert paths == {
        "/api/v4/dataset",
        "/api/v4/tissueInfo",
        "/api/v4/gene",
        "/api/v4/exon",
        "/api/v4/variant",
    }


def test_s3_endpoint_override_uses_path_style() -> None:
    settings = Settings("s3://b/p", "http://127.0.0.1:5000", "eu-west-1", 60, 1000)
    config = tiledb_config(settings)
    assert config["vfs.s3.endpoint_override"] == "127.0.0.1:5000"
    assert config["vfs.s3.scheme"] == "http"
    assert config["vfs.s3.use_virtual_addressing"] == "false"
    assert config["vfs.s3.region"] == "eu-west-1"
