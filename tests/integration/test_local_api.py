"""`make serve`'s server: real HTTP in, the template's handlers behind it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT, TEMPLATE, free_port, wait_for_http

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def server(local_data: str) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "OMICSGATE_DATA_URI": local_data}
    env.pop("OMICSGATE_S3_ENDPOINT", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "omicsgate.localapi.server",
            "--template",
            str(TEMPLATE),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}/api/v4/tissueInfo")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def fetch(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["content-type"], json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], json.load(error)


def test_serves_tissue_info(server: str) -> None:
    status, kind, body = fetch(f"{server}/api/v4/tissueInfo")
    assert (status, kind) == (200, "application/json")
    assert len(body["tissueInfo"]) == 13


def test_serves_genes_in_request_order(server: str) -> None:
    status, _, body = fetch(f"{server}/api/v4/gene?geneId=Eno1,Cd300lf")
    assert status == 200
    assert [g["geneId"] for g in body["gene"]] == ["Eno1", "Cd300lf"]
    status, _, body = fetch(f"{server}/api/v4/gene?geneId=Cd300lf,Eno1")
    assert [g["geneId"] for g in body["gene"]] == ["Cd300lf", "Eno1"]


def test_bad_request_is_json_naming_the_parameter(server: str) -> None:
    status, kind, body = fetch(f"{server}/api/v4/variant?variantId=rs123")
    assert (status, kind) == (400, "application/json")
    assert body["detail"].startswith("variantId:")


def test_route_missing_from_the_template_is_a_json_404(server: str) -> None:
    status, kind, body = fetch(f"{server}/api/v4/medianGeneExpression?geneId=Eno1")
    assert (status, kind) == (404, "application/json")
    assert body == {"message": "Not Found"}
