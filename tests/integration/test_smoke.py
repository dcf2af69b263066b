"""infra/smoke.py, the deploy workflow's smoke test, against the local API server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from omicsgate.localapi.template import _CfnLoader
from tests.conftest import ROOT, TEMPLATE, free_port, wait_for_http

pytestmark = pytest.mark.integration
SMOKE = ROOT / "infra" / "smoke.py"


def start_server(data_uri: str, template: Path = TEMPLATE) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "OMICSGATE_DATA_URI": data_uri}
    env.pop("OMICSGATE_S3_ENDPOINT", None)
    command = [sys.executable, "-m", "omicsgate.localapi.server", "--template", str(template)]
    process = subprocess.Popen(
        [*command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for_http(f"{url}/api/v4/dataset")
    return process, url


@pytest.fixture(scope="module")
def server(local_data: str) -> Iterator[str]:
    process, url = start_server(local_data)
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def empty_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stage with no data release: the reference group answers 503."""
    process, url = start_server(str(tmp_path_factory.mktemp("empty")))
    try:
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def smoke(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SMOKE), *args, "--wait", "0.2"],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_checks_one_route_per_function_from_the_template() -> None:
    result = smoke("http://unused", "--list")
    assert result.returncode == 0, result.stderr
    checks = dict(line.split("\t") for line in result.stdout.splitlines())
    with open(TEMPLATE) as handle:
        resources = yaml.load(handle, Loader=_CfnLoader)["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}
    assert set(checks) == functions
    assert checks["ReferenceFunction"] == "GET /api/v4/dataset"
    assert checks["GwasFunction"] == "GET /gwas/user"
    # A route with required parameters is called with its stored event's query string.
    event = json.loads((ROOT / "events" / "expression" / "geneExpression.json").read_text())
    assert checks["ExpressionFunction"] == f"GET /api/v4/geneExpression?{event['rawQueryString']}"


def test_passes_on_a_working_server(server: str) -> None:
    result = smoke(server)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS ReferenceFunction: GET /api/v4/dataset -> 200" in result.stdout
    # /gwas/user needs a token: the function's 401 shows it answers.
    assert "PASS GwasFunction: GET /gwas/user -> 401" in result.stdout
    assert "PASS ExpressionFunction: GET /api/v4/geneExpression?geneId=" in result.stdout


def test_fails_when_nothing_answers() -> None:
    result = smoke(f"http://127.0.0.1:{free_port()}", "--attempts", "2")
    assert result.returncode == 1
    functions = len(smoke("http://unused", "--list").stdout.splitlines())
    assert result.stdout.count("FAIL") == functions, result.stdout
    assert "no answer" in result.stdout


def test_fails_on_a_wrong_base_path(server: str) -> None:
    result = smoke(f"{server}/prod")  # e.g. a named stage prefix: every route is a 404
    assert result.returncode == 1
    assert "-> 404" in result.stdout, result.stdout


def test_fails_when_a_declared_route_is_not_served(server: str, tmp_path: Path) -> None:
    """A template route the deployed functions do not serve (a stale deployment)."""
    text = TEMPLATE.read_text().replace("Path: /api/v4/dataset", "Path: /api/v4/nothingHere")
    template = tmp_path / "template.yaml"
    template.write_text(text)
    result = smoke(server, "--template", str(template))
    assert result.returncode == 1
    assert "FAIL ReferenceFunction: GET /api/v4/nothingHere -> 404" in result.stdout


def test_no_release_fails_unless_allowed(empty_server: str, tmp_path: Path) -> None:
    """A route that reads the current release answers 503 on a stage with no data."""
    # Make /tissueInfo the reference group's first plain GET route (/dataset answers an
    # empty list on an empty stage).
    text = TEMPLATE.read_text().replace("Path: /api/v4/dataset", "Path: /api/v4/dataset/{id}")
    template = tmp_path / "template.yaml"
    template.write_text(text)
    result = smoke(empty_server, "--template", str(template))
    assert result.returncode == 1
    assert "FAIL ReferenceFunction: GET /api/v4/tissueInfo -> 503" in result.stdout, result.stdout
    result = smoke(empty_server, "--template", str(template), "--allow-no-release")
    assert result.returncode == 0, result.stdout
