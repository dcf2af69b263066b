"""Faults behind the local API: S3, DynamoDB and the JWKS host down, slow, failing; a
missing array; a pointer naming a missing release.

The local API (``make serve``'s server, every template route) runs as its own process on
moto. Between it and moto, and between it and the JWKS host, sit fault proxies
(``tests.fault_proxy``): real sockets that refuse, stall or answer 500/503. Nothing in the
code under test is mocked. Every group must answer each fault with a JSON 503 in its own
error shape carrying ``Retry-After`` (or serve what it still can, unchanged), never an
HTML page or a stack trace, and serve again by itself once the fault clears, within the
release pointer's TTL.
"""

from __future__ import annotations

import base64
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from omicsgate.ingest.demo_trs import seed_registry
from omicsgate.localapi.devtools import free_port, reset_settings, use_store, wait_for_http
from tests.conftest import BUCKET, ROOT, TEMPLATE
from tests.fault_proxy import FaultProxy
from tests.integration.test_local_api import stop
from tests.tokens import claims, signed

pytestmark = pytest.mark.integration

TTL = 3.0  # OMICSGATE_RELEASE_TTL_SECONDS of the server under test
REMOTE_TIMEOUT = 1.0  # OMICSGATE_REMOTE_TIMEOUT_SECONDS: S3, DynamoDB, JWKS
CLIENT_TIMEOUT = 30  # far above any answer here, far below a hang
# Once a fault clears, the first request that can succeed comes within the TTL; the slack
# covers requests already waiting on a stalled connection and this test's polling.
RECOVERY = TTL + 4 * REMOTE_TIMEOUT + 3


@dataclass(frozen=True)
class Probe:
    group: str
    method: str
    path: str
    query: str = ""
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def probe_of(group: str, event_file: str) -> Probe:
    """A request exactly as the stored API Gateway event has it."""
    event = json.loads((ROOT / "events" / group / event_file).read_text())
    body = event.get("body")
    if body is not None:
        body = base64.b64decode(body) if event.get("isBase64Encoded") else body.encode()
    headers = {
        k: v
        for k, v in (event.get("headers") or {}).items()
        if k.lower() in ("content-type", "accept")
    }
    return Probe(
        group,
        event["requestContext"]["http"]["method"],
        event["rawPath"],
        event.get("rawQueryString", ""),
        body,
        headers,
    )


PROBES = [
    probe_of("reference", "gene.json"),
    probe_of("reference", "exon.json"),
    probe_of("reference", "tissueInfo.json"),
    probe_of("reference", "variant.json"),
    probe_of("expression", "geneExpression.json"),
    probe_of("xqtl", "eqtl.json"),
    probe_of("xqtl", "dyneqtl.json"),
    probe_of("gwas", "gwasinfo.json"),
    probe_of("gwas", "associations.json"),
    probe_of("gwas", "tophits.json"),
    probe_of("gwas", "phewas.json"),
    probe_of("gwas", "ldMatrix.json"),  # an LD reference panel
    probe_of("rnaget", "projects.json"),
    # A ticket writes its file to S3 (content-addressed: it checks for it first).
    probe_of("rnaget", "expressionTicket.json"),
    probe_of("trs", "getTools.json"),
    # A descriptor's content is a file in S3 (boto3), its metadata an item in DynamoDB.
    Probe("trs", "GET", "/ga4gh/trs/v2/tools/omicsgate-ingest-gwas/versions/0.1.0/CWL/descriptor"),
    probe_of("catalog", "genesInfo.json"),
    probe_of("catalog", "variantsInfo.json"),
    probe_of("catalog", "toolsSearch.json"),
]


# A probe per group, and the registry's list (DynamoDB faults: each waits out retries).
ONE_EACH = {
    "reference /api/v4/gene",
    "expression /api/v4/geneExpression",
    "xqtl /api/v4/eqtl",
    "gwas /gwas/associations",
    "rnaget /rnaget/projects",
    "trs /ga4gh/trs/v2/tools",
    "catalog /v2/tools/search",
}
# Probes answered from DynamoDB alone (the TRS registry's metadata): served when S3 fails.
NO_S3 = {"trs /ga4gh/trs/v2/tools", "catalog /v2/tools/search"}


def key(probe: Probe) -> str:
    return f"{probe.group} {probe.path}"


def stable(body: Any) -> Any:
    """A body without what changes between two identical requests: the catalog's timings,
    a presigned URL's expiry and signature."""
    if isinstance(body, dict):
        return {
            k: v.partition("?")[0] if k == "url" and isinstance(v, str) else stable(v)
            for k, v in body.items()
            if k != "time"
        }
    if isinstance(body, list):
        return [stable(v) for v in body]
    return body


