"""trs-cli 0.7.0, the GA4GH TRS Python client (own venv: pydantic<2), against the local API.

trs-cli's models are TRS 2.0.1's with extra fields forbidden, so every answer that carries
a field TRS 2.1 added (ToolVersion.descriptor_type_version, FileWrapper.image_type,
ToolFile.checksum) fails its validation: listing tools is an expected failure below, kept
strict so it is noticed when the client (or the server's answer) changes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from tests.conftest import ROOT, Caller
from tests.trs_data import DEMO_ID, demo_registry_server, demo_tool

pytestmark = pytest.mark.integration
CLIENT_PYTHON = ROOT / ".venv-trs-cli" / "bin" / "python"

CLIENT = """
import json, sys
from trs_cli import TRSClient

client = TRSClient(uri="http://127.0.0.1", port=int(sys.argv[1]), use_http=True)
what = sys.argv[2]
if what == "tools":
    print(json.dumps([tool.id for tool in client.get_tools()]))
elif what == "classes":
    print(json.dumps([c.id for c in client.get_tool_classes()]))
elif what == "descriptor":
    uri = f"trs://127.0.0.1/{sys.argv[3]}/1.0"  # a TRS URI, resolved by the client
    print(json.dumps(client.get_descriptor(type="PLAIN_CWL", id=uri, accept="text/plain")))
"""


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory, call: Caller) -> Iterator[int]:
    with demo_registry_server(str(tmp_path_factory.mktemp("trs-data")), call) as url:
        yield int(urlsplit(url).port or 0)


def client(port: int, *args: str) -> object:
    if not CLIENT_PYTHON.exists():
        pytest.fail("trs-cli is not installed: run the tests with `make test`")
    result = subprocess.run(
        [str(CLIENT_PYTHON), "-c", CLIENT, str(port), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


def test_trs_cli_fetches_a_descriptor_by_its_trs_uri(port: int) -> None:
    (workflow,) = [
        f["file_wrapper"]["content"]
        for f in demo_tool()["versions"][0]["files"]
        if f["tool_file"]["path"] == "workflow.cwl"
    ]
    assert client(port, "descriptor", DEMO_ID) == workflow


def test_trs_cli_lists_tool_classes(port: int) -> None:
    assert client(port, "classes") == ["Workflow"]


@pytest.mark.xfail(
    strict=True,
    reason="trs-cli 0.7.0 forbids TRS 2.1's ToolVersion.descriptor_type_version",
    raises=AssertionError,
)
def test_trs_cli_lists_tools(port: int) -> None:
    assert client(port, "tools") == [DEMO_ID]
