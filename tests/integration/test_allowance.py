"""The allowance: charged before the work, announced in headers, refused with a clear 429."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from omicsgate.localapi.events import http_api_event
from tests.conftest import ROOT, Caller, free_port, reset_settings, wait_for_http
from tests.tokens import user_token

pytestmark = pytest.mark.integration
WINDOW = 86_400


@pytest.fixture
def small_tiers(backend: str) -> Iterator[None]:
    # A day-long window: a test cannot straddle two windows (except at midnight UTC).
    os.environ.update(
        OMICSGATE_TIERS="standard=5,trusted=50",
        OMICSGATE_ANONYMOUS_LIMIT="3",
        OMICSGATE_ALLOWANCE_WINDOW_SECONDS=str(WINDOW),
    )
    reset_settings()
    yield
    for name in (
        "OMICSGATE_TIERS",
        "OMICSGATE_ANONYMOUS_LIMIT",
        "OMICSGATE_ALLOWANCE_WINDOW_SECONDS",
    ):
        os.environ.pop(name)
    reset_settings()


def fresh(name: str) -> str:
    """A user (or IP) no earlier test has spent from: the counters outlive a test."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def request(
    call: Caller, path: str, query: str = "", token: str | None = None, ip: str = "127.0.0.1"
) -> tuple[int, Any, dict[str, str]]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return call.event(http_api_event("GET", path, query, headers=headers, source_ip=ip))


def test_each_charged_response_announces_the_allowance(small_tiers: None, call: Caller) -> None:
    dora = fresh("dora")
    token = user_token(dora, tier="trusted")
    remaining = []
    for _ in range(3):
        status, _, headers = request(call, "/api/v4/tissueInfo", token=token)
        assert status == 200
        assert headers["x-allowance-limit"] == "50"
        assert int(headers["x-allowance-reset"]) % WINDOW == 0
        remaining.append(int(headers["x-allowance-remaining"]))
    assert remaining[1] == remaining[0] - 1 and remaining[2] == remaining[1] - 1


def test_a_request_that_fails_validation_is_not_charged(small_tiers: None, call: Caller) -> None:
    erin = fresh("erin")
    token = user_token(erin, tier="trusted")
    before = int(request(call, "/api/v4/tissueInfo", token=token)[2]["x-allowance-remaining"])
    assert request(call, "/api/v4/gene", "", token)[0] == 422
    assert request(call, "/api/v4/variant", "variantId=rs1", token)[0] == 400
    assert request(call, "/api/v4/gene", "geneId=Eno1&datasetId=nope", token)[0] == 400
    after = int(request(call, "/api/v4/tissueInfo", token=token)[2]["x-allowance-remaining"])
    assert after == before - 1  # only the second tissueInfo was charged


def test_exhausted_allowance_gets_429_with_retry_after(small_tiers: None, call: Caller) -> None:
    fred = fresh("fred")
    token = user_token(fred)
    statuses = [request(call, "/api/v4/tissueInfo", token=token)[0] for _ in range(5)]
    assert statuses == [200] * 5
    status, body, headers = request(call, "/api/v4/tissueInfo", token=token)
    assert status == 429
    assert headers["x-allowance-remaining"] == "0"
    assert 1 <= int(headers["retry-after"]) <= WINDOW
    assert "Allowance: 5" in body["detail"] and "costs 1" in body["detail"]
    assert f"after {headers['retry-after']} seconds" in body["detail"]


def test_anonymous_callers_are_counted_per_ip(small_tiers: None, call: Caller) -> None:
    base = uuid.uuid4().int  # 24 random bits per run: earlier runs' counters never collide
    first, second = (f"10.{base >> 16 & 255}.{base >> 8 & 255}.{i}" for i in (1, 2))
    for _ in range(3):
        assert request(call, "/api/v4/tissueInfo", ip=first)[0] == 200
    assert request(call, "/api/v4/tissueInfo", ip=first)[0] == 429
    status, _, headers = request(call, "/api/v4/tissueInfo", ip=second)
    assert status == 200 and headers["x-allowance-remaining"] == "2"


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.serial_moto", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def dynamodb_users(dynamodb_endpoint: str, local_data: str) -> Iterator[Any]:
    moto_endpoint = dynamodb_endpoint
    client = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    table = f"users-{os.getpid()}"
    client.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    os.environ.update(
        OMICSGATE_USERS_TABLE=table,
        OMICSGATE_DYNAMODB_ENDPOINT=moto_endpoint,
        OMICSGATE_TIERS="standard=25",
        OMICSGATE_ALLOWANCE_WINDOW_SECONDS=str(WINDOW),
        OMICSGATE_DATA_URI=local_data,
    )
    os.environ.pop("OMICSGATE_S3_ENDPOINT", None)
    reset_settings()
    yield client, table
    for name in (
        "OMICSGATE_USERS_TABLE",
        "OMICSGATE_DYNAMODB_ENDPOINT",
        "OMICSGATE_TIERS",
        "OMICSGATE_ALLOWANCE_WINDOW_SECONDS",
    ):
        os.environ.pop(name)
    reset_settings()


def test_40_concurrent_requests_on_dynamodb_spend_exactly_the_allowance(
    dynamodb_users: Any, call: Caller
) -> None:
    client, table = dynamodb_users
    gina = fresh("gina")
    token = user_token(gina)  # registers gina in the DynamoDB table
    assert "Item" in client.get_item(TableName=table, Key={"pk": {"S": f"user#{gina}"}})
    request(call, "/gwas/user", token=token)  # warm both handlers; /gwas/user costs 0
    request(call, "/api/v4/tissueInfo", "datasetId=nope", token)  # 400: not charged
    barrier = threading.Barrier(40)
    statuses: list[int] = []

    def one() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum runs on the thread's loop
        barrier.wait()
        statuses.append(request(call, "/api/v4/tissueInfo", token=token)[0])

    threads = [threading.Thread(target=one) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 25 + [429] * 15
    counters = client.scan(TableName=table)["Items"]
    used = [
        int(i["used"]["N"]) for i in counters if i["pk"]["S"].startswith(f"allowance#user#{gina}")
    ]
    assert used == [25]