def error_shape_holds(group: str, status: int, body: Any) -> bool:
    """The group's own error shape (README: 'Errors')."""
    if not isinstance(body, dict):
        return False
    if group in ("reference", "expression", "xqtl"):  # GTEx portal: {"detail"}
        return isinstance(body.get("detail"), str)
    if group in ("gwas", "rnaget"):  # OpenGWAS, RNAget: {"message"}
        return isinstance(body.get("message"), str)
    if group == "trs":  # TRS Error: {"code", "message"}
        return body.get("code") == status and isinstance(body.get("message"), str)
    if group == "catalog":  # OpenCGA RestResponse with an ERROR event
        events = body.get("events") or []
        return any(e.get("type") == "ERROR" and e.get("code") == status for e in events)
    raise AssertionError(group)


@dataclass
class Api:
    url: str
    process: subprocess.Popen[bytes]
    s3: FaultProxy
    dynamodb: FaultProxy
    jwks: FaultProxy
    data_uri: str
    token: str

    def send(self, probe: Probe, signed_in: bool = False) -> requests.Response:
        headers = dict(probe.headers)
        if signed_in:
            headers["Authorization"] = f"Bearer {self.token}"
        target = f"{self.url}{probe.path}" + (f"?{probe.query}" if probe.query else "")
        return requests.request(
            probe.method, target, data=probe.body, headers=headers, timeout=CLIENT_TIMEOUT
        )


def check_answer(probe: Probe, response: requests.Response, healthy: dict[str, Any]) -> str:
    """'served' (the healthy answer, unchanged) or 'unavailable' (a proper 503); anything
    else fails the test with what came back."""
    where = f"{probe.group} {probe.method} {probe.path}"
    assert response.headers.get("content-type", "").startswith("application/json"), (
        where,
        response.status_code,
        response.text[:300],
    )
    text = response.text
    assert "Traceback" not in text and "<html" not in text.lower(), (where, text[:300])
    body = response.json()
    if response.status_code == 200:
        assert stable(body) == healthy[where], f"{where} served something else during the fault"
        return "served"
    assert response.status_code == 503, (where, response.status_code, text[:300])
    assert int(response.headers["Retry-After"]) >= 1, (where, dict(response.headers))
    assert error_shape_holds(probe.group, 503, body), (where, body)
    return "unavailable"


def wait_until_served(api: Api, probe: Probe, healthy: dict[str, Any], signed_in: bool) -> float:
    """Seconds until the probe is answered as before the fault."""
    where = f"{probe.group} {probe.method} {probe.path}"
    start = time.monotonic()
    while True:
        response = api.send(probe, signed_in)
        if response.status_code == 200:
            assert stable(response.json()) == healthy[where], where
            return time.monotonic() - start
        check_answer(probe, response, healthy)
        elapsed = time.monotonic() - start
        assert elapsed < RECOVERY, f"{where} still {response.status_code} after {elapsed:.1f} s"
        time.sleep(0.2)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def jwks_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The issuer's JWKS, published over HTTP as Cognito publishes it."""
    from omicsgate.auth import get_auth

    root = tmp_path_factory.mktemp("issuer")
    signed(claims("warm-up"))  # makes sure the local signing key and its JWKS exist
    jwks = Path(get_auth().settings.auth_dir) / "jwks.json"
    (root / "jwks.json").write_text(jwks.read_text())
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def stack(moto_endpoint: str, s3_data: str) -> Iterator[dict[str, str]]:
    """A copy of the session's S3 release under a prefix of its own (this module damages
    it), a users table, and the TRS registry seeded on DynamoDB: all on moto."""
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    source = s3_data.removeprefix(f"s3://{BUCKET}/") + "/"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=source):
        for item in page.get("Contents", []):
            key = prefix + "/" + item["Key"][len(source) :]
            copied = {"Bucket": BUCKET, "Key": item["Key"]}
            s3.copy_object(Bucket=BUCKET, Key=key, CopySource=copied)
    dynamodb = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    tables = {"users": f"users-{prefix}", "trs": f"trs-{prefix}"}
    for table in tables.values():
        dynamodb.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    env = {
        "OMICSGATE_DATA_URI": f"s3://{BUCKET}/{prefix}",
        "OMICSGATE_USERS_TABLE": tables["users"],
        "OMICSGATE_TRS_TABLE": tables["trs"],
    }
    with pytest.MonkeyPatch.context() as patch:  # the environment as it was, afterwards
        for key, value in {**env, "OMICSGATE_DYNAMODB_ENDPOINT": moto_endpoint}.items():
            patch.setenv(key, value)
        patch.delenv("OMICSGATE_S3_ENDPOINT", raising=False)  # use_store sets it
        use_store(env["OMICSGATE_DATA_URI"], moto_endpoint)
        try:
            seed_registry(str(TEMPLATE))
        finally:
            reset_settings()
    yield env


