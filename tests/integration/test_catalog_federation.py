"""Federation with real deployments: two local API servers (``omicsgate.localapi``) over
two data directories, a peer that is down (nothing listens on its port) and one that
accepts connections and never answers. Asked over HTTP as a client would, with requests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from omicsgate import __version__
from omicsgate.ingest.demo import write_demo
from omicsgate.localapi.devtools import free_port, reset_settings, use_store
from tests.conftest import DEMO_RELEASE, TEMPLATE
from tests.integration.test_local_api import start_server, stop

pytestmark = pytest.mark.integration
PEER_RELEASE = "peer_release_v1"
TIMEOUT = 2.0


@pytest.fixture(scope="module")
def peer_data(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Another deployment's data: a release of its own, no GWAS studies, no tools."""
    from omicsgate.ingest.cli import build_demo_release
    from omicsgate.storage import get_store

    files = write_demo(str(tmp_path_factory.mktemp("peer-files")), genes=60, seed=5)
    uri = str(tmp_path_factory.mktemp("peer-data"))
    use_store(uri)
    build_demo_release(get_store(), PEER_RELEASE, files, progress=False)
    reset_settings()
    return uri


@pytest.fixture(scope="module")
def silent_peer() -> Iterator[str]:
    """Accepts connections, reads nothing, answers nothing."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop_event = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop_event.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop_event.set()
        thread.join(timeout=5)
        for connection in held:
            connection.close()
        server.close()


@pytest.fixture(scope="module")
def servers(local_data: str, peer_data: str, silent_peer: str) -> Iterator[dict[str, str]]:
    peer, peer_url = start_server(TEMPLATE, peer_data, ready_path="/v2/meta/ping")
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = {
        "OMICSGATE_CATALOG_PEERS": f"peer={peer_url},down={down},{silent_peer}",
        "OMICSGATE_CATALOG_PEER_TIMEOUT_SECONDS": str(TIMEOUT),
        "OMICSGATE_CATALOG_NODE_ID": "primary",
    }
    with pytest.MonkeyPatch.context() as patch:  # only the server's environment has them
        for key, value in settings.items():
            patch.setenv(key, value)
        primary, url = start_server(TEMPLATE, local_data, ready_path="/v2/meta/ping")
    try:
        yield {"primary": url, "peer": peer_url, "down": down, "silent": silent_peer}
    finally:
        stop(primary)
        stop(peer)


def fetch(session: requests.Session, url: str) -> tuple[int, dict[str, Any], float]:
    started = time.monotonic()
    response = session.get(url, timeout=30)
    return response.status_code, response.json(), time.monotonic() - started


def test_federated_answers_one_response_per_peer(servers: dict[str, str]) -> None:
    with requests.Session() as session:
        status, body, took = fetch(
            session, f"{servers['primary']}/v2/projects/search?federated=true&count=true"
        )
    assert status == 200, body
    local, peer, down, silent = body["responses"]
    assert local["federationNode"]["id"] == "primary" and local["events"] == []
    assert DEMO_RELEASE in {p["id"] for p in local["results"]}
    assert PEER_RELEASE not in {p["id"] for p in local["results"]}
    # The peer's own answer, as it gives it, named and timed by the primary.
    assert peer["federationNode"] == {
        "id": "peer",
        "uri": servers["peer"],
        "version": __version__,  # the peer's own
    }
    assert [p["id"] for p in peer["results"]] == [PEER_RELEASE]
    assert peer["numMatches"] == 1 and peer["resultType"] == "project" and peer["time"] >= 0
    # Failures are events of their responses, never a failed call.
    for failed, node, why in (
        (down, "down", "could not be reached"),
        (silent, servers["silent"].split("//")[1], f"did not answer within {TIMEOUT:g} s"),
    ):
        assert failed["results"] == [] and failed["federationNode"]["id"] == node
        (event,) = failed["events"]
        assert event["type"] == "WARNING" and why in event["message"], event
    assert body["events"] == []
    # The silent peer was waited for once, for the bounded time, not per peer or forever.
    assert TIMEOUT <= took < TIMEOUT + 3, took


def test_without_federated_only_this_deployment_answers(servers: dict[str, str]) -> None:
    body = requests.get(f"{servers['primary']}/v2/projects/search", timeout=30).json()
    assert len(body["responses"]) == 1
    assert body["responses"][0]["federationNode"]["id"] == "primary"


def test_federated_info_and_a_peer_error(servers: dict[str, str]) -> None:
    url = f"{servers['primary']}/v2/tissues/IL/info?federated=true&include=id,project"
    body = requests.get(url, timeout=30).json()
    assert body["responses"][0]["results"] == [{"id": "IL", "project": DEMO_RELEASE}]
    assert body["responses"][1]["results"] == [{"id": "IL", "project": PEER_RELEASE}]
    # A project only the primary has: the peer answers 400, reported as an event.
    url = f"{servers['primary']}/v2/tissues/IL/info?federated=true&project={DEMO_RELEASE}"
    response = requests.get(url, timeout=30)
    assert response.status_code == 200
    peer = response.json()["responses"][1]
    assert peer["results"] == [] and "answered HTTP 400" in peer["events"][0]["message"]
    assert f"unknown project '{DEMO_RELEASE}'" in peer["events"][0]["message"]


def test_concurrent_federated_calls(servers: dict[str, str]) -> None:
    """Four clients at once, each with its own keep-alive session (each call waits out the
    silent peer: the local API runs one event at a time per function, as one Lambda)."""
    url = f"{servers['primary']}/v2/samples/search?federated=true&count=true&limit=1&tissue=IL"

    def client(_: int) -> tuple[int, list[int]]:
        with requests.Session() as session:
            status, body, _took = fetch(session, url)
            return status, [r["numMatches"] for r in body["responses"][:2]]

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(client, range(4)))
    assert {status for status, _ in answers} == {200}
    assert len({tuple(counts) for _, counts in answers}) == 1
    assert all(count > 0 for count in answers[0][1])
