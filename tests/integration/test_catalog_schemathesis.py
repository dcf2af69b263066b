"""schemathesis against the catalog's own OpenAPI (``/v2/meta/openapi``) and the local API
over the test data: no server error, every answer in a documented status with the
documented envelope and content type, in positive and negative runs. (Its first run found
two 500s: a Link header built from a non-ASCII ID.)

Skipped checks, and why:
- ``unsupported_method``: a method the template does not route is answered by API Gateway
  (here the local API, as API Gateway does: 404), never by the function.
- ``positive_data_acceptance``: two refusals of schema-valid requests are the catalog's
  rules, not mistakes: a ``project`` that names no release the caller may see is a 400
  (as OpenCGA answers an unknown study), and ``silent=true`` over IDs some of which are
  missing answers 400 with the partial results (OpenCGA 4).
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, TEMPLATE
from tests.integration.test_local_api import start_server, stop
from tests.tokens import user_token

pytestmark = pytest.mark.integration
SCHEMATHESIS = ROOT / ".venv-schemathesis" / "bin" / "schemathesis"
SKIPPED = ["unsupported_method", "positive_data_acceptance"]


@pytest.fixture(scope="module")
def catalog(
    local_data: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The local API, and the OpenAPI document it serves, saved for schemathesis."""
    process, url = start_server(TEMPLATE, local_data, ready_path="/v2/meta/ping")
    try:
        with urllib.request.urlopen(f"{url}/v2/meta/openapi", timeout=30) as response:
            document = json.load(response)
        spec = tmp_path_factory.mktemp("catalog-openapi") / "openapi.json"
        spec.write_text(json.dumps(document))
        yield url, spec
    finally:
        stop(process)


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_schemathesis_finds_nothing(catalog: tuple[str, Path], tmp_path: Path, mode: str) -> None:
    if not SCHEMATHESIS.exists():
        pytest.fail("schemathesis is not installed: run the tests with `make test`")
    url, spec = catalog
    token = user_token("schemathesis", tier="trusted")
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            str(spec),
            "--url",
            url,
            "--mode",
            mode,
            "--max-examples",
            "40",
            "--seed",
            "12",
            "--exclude-checks",
            ",".join(SKIPPED),
            "-H",
            f"Authorization: Bearer {token}",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "24/24" in result.stdout  # every documented operation was tested
