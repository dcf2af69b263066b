"""`make serve`'s server: real clients over real sockets, the template's handlers behind it.

Every client call has a timeout, so a server that blocks fails a test instead of hanging it.
No test asserts on latency.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
import requests

from tests.conftest import ROOT, TEMPLATE, free_port, wait_for_http
from tests.test_template import SAFELISTED

pytestmark = pytest.mark.integration

ECHO_TEMPLATE = ROOT / "tests" / "fixtures" / "echo" / "template.yaml"
TIMEOUT = 30  # client timeout of every call: far above any answer, far below a hang
ACCESS_LINE = re.compile(r"^(?P<method>[A-Z]+) (?P<target>\S+) (?P<status>\d{3}) \d+\.\d ms$")


def start_server(
    template: Path,
    local_data: str,
    *args: str,
    ready_path: str = "/api/v4/tissueInfo",
    stdout: IO[Any] | int = subprocess.DEVNULL,
    stderr: IO[Any] | int = subprocess.DEVNULL,
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "OMICSGATE_DATA_URI": local_data,
        "OMICSGATE_ANONYMOUS_LIMIT": "100000000",  # the load test must not spend it
    }
    env.pop("OMICSGATE_S3_ENDPOINT", None)
    env.pop("POWERTOOLS_METRICS_DISABLED", None)  # the server must quiet metrics itself
    command = [sys.executable, "-m", "omicsgate.localapi.server", "--template", str(template)]
    process = subprocess.Popen(
        [*command, "--port", str(port), *args], cwd=ROOT, env=env, stdout=stdout, stderr=stderr
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(f"{url}{ready_path}")
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, url


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def echo(local_data: str) -> Iterator[tuple[str, Path]]:
    """The test-only echo function, with a 2 s integration timeout; stderr kept."""
    log = ROOT / ".pytest_cache" / f"echo-server-{os.getpid()}.err"
    log.parent.mkdir(exist_ok=True)
    with open(log, "wb") as stderr:
        process, url = start_server(
            ECHO_TEMPLATE, local_data, "--timeout", "2", ready_path="/echo", stderr=stderr
        )
        try:
            yield url, log
        finally:
            stop(process)
    log.unlink(missing_ok=True)


def fetch(url: str) -> tuple[int, str, dict]:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, response.headers["content-type"], json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers["content-type"], json.load(error)


def raw_request(target: str, extra: str = "") -> bytes:
    return f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def read_response(sock: socket.socket) -> tuple[int, bytes]:
    """One whole response (content-length framed) from a raw socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed mid-response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-body"
        body += chunk
    return int(head.split()[1]), body


# ---------------------------------------------------------------- answers


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
    status, kind, body = fetch(f"{server}/api/v4/notInTheTemplate?geneId=Eno1")
    assert (status, kind) == (404, "application/json")
    assert body == {"message": "Not Found"}


# ---------------------------------------------------------------- real clients, concurrency

Check = Callable[[requests.Response], bool]
ROUTES: list[tuple[str, Check]] = [
    ("/api/v4/tissueInfo", lambda r: r.status_code == 200 and len(r.json()["tissueInfo"]) == 13),
    (
        "/api/v4/gene?geneId=Eno1,Cd300lf",
        lambda r: [g["geneId"] for g in r.json()["gene"]] == ["Eno1", "Cd300lf"],
    ),
    ("/api/v4/exon?geneId=Cd300lf", lambda r: r.status_code == 200 and r.json()["exon"]),
    ("/api/v4/dataset", lambda r: r.status_code == 200),
    ("/gwas/user", lambda r: r.status_code == 401),  # anonymous: a token is needed
    ("/api/v4/variant?variantId=rs1", lambda r: r.status_code == 400),
    ("/api/v4/nothing", lambda r: (r.status_code, r.json()) == (404, {"message": "Not Found"})),
]


def test_sixteen_threads_of_session_pools(server: str) -> None:
    """16 threads, each with its own keep-alive pool, for 3 s over several routes."""
    served: list[int] = []
    failures: list[str] = []
    deadline = time.monotonic() + 3

    def client(offset: int) -> None:
        count = 0
        with requests.Session() as session:
            while time.monotonic() < deadline and not failures:
                path, check = ROUTES[(offset + count) % len(ROUTES)]
                try:
                    response = session.get(server + path, timeout=TIMEOUT)
                    if not check(response):
                        failures.append(f"{path}: {response.status_code} {response.text[:200]}")
                except Exception as error:
                    failures.append(f"{path}: {error!r}")
                count += 1
        served.append(count)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a client hung"
    assert not failures, failures[:5]
    assert len(served) == 16 and all(served), served
    print(f"16 threads served {sum(served)} requests")