@pytest.fixture
def api(stack: dict[str, str], moto_endpoint: str, jwks_host: str, tmp_path: Path) -> Iterator[Api]:
    """A fresh local API (cold function environments) behind three healthy proxies."""
    with (
        FaultProxy(moto_endpoint) as s3,
        FaultProxy(moto_endpoint) as dynamodb,
        FaultProxy(jwks_host) as jwks,
    ):
        port = free_port()
        env = {
            **os.environ,
            **stack,
            "OMICSGATE_S3_ENDPOINT": s3.endpoint,
            "OMICSGATE_DYNAMODB_ENDPOINT": dynamodb.endpoint,
            "OMICSGATE_JWKS_URL": f"{jwks.endpoint}/jwks.json",
            "OMICSGATE_AUTH_DIR": str(tmp_path / "no-local-keys"),
            "OMICSGATE_RELEASE_TTL_SECONDS": str(TTL),
            "OMICSGATE_REMOTE_TIMEOUT_SECONDS": str(REMOTE_TIMEOUT),
            "OMICSGATE_ANONYMOUS_LIMIT": "100000000",
        }
        command = [sys.executable, "-m", "omicsgate.localapi.server", "--template", str(TEMPLATE)]
        log = tmp_path / "server.log"
        with open(log, "wb") as stderr:
            process = subprocess.Popen(
                [*command, "--port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{url}/ga4gh/trs/v2/service-info")
            yield Api(url, process, s3, dynamodb, jwks, stack["OMICSGATE_DATA_URI"], token())
        finally:
            stop(process)
        assert "Traceback" not in log.read_text(errors="replace").split("unhandled error")[0]


def token() -> str:
    return signed(claims("fault-tester"))


def healthy_answers(api: Api, signed_in: bool = False) -> dict[str, Any]:
    answers = {}
    for probe in PROBES:
        response = api.send(probe, signed_in)
        assert response.status_code == 200, (probe, response.status_code, response.text[:300])
        answers[f"{probe.group} {probe.method} {probe.path}"] = stable(response.json())
    return answers


def run_fault(
    api: Api, proxy: FaultProxy, mode: str, signed_in: bool = False, probes: list[Probe] = PROBES
) -> dict[str, str]:
    """Every probe during the fault, then every probe served again once it clears."""
    healthy = healthy_answers(api, signed_in)
    proxy.set(mode)
    outcome = {}
    try:
        for probe in probes:
            started = time.monotonic()
            response = api.send(probe, signed_in)
            took = time.monotonic() - started
            # At most 8 remote timeouts (the slowest path here takes 6: a stale pointer's
            # read and existence check, then a read, each tried twice): 24 s at the default
            # 3 s, inside the 28 s Lambda timeout (API Gateway waits 30 s).
            assert took < 8 * REMOTE_TIMEOUT, f"{probe.path} took {took:.1f} s under {mode}"
            outcome[key(probe)] = check_answer(probe, response, healthy)
    finally:
        proxy.set("pass")
    for probe in probes:
        wait_until_served(api, probe, healthy, signed_in)
    return outcome


# --------------------------------------------------------------------------- S3


@pytest.mark.parametrize("mode", ["down", "slow", "500", "503"])
def test_s3_faults_are_503s_or_cached_answers_and_clear_by_themselves(api: Api, mode: str) -> None:
    outcome = run_fault(api, api.s3, mode)
    # What needs S3 and is not held in memory cannot be served; the TRS registry's
    # metadata (DynamoDB) still lists its tools.
    assert all(outcome[k] == "served" for k in NO_S3), outcome
    assert "unavailable" in outcome.values(), outcome


def test_s3_faults_on_cold_functions_are_503s(api: Api) -> None:
    """Nothing read yet, nothing cached: every group that reads S3 answers 503."""
    api.s3.set("down")
    try:
        for probe in PROBES:
            response = api.send(probe)
            if key(probe) in NO_S3:
                assert response.status_code == 200, (probe, response.text)
                continue
            assert response.status_code == 503, (probe, response.status_code, response.text)
            check_answer(probe, response, {})
    finally:
        api.s3.set("pass")
    for probe in PROBES:
        deadline = time.monotonic() + RECOVERY
        while (status := api.send(probe).status_code) != 200:
            assert status == 503 and time.monotonic() < deadline, (probe, status)
            time.sleep(0.2)


# --------------------------------------------------------------------------- DynamoDB


@pytest.mark.parametrize("mode", ["down", "slow", "503"])
def test_dynamodb_faults_are_503s_and_clear_by_themselves(api: Api, mode: str) -> None:
    """Allowances, users and the TRS registry live in DynamoDB: a charged route cannot
    charge (so it does not serve, uncharged), a signed-in caller cannot be looked up."""
    # Each probe waits out botocore's retry: every group when DynamoDB is down, the
    # allowance (reference) and the registry (TRS) when it is slow or failing.
    chosen = ONE_EACH if mode == "down" else {"reference /api/v4/gene", "trs /ga4gh/trs/v2/tools"}
    probes = [p for p in PROBES if key(p) in chosen]
    outcome = run_fault(api, api.dynamodb, mode, signed_in=True, probes=probes)
    assert outcome["trs /ga4gh/trs/v2/tools"] == "unavailable"
    assert outcome["reference /api/v4/gene"] == "unavailable"


# --------------------------------------------------------------------------- JWKS


def test_jwks_host_down_is_a_503_for_tokens_and_anonymous_callers_are_served(api: Api) -> None:
    """A new container cannot check a token while the issuer's keys are unreachable: 503,
    not 401 (the token may be good) nor 500; anonymous callers are served meanwhile."""
    probe = probe_of("reference", "tissueInfo.json")
    api.jwks.set("down")
    try:
        response = api.send(probe, signed_in=True)
        assert response.status_code == 503, response.text
        check_answer(probe, response, {})
        assert api.send(probe).status_code == 200
        api.jwks.set("500")
        assert api.send(probe, signed_in=True).status_code == 503
    finally:
        api.jwks.set("pass")
    assert api.send(probe, signed_in=True).status_code == 200  # no wait: nothing remembered


# --------------------------------------------------------------------------- data


def test_a_missing_array_is_a_503_until_it_is_back(api: Api, moto_endpoint: str) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    bucket, _, root = api.data_uri.removeprefix("s3://").partition("/")
    pointer = json.loads(s3.get_object(Bucket=bucket, Key=f"{root}/current.json")["Body"].read())
    release = pointer["release"]
    manifest_key = f"{root}/releases/{release}/release.json"
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=manifest_key)["Body"].read())
    # Where the store looks for it (DataStore.array_uri): the attempt of the part that
    # wrote it, or the release's data.
    data = manifest["tables"]["exons"].get("data") or manifest.get("data", "")
    prefix = f"{root}/releases/{release}/{data}/exons/".replace("//", "/")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]
    assert keys, prefix
    probe = probe_of("reference", "exon.json")
    kept = {k: s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}
    for key in keys:
        s3.delete_object(Bucket=bucket, Key=key)
    try:
        response = api.send(probe)
        assert response.status_code == 503, response.text
        check_answer(probe, response, {})
        assert api.send(probe_of("reference", "gene.json")).status_code == 200
    finally:
        for key, body in kept.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body)
    assert api.send(probe).status_code == 200  # a failed open is not remembered


