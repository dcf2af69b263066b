"""Warm requests in one process: latency, and what each request asks of TileDB and S3."""

from __future__ import annotations

import json
import os
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from benchmarks.env import TEMPLATE, Moto
from benchmarks.stats import median, p95
from omicsgate.localapi.events import LocalContext, http_api_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]

# TileDB 2.30 has no per-backend S3 counters. Its VFS counters include reads served from its
# read-ahead cache (vfs.read_ahead_cache_size), so they bound the S3 GETs from above; moto's
# access log gives the requests that really went out.
BYTES_KEY = "Context.VFS.read_byte_num"


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    query: str = ""
    target_zero: bool = True  # expected to be answered from memory once warm
    function: str = "ReferenceFunction"
    signed_in: bool = False  # sends a bearer token
    method: str = "GET"
    body: bytes | None = None  # a POST's body, as the stored event has it
    content_type: str = "application/json"  # of the body (ieugwaspy posts forms)
    status: int = 200  # the answer's status (a removed endpoint answers 410)


Handlers = dict[str, Handler]


@contextmanager
def quiet() -> Iterator[None]:
    """Silence the handler: with metrics disabled, powertools still prints an EMF blob (and
    warns) each time 100 unflushed metrics pile up."""
    with open(os.devnull, "w") as sink, redirect_stdout(sink), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No application metrics to publish")
        yield


def load_handlers() -> Handlers:
    """Every function's handler, imported as Lambda would from the template."""
    from omicsgate.localapi.template import load_handler, load_template

    template = load_template(str(TEMPLATE))
    return {name: load_handler(f) for name, f in template.functions.items()}


@lru_cache(maxsize=1)
def bench_token() -> str:
    from omicsgate.auth import get_auth
    from omicsgate.localapi.tokens import issue_token

    return issue_token(get_auth(), "bench", frozenset(), "trusted")


def call(handlers: Handlers, route: Route) -> float:
    """One invocation; its wall time in milliseconds."""
    headers = {"authorization": f"Bearer {bench_token()}"} if route.signed_in else None
    if route.body is not None:
        headers = {**(headers or {}), "content-type": route.content_type}
    event = http_api_event(route.method, route.path, route.query, headers=headers, body=route.body)
    start = time.perf_counter()
    response = handlers[route.function](event, LocalContext())
    elapsed = (time.perf_counter() - start) * 1000
    if response["statusCode"] != route.status:
        raise RuntimeError(f"{route.name}: status {response['statusCode']}: {response}")
    return elapsed


def latency(handlers: Handlers, route: Route, n: int) -> dict[str, float]:
    """Median and p95 of ``n`` calls (make the first call before)."""
    times = [call(handlers, route) for _ in range(n)]
    return {"median_ms": median(times), "p95_ms": p95(times)}


def _tiledb_counters() -> dict[str, int]:
    """Counters summed over every stats object (``stats_dump(json=True)`` keeps only one,
    and fails when nothing was recorded)."""
    from tiledb.main import stats_raw_dump_str

    totals: dict[str, int] = {}
    for stats in json.loads(stats_raw_dump_str() or "[]"):
        for key, value in stats.get("counters", {}).items():
            totals[key] = totals.get(key, 0) + int(value)
    return totals


def vfs_op_keys(counters: dict[str, int]) -> list[str]:
    """VFS operation counters (reads, sizes, existence checks...)."""
    return sorted(
        k
        for k in counters
        if k.startswith("Context.VFS.") and k != BYTES_KEY and k.endswith("_num")
    )


def counted_call(handlers: Handlers, route: Route, moto: Moto) -> dict[str, Any]:
    """One invocation with TileDB stats reset before and read after, and moto's log."""
    import tiledb

    before = len(moto.requests())
    tiledb.stats_reset()
    elapsed_ms = call(handlers, route)
    counters = _tiledb_counters()
    time.sleep(0.02)  # moto logs a request as its status line goes out; let the line land
    served = moto.requests()[before:]
    keys = vfs_op_keys(counters)
    return {
        "ms": elapsed_ms,
        "tiledb_ops": sum(counters[k] for k in keys),
        "tiledb_keys": {k: counters[k] for k in keys},
        "bytes_read": counters.get(BYTES_KEY, 0),
        "s3_requests": len(served),
        "s3_kinds": dict(Counter(_kind(line) for line in served)),
    }


def _kind(request: str) -> str:
    """HEAD, GET (an object, usually a byte range), LIST (ListObjectsV2) or other."""
    method, path = request.split(" ", 1)
    return "LIST" if method == "GET" and "list-type=" in path else method


def s3_requests(handlers: Handlers, route: Route, moto: Moto, n: int) -> dict[str, Any]:
    """The first request of a fresh store, then ``n`` warm ones (mean and max per request)."""
    import tiledb

    tiledb.stats_enable()
    try:
        first = counted_call(handlers, route, moto)
        warm = [counted_call(handlers, route, moto) for _ in range(n)]
    finally:
        tiledb.stats_disable()
    return {"first": first, "warm": _warm_summary(warm)}


def _warm_summary(warm: list[dict[str, Any]]) -> dict[str, Any]:
    keys = sorted({k for w in warm for k in w["tiledb_keys"]})
    return {
        "s3_requests_mean": sum(w["s3_requests"] for w in warm) / len(warm),
        "s3_requests_max": max(w["s3_requests"] for w in warm),
        "tiledb_ops_mean": sum(w["tiledb_ops"] for w in warm) / len(warm),
        "bytes_read_mean": sum(w["bytes_read"] for w in warm) / len(warm),
        "tiledb_keys": keys,
    }
