"""trs-cli 0.7.0, the GA4GH TRS Python client (own venv: pydantic<2), against the local API.

trs-cli's models are TRS 2.0.1's with extra fields forbidden, so an answer carrying a field
TRS 2.1 added (ToolVersion.descriptor_type_version, FileWrapper.image_type,
ToolFile.checksum) fails its validation. The legacy base path ``/api/ga4gh/v2`` answers in
TRS 2.0.1's shapes: trs-cli reads every route there (``base_path='api/ga4gh/v2'``), and
the answer models of that path have exactly trs-cli's fields."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from omicsgate.trs import models
from tests.conftest import ROOT, Caller
from tests.trs_data import DEMO_ID, demo_registry_server, demo_tool

pytestmark = pytest.mark.integration
CLIENT_PYTHON = ROOT / ".venv-trs-cli" / "bin" / "python"
LEGACY = "api/ga4gh/v2"

CLIENT = """
import json, sys
from trs_cli import TRSClient

client = TRSClient(uri="http://127.0.0.1", port=int(sys.argv[1]), base_path=sys.argv[2],
                   use_http=True)
what, args = sys.argv[3], sys.argv[4:]

def plain(answer):
    # Every answer a pydantic model of trs-cli (never its Error model), as JSON.
    if isinstance(answer, list):
        return [plain(a) for a in answer]
    if isinstance(answer, str):
        return answer
    return {"model": type(answer).__name__, **json.loads(answer.json(exclude_none=True))}

if what == "descriptor-by-uri":
    uri = f"trs://127.0.0.1/{args[0]}/1.0"  # a TRS URI, resolved by the client
    print(json.dumps(client.get_descriptor(type="PLAIN_CWL", id=uri, accept="text/plain")))
else:
    print(json.dumps(plain(getattr(client, what)(*args))))
"""

FIELDS = """
import json
from pydantic import BaseModel
import trs_cli.models as m
print(json.dumps({name: sorted(getattr(m, name).__fields__) for name in dir(m)
                  if isinstance(getattr(m, name), type) and issubclass(getattr(m, name), BaseModel)
                  and getattr(m, name) is not BaseModel}))
"""


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory, call: Caller) -> Iterator[int]:
    with demo_registry_server(str(tmp_path_factory.mktemp("trs-data")), call) as url:
        yield int(urlsplit(url).port or 0)


def run(*args: str, script: str = CLIENT) -> Any:
    if not CLIENT_PYTHON.exists():
        pytest.fail("trs-cli is not installed: run the tests with `make test`")
    result = subprocess.run(
        [str(CLIENT_PYTHON), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def client(port: int, *args: str, base_path: str = LEGACY) -> Any:
    return run(str(port), base_path, *args)


def test_trs_cli_fetches_a_descriptor_by_its_trs_uri(port: int) -> None:
    (workflow,) = [
        f["file_wrapper"]["content"]
        for f in demo_tool()["versions"][0]["files"]
        if f["tool_file"]["path"] == "workflow.cwl"
    ]
    for base_path in ("ga4gh/trs/v2", LEGACY):
        assert client(port, "descriptor-by-uri", DEMO_ID, base_path=base_path) == workflow


def test_trs_cli_lists_tool_classes(port: int) -> None:
    for base_path in ("ga4gh/trs/v2", LEGACY):
        got = client(port, "get_tool_classes", base_path=base_path)
        assert [c["id"] for c in got] == ["Workflow"]


def test_trs_cli_lists_tools(port: int) -> None:
    tools = client(port, "get_tools")
    assert [(t["model"], t["id"]) for t in tools] == [("Tool", DEMO_ID)]
    (version,) = tools[0]["versions"]
    assert version["descriptor_type"] == ["CWL", "WDL"] and version["containerfile"] is True


def test_trs_cli_reads_every_route_of_the_legacy_base_path(port: int) -> None:
    """Each answer passes trs-cli's TRS 2.0.1 models (extra fields forbidden)."""
    assert client(port, "get_service_info")["model"] == "Service"
    assert client(port, "get_tool", DEMO_ID)["model"] == "Tool"
    assert [v["id"] for v in client(port, "get_versions", DEMO_ID)] == ["1.0"]
    version = client(port, "get_version", DEMO_ID, "1.0")
    assert version["model"] == "ToolVersion" and version["images"][0]["image_name"]
    wrapper = client(port, "get_descriptor", "CWL", DEMO_ID, "1.0")
    assert wrapper["model"] == "FileWrapper" and wrapper["checksum"][0]["type"] == "sha-256"
    files = client(port, "get_files", "CWL", DEMO_ID, "1.0")
    assert {f["model"] for f in files} == {"ToolFile"}
    assert {f["path"] for f in files} == {
        "workflow.cwl",
        "tools/echo.cwl",
        "test.json",
        "Dockerfile",
    }
    assert [t["model"] for t in client(port, "get_tests", "CWL", DEMO_ID, "1.0")] == ["FileWrapper"]
    containerfiles = client(port, "get_containerfiles", DEMO_ID, "1.0")
    assert [c["content"].startswith("FROM") for c in containerfiles] == [True]


def test_trs_cli_refuses_the_2_1_answers_it_does_not_know(port: int) -> None:
    """The reason for the legacy shapes: trs-cli fails on TRS 2.1's added fields."""
    with pytest.raises(AssertionError, match="could not be validated against API schema"):
        client(port, "get_tools", base_path="ga4gh/trs/v2")


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (models.Tool201, "Tool"),
        (models.ToolVersion201, "ToolVersion"),
        (models.FileWrapper201, "FileWrapper"),
        (models.ToolFile201, "ToolFile"),
        (models.ImageData, "ImageData"),
        (models.ToolClass, "ToolClass"),
        (models.Checksum, "Checksum"),
    ],
)
def test_the_legacy_answer_models_have_trs_cli_s_fields(ours: Any, theirs: str) -> None:
    fields = run(script=FIELDS)
    assert sorted(ours.model_fields) == fields[theirs]