def test_a_pointer_naming_a_missing_release_is_a_503_until_repaired(
    api: Api, moto_endpoint: str
) -> None:
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    bucket, _, root = api.data_uri.removeprefix("s3://").partition("/")
    pointer = f"{root}/current.json"
    good = s3.get_object(Bucket=bucket, Key=pointer)["Body"].read()
    healthy = healthy_answers(api)
    s3.put_object(Bucket=bucket, Key=pointer, Body=b'{"release": "vanished"}')
    try:
        time.sleep(TTL + 0.5)  # warm functions re-read the pointer once the TTL is over
        outcome = {}
        for probe in PROBES:
            outcome[key(probe)] = check_answer(probe, api.send(probe), healthy)
        # The portal's groups and the catalog read the current release; GWAS studies, the
        # TRS registry and RNAget's projects do not.
        assert outcome["reference /api/v4/gene"] == "unavailable"
        assert outcome["expression /api/v4/geneExpression"] == "unavailable"
        assert outcome["trs /ga4gh/trs/v2/tools"] == "served"
    finally:
        s3.put_object(Bucket=bucket, Key=pointer, Body=good)
    repaired = time.monotonic()
    for probe in PROBES:
        wait_until_served(api, probe, healthy, signed_in=False)
    assert time.monotonic() - repaired < RECOVERY


def test_a_new_microvm_fetches_the_keys_in_its_first_minute(
    jwks_host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fresh Lambda microVM's monotonic clock can read under 60 s: 'never fetched' must
    not look like 'fetched under a minute ago' (every token was an unknown kid)."""
    from omicsgate.auth import _tokens
    from tests.tokens import local_key

    monkeypatch.setattr(_tokens.time, "monotonic", lambda: 12.0)
    keys = _tokens.JwksKeys(f"{jwks_host}/jwks.json", "/nonexistent", timeout=REMOTE_TIMEOUT)
    _, kid = local_key()
    assert keys.get(kid) is not None
