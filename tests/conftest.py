"""Fixtures shared by every tier: the template, a moto S3 server, demo releases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from omicsgate.ingest.cli import build_demo_gwas_once
from omicsgate.ingest.demo import DEMO_RELEASE, DemoFiles, write_demo
from omicsgate.ingest.reference import ReferenceInputs
from omicsgate.localapi.devtools import free_port, reset_settings, use_store, wait_for_http
from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from omicsgate.localapi.template import Template, load_handler, load_template
from omicsgate.storage import DataStore, get_store

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TEMPLATE = ROOT / "infra" / "template.yaml"
BUCKET = "omicsgate-test"
PORTAL_DIST = ROOT / "portal" / "dist"

os.environ.update(
    AWS_ACCESS_KEY_ID="testing",
    AWS_SECRET_ACCESS_KEY="testing",
    AWS_DEFAULT_REGION="us-east-1",
    AWS_EC2_METADATA_DISABLED="true",
    POWERTOOLS_METRICS_NAMESPACE="OmicsGateTest",
    POWERTOOLS_METRICS_DISABLED="true",
    POWERTOOLS_LOG_LEVEL="WARNING",
    OMICSGATE_AUTH_DIR=tempfile.mkdtemp(prefix="omicsgate-auth-"),
)
os.environ.pop("AWS_PROFILE", None)


@pytest.fixture(scope="session")
def template() -> Template:
    return load_template(str(TEMPLATE))


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto as a separate process: TileDB's own S3 client hangs on an in-process server."""
    port = free_port()
    moto = shutil.which("moto_server", path=os.path.dirname(sys.executable)) or "moto_server"
    # moto's request recorder (off until a test starts it: test_deploy's role check)
    # writes here, not into the working directory.
    recording = Path(tempfile.mkdtemp(prefix="moto-recorder-")) / "requests.jsonl"
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "MOTO_RECORDER_FILEPATH": str(recording)},
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(endpoint)
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    return write_demo(str(tmp_path_factory.mktemp("demo")), genes=800, seed=11)


def demo_inputs(files: DemoFiles) -> ReferenceInputs:
    return ReferenceInputs(files.tissues, files.annotation, files.variants, files.gene_status)


def build_release(
    data_uri: str,
    files: DemoFiles,
    endpoint: str | None = None,
    release: str = DEMO_RELEASE,
    make_current: bool = True,
) -> None:
    from omicsgate.ingest.cli import build_demo_release
    from omicsgate.storage import get_store

    use_store(data_uri, endpoint)
    build_demo_release(get_store(), release, files, progress=False, make_current=make_current)


def built_store(uri: str, build: Callable[[str], None], endpoint: str | None = None) -> str:
    """A store at ``uri`` (on moto when ``endpoint``) filled once by ``build``, for a
    test module's local and S3 fixtures; the settings are reset afterwards."""
    use_store(uri, endpoint)
    build(uri)
    reset_settings()
    return uri


def built_portal() -> Path:
    """``portal/dist``, built here (``make portal``) when missing."""
    if not (PORTAL_DIST / "index.html").exists():
        if shutil.which("npm") is None:
            pytest.fail("the portal is not built and npm is missing: run make portal")
        subprocess.run(["make", "portal"], cwd=ROOT, check=True)
    return PORTAL_DIST


def publish_site(store: DataStore) -> None:
    """What the deploy does (``aws s3 sync portal/dist <data URI>/portal/``): the built
    site's files under the store's ``portal`` folder, where PortalFunction reads them."""
    dist = built_portal()
    vfs = store.vfs()
    for path in sorted(p for p in dist.rglob("*") if p.is_file() and p.name != ".built"):
        uri = f"{store.root}/portal/{path.relative_to(dist).as_posix()}"
        if not uri.startswith("s3://"):
            os.makedirs(os.path.dirname(uri), exist_ok=True)
        with vfs.open(uri, "wb") as handle:
            handle.write(path.read_bytes())


@pytest.fixture(scope="session")
def local_data(tmp_path_factory: pytest.TempPathFactory, demo_files: DemoFiles) -> str:
    uri = str(tmp_path_factory.mktemp("data"))
    build_release(uri, demo_files)
    build_demo_gwas_once(get_store())
    publish_site(get_store())
    return uri


@pytest.fixture(scope="session")
def s3_data(moto_endpoint: str, demo_files: DemoFiles) -> str:
    uri = f"s3://{BUCKET}/omicsgate"
    build_release(uri, demo_files, moto_endpoint)
    build_demo_gwas_once(get_store())
    publish_site(get_store())
    return uri


@pytest.fixture(scope="module")
def server(local_data: str) -> Iterator[str]:
    """The local API, a real server process, over the test release: its base URL."""
    from tests.integration.test_local_api import start_server, stop

    process, url = start_server(TEMPLATE, local_data)
    try:
        yield url
    finally:
        stop(process)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """Each test runs against a local directory and against S3 on a moto server."""
    if request.param == "s3":
        uri = request.getfixturevalue("s3_data")
        use_store(uri, request.getfixturevalue("moto_endpoint"))
    else:
        uri = request.getfixturevalue("local_data")
        use_store(uri)
    yield uri
    reset_settings()


class Caller:
    """Invokes the template's Lambda handlers with API Gateway v2 events."""

    def __init__(self, template: Template) -> None:
        self.template = template
        self.handlers: dict[str, Any] = {}

    def handler_for(self, function: str) -> Any:
        if function not in self.handlers:
            self.handlers[function] = load_handler(self.template.functions[function])
        return self.handlers[function]

    def event(self, event: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        status, body, headers = self.raw(event)
        assert headers.get("content-type", "").startswith("application/json"), headers
        return status, json.loads(body), headers

    def raw(self, event: dict[str, Any]) -> tuple[int, bytes, dict[str, str]]:
        """Status, body bytes (base64 undone) and headers, whatever the content type."""
        found = self.template.route_for(event["requestContext"]["http"]["method"], event["rawPath"])
        assert found, f"no template route for {event['rawPath']}"
        response = self.handler_for(found[0].function)(event, LocalContext())
        return response["statusCode"], response_body(response), response.get("headers") or {}

    def get(self, path: str, query: str = "") -> tuple[int, Any]:
        status, body, _ = self.event(http_api_event("GET", path, query))
        return status, body


@pytest.fixture(scope="session")
def call(template: Template) -> Caller:
    return Caller(template)


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DataStore]:
    """An empty store of its own, on a local directory and under a fresh S3 prefix, for
    ingestion tests that write parts themselves."""
    from omicsgate.storage import get_store

    if request.param == "s3":
        endpoint = request.getfixturevalue("moto_endpoint")
        use_store(f"s3://{BUCKET}/parts-{uuid.uuid4().hex[:8]}", endpoint)
    else:
        use_store(str(tmp_path / "data"))
    yield get_store()
    reset_settings()


@pytest.fixture
def local_store(tmp_path: Path) -> Iterator[DataStore]:
    from omicsgate.storage import get_store

    use_store(str(tmp_path / "data"))
    yield get_store()
    reset_settings()