def test_the_issues_reproduction(server: str) -> None:
    rs = [
        requests.get(server + p, timeout=TIMEOUT)
        for p in ["/api/v4/gene?geneId=Eno1", "/api/v4/tissueInfo"]
    ]
    assert [r.status_code for r in rs] == [200, 200]


def test_idle_keep_alive_connections_block_nobody(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    # One client sends a request and keeps its connection open; another sends half a request.
    idle = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    half = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    held = requests.Session()
    try:
        idle.sendall(raw_request("/api/v4/dataset"))
        assert read_response(idle)[0] == 200
        half.sendall(b"GET /api/v4/tissueInfo HTTP/1.1\r\nHost: 12")
        kept = held.get(f"{server}/api/v4/gene?geneId=Eno1", timeout=TIMEOUT)
        assert kept.status_code == 200  # its connection stays in the session's pool
        for path in ("/api/v4/tissueInfo", "/api/v4/gene?geneId=Cd300lf"):
            assert requests.get(server + path, timeout=10).status_code == 200
        with httpx.Client(timeout=10) as other:
            assert other.get(f"{server}/api/v4/dataset").status_code == 200
        # The idle connection still works afterwards.
        idle.sendall(raw_request("/api/v4/tissueInfo"))
        assert read_response(idle)[0] == 200
    finally:
        idle.close()
        half.close()
        held.close()


def test_httpx_client(server: str) -> None:
    with httpx.Client(base_url=server, timeout=TIMEOUT) as client:
        response = client.get("/api/v4/gene", params={"geneId": "Eno1,Cd300lf"})
        assert response.status_code == 200
        assert [g["geneId"] for g in response.json()["gene"]] == ["Eno1", "Cd300lf"]
        assert len(client.get("/api/v4/tissueInfo").json()["tissueInfo"]) == 13
        missing = client.get("/api/v4/nothing")
        assert (missing.status_code, missing.json()) == (404, {"message": "Not Found"})


# ---------------------------------------------------------------- API Gateway's limits


def test_a_1_mb_query_string_is_a_json_414_and_the_server_goes_on(server: str) -> None:
    with requests.Session() as session:
        response = session.get(
            f"{server}/api/v4/gene", params={"geneId": "a" * 1_000_000}, timeout=TIMEOUT
        )
        assert response.status_code == 414
        assert response.headers["content-type"] == "application/json"
        assert response.json() == {"message": "Request-URI Too Long"}
        after = session.get(f"{server}/api/v4/tissueInfo", timeout=TIMEOUT)
        assert after.status_code == 200
    assert requests.get(f"{server}/api/v4/dataset", timeout=TIMEOUT).status_code == 200


def test_malformed_http_is_a_json_400(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as sock:
        sock.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        status, body = read_response(sock)
    assert (status, json.loads(body)) == (400, {"message": "Bad Request"})


def test_a_body_over_10_mb_is_a_json_413(server: str) -> None:
    with requests.Session() as session:
        response = session.post(
            f"{server}/api/v4/gene",
            data=b"x" * (11 * 1024 * 1024),
            headers={"content-type": "application/octet-stream"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 413
        assert response.json() == {"message": "Request Entity Too Large"}
        assert session.get(f"{server}/api/v4/dataset", timeout=TIMEOUT).status_code == 200


def test_head_on_a_get_route_is_no_route(server: str) -> None:
    # API Gateway matches the method exactly (or ANY): HEAD finds no GET-only route.
    response = requests.head(f"{server}/api/v4/tissueInfo", timeout=TIMEOUT)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.content == b""
    with httpx.Client(timeout=TIMEOUT) as client:
        assert client.head(f"{server}/api/v4/gene?geneId=Eno1").status_code == 404


def test_options_without_preflight_headers_is_no_route(server: str) -> None:
    response = requests.options(f"{server}/api/v4/gene", timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (404, {"message": "Not Found"})


# ---------------------------------------------------------------- CORS from the template


def test_preflight_is_answered_with_the_configured_cors(server: str) -> None:
    response = requests.options(
        f"{server}/api/v4/gene",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 204
    assert response.content == b""
    headers = response.headers
    assert headers["access-control-allow-origin"] == "*"
    assert set(headers["access-control-allow-methods"].split(",")) == {
        "GET",
        "POST",
        "PUT",  # the TRS write API
        "DELETE",
        "OPTIONS",
        "HEAD",
    }
    assert set(headers["access-control-allow-headers"].split(",")) == {
        "authorization",
        "content-type",
    }
    assert headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in headers


def test_a_request_with_an_origin_gets_cors_headers(server: str) -> None:
    response = requests.get(
        f"{server}/api/v4/tissueInfo", headers={"Origin": "https://example.org"}, timeout=TIMEOUT
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = response.headers["access-control-expose-headers"].split(",")
    assert {"x-allowance-remaining", "x-request-id", "retry-after"} <= set(exposed)
    plain = requests.get(f"{server}/api/v4/tissueInfo", timeout=TIMEOUT)
    assert "access-control-allow-origin" not in plain.headers


# Headers a browser script may read without CORS naming them, and the connection's own.
READABLE_ANYWAY = SAFELISTED | {
    "date",
    "server",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "vary",
    "apigw-requestid",  # API Gateway's own; X-Request-Id carries the same id
}


@pytest.mark.parametrize(
    ("method", "path", "body", "headers", "expected"),
    [
        ("GET", "/api/v4/tissueInfo", None, {}, {"x-allowance-remaining", "x-request-id"}),
        ("GET", "/ga4gh/trs/v2/tools?limit=1", None, {}, {"self_link", "current_limit"}),
        ("GET", "/gwas/gwasinfo", None, {}, {"x-total-count"}),
        ("GET", "/v2/variants/rs12565286/gwas", None, {}, {"deprecation", "sunset", "link"}),
        (
            "GET",
            "/gwas/user",
            None,
            {"Authorization": "Bearer not-a-token"},
            {"www-authenticate"},
        ),
    ],
    ids=["portal", "trs-paging", "gwas-paging", "catalog-deprecated", "refused-token"],
)
def test_a_browser_may_read_every_header_a_route_sends(
    server: str,
    method: str,
    path: str,
    body: dict | None,
    headers: dict[str, str],
    expected: set[str],
) -> None:
    """A cross-origin fetch() sees only the exposed headers: every header the function
    sent must be among them (the paging, allowance, lifecycle and auth headers above)."""
    response = requests.request(
        method,
        f"{server}{path}",
        json=body,
        headers={"Origin": "http://example.org", **headers},
        timeout=TIMEOUT,
    )
    assert response.status_code < 500, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    exposed = set(response.headers["access-control-expose-headers"].split(","))
    sent = {h.lower() for h in response.headers} - READABLE_ANYWAY
    sent = {h for h in sent if not h.startswith("access-control-")}
    assert expected <= sent, sorted(sent)
    assert sent <= exposed, f"unreadable in a browser: {sent - exposed}"


def test_a_preflight_for_a_token_and_json_body_allows_the_write(server: str) -> None:
    """What a browser asks before a TRS write with a token and a JSON body."""
    response = requests.options(
        f"{server}/ga4gh/trs/v2/tools/some-tool",
        headers={
            "Origin": "http://example.org",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 204 and response.content == b""
    assert response.headers["access-control-allow-origin"] == "*"
    assert "PUT" in response.headers["access-control-allow-methods"].split(",")
    allowed = set(response.headers["access-control-allow-headers"].split(","))
    assert {"authorization", "content-type"} <= allowed
    # No function ran: API Gateway answers it, so no allowance was charged.
    assert "x-allowance-remaining" not in response.headers


# ---------------------------------------------------------------- events and responses (echo)


def test_the_event_is_what_api_gateway_sends(echo: tuple[str, Path]) -> None:
    url, _ = echo
    response = requests.post(
        f"{url}/echo?id=a&id=b&x=",
        json={"hello": "world"},
        headers={"Cookie": "session=abc; theme=dark", "X-Many": "1"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    event = response.json()
    assert event["routeKey"] == "ANY /echo"
    assert event["rawQueryString"] == "id=a&id=b&x="
    assert event["queryStringParameters"] == {"id": "a,b", "x": ""}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-many"] == "1"
    assert event["headers"]["x-forwarded-proto"] == "http"  # what the client used, as API GW
    assert (event["isBase64Encoded"], json.loads(event["body"])) == (False, {"hello": "world"})


def test_binary_bodies_are_base64(echo: tuple[str, Path]) -> None:
    url, _ = echo
    response = requests.put(
        f"{url}/echo",
        data=b"\x00\xff",
        headers={"content-type": "application/octet-stream"},
        timeout=TIMEOUT,
    )
    event = response.json()
    assert (event["isBase64Encoded"], event["body"]) == (True, "AP8=")


def test_path_parameters_and_response_cookies(echo: tuple[str, Path]) -> None:
    url, _ = echo
    with httpx.Client(timeout=TIMEOUT) as client:
        response = client.get(f"{url}/items/42")
    assert response.json()["pathParameters"] == {"id": "42"}
    assert response.json()["routeKey"] == "GET /items/{id}"
    assert response.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Path=/; HttpOnly"]
    assert response.headers["x-echo"] == "yes"


def test_cors_replaces_the_functions_headers(echo: tuple[str, Path]) -> None:
    url, _ = echo
    allowed = requests.get(f"{url}/echo", headers={"Origin": "https://app.example"}, timeout=30)
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert allowed.headers["access-control-allow-credentials"] == "true"
    assert allowed.headers["access-control-expose-headers"] == "x-echo"
    other = requests.get(f"{url}/echo", headers={"Origin": "https://evil.example"}, timeout=30)
    assert "access-control-allow-origin" not in other.headers
    preflight = requests.options(
        f"{url}/items/1",
        headers={"Origin": "https://app.example", "Access-Control-Request-Method": "GET"},
        timeout=TIMEOUT,
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "https://app.example"
    assert "echo" not in preflight.text  # no function ran


def test_integration_timeout_is_a_503_and_the_function_gets_a_fresh_environment(
    echo: tuple[str, Path],
) -> None:
    url, log = echo
    stuck = requests.get(f"{url}/echo?sleep=120", timeout=TIMEOUT)
    assert stuck.status_code == 503
    assert stuck.json() == {"message": "Service Unavailable"}
    # Behind the stuck environment this would wait (and time out); a fresh one answers.
    after = requests.get(f"{url}/echo?n=1", timeout=TIMEOUT)
    assert after.status_code == 200
    request_id = stuck.headers["apigw-requestid"]
    assert f"error {request_id}" in log.read_text()


def test_a_failing_function_is_a_json_500_logged_with_its_request_id(
    echo: tuple[str, Path],
) -> None:
    url, log = echo
    response = requests.get(f"{url}/echo?fail=1", timeout=TIMEOUT)
    assert (response.status_code, response.json()) == (500, {"message": "Internal Server Error"})
    text = log.read_text()
    assert f"error {response.headers['apigw-requestid']}" in text
    assert "asked to fail" in text
    assert requests.get(f"{url}/echo", timeout=TIMEOUT).status_code == 200


# ---------------------------------------------------------------- stopping and logging


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly_and_the_log_has_one_line_per_request(
    local_data: str, tmp_path: Path, signum: int
) -> None:
    with open(tmp_path / "out", "wb") as out, open(tmp_path / "err", "wb") as err:
        process, url = start_server(
            TEMPLATE, local_data, ready_path="/ready-probe", stdout=out, stderr=err
        )
        idle = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=30)
        try:
            with requests.Session() as session:
                statuses = [
                    session.get(url + p, timeout=TIMEOUT).status_code
                    for p in ("/api/v4/gene?geneId=Eno1", "/api/v4/nothing", "/gwas/user")
                ]
            idle.sendall(raw_request("/api/v4/dataset"))
            assert read_response(idle)[0] == 200  # kept open while the server stops
            process.send_signal(signum)
            returncode = process.wait(timeout=30)
        finally:
            idle.close()
            if process.poll() is None:
                process.kill()
                process.wait()
    stdout = (tmp_path / "out").read_text()
    stderr = (tmp_path / "err").read_text()
    assert returncode == 0, stderr
    assert "Traceback" not in stderr
    assert "_aws" not in stdout  # no metrics (EMF) JSON
    logged = [m.groupdict() for m in map(ACCESS_LINE.match, stdout.splitlines()) if m]
    lines = [(d["method"], d["target"], int(d["status"])) for d in logged]
    assert ("GET", "/ready-probe", 404) in lines  # wait_for_http's probe (404: no route)
    assert [line for line in lines if line[1] != "/ready-probe"] == [
        ("GET", "/api/v4/gene?geneId=Eno1", statuses[0]),
        ("GET", "/api/v4/nothing", statuses[1]),
        ("GET", "/gwas/user", statuses[2]),
        ("GET", "/api/v4/dataset", 200),
    ]
    assert statuses == [200, 404, 401]
    others = [line for line in stdout.splitlines() if line.strip() and not ACCESS_LINE.match(line)]
    assert all("http://127.0.0.1" in line for line in others), others  # the route banner
