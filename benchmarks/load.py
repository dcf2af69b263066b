"""``make load``: a bounded load test of the local API on moto S3 (not in ``make test``).

python -m benchmarks.load [--clients 32] [--seconds 60]

The demo release (and the demo TRS registry) is built on a moto S3 server, the local API
(``omicsgate.localapi.server``, every route of the template) serves it, and ``--clients``
asyncio clients, each with its own keep-alive connection pool (httpx), send requests for
``--seconds``: every stored API Gateway event that can be replayed (one per route of the
template, with its realistic parameters and body; the signed-in ones with a token) plus
the TRS registry's reads, each client going round the routes from its own starting point.
Loopback only; it stops by itself. Prints throughput, p50/p99 per route and every
non-2xx answer or failed connection (target: none); exits 1 if there were any.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field

from benchmarks.env import (
    BIN,
    BUCKET,
    TEMPLATE,
    moto_server,
    setup_process_env,
    start_demo_release,
    wait_built,
)
from benchmarks.run import event_routes, table
from benchmarks.warm import Route
from omicsgate.localapi.devtools import free_port, wait_for_http

# Reads of the demo registry (`omicsgate demo trs`); the stored TRS events name the tests'
# own tool, which the demo does not register.
TRS_ROUTES = [
    Route("trs tools", "/ga4gh/trs/v2/tools", "limit=10", function="TrsFunction"),
    Route("trs tool", "/ga4gh/trs/v2/tools/cwl-utils-echo", function="TrsFunction"),
    Route(
        "trs descriptor",
        "/ga4gh/trs/v2/tools/cwl-utils-echo/versions/1/PLAIN_CWL/descriptor",
        function="TrsFunction",
    ),
    Route("trs legacy tools", "/api/ga4gh/v2/tools", function="TrsFunction"),
]
REQUEST_TIMEOUT_S = 30.0


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    failures: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


def server_env(data_uri: str, endpoint: str, auth_dir: str) -> dict[str, str]:
    env = dict(os.environ, OMICSGATE_DATA_URI=data_uri, OMICSGATE_S3_ENDPOINT=endpoint)
    env["OMICSGATE_AUTH_DIR"] = auth_dir
    return env


def seed_registry(env: dict[str, str]) -> None:
    command = [str(BIN / "omicsgate"), "demo", "trs", "--template", str(TEMPLATE)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode:
        raise RuntimeError(f"demo trs failed:\n{done.stderr[-2000:]}")


def token(auth_dir: str) -> str:
    os.environ["OMICSGATE_AUTH_DIR"] = auth_dir
    from omicsgate.auth import get_auth
    from omicsgate.localapi.tokens import issue_token

    return issue_token(get_auth(), "load", frozenset(), "trusted")


def answered_as_expected(route: Route, status: int) -> bool:
    """A 2xx, or the status the event's route answers by design (``Route.status``)."""
    return status == route.status if route.status != 200 else 200 <= status < 300


async def client(
    base: str, routes: list[Route], start: int, until: float, bearer: str, tally: Tally
) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=REQUEST_TIMEOUT_S) as http:
        index = start
        while time.monotonic() < until:
            route = routes[index % len(routes)]
            index += 1
            headers = {"content-type": route.content_type}
            if route.signed_in:
                headers["authorization"] = f"Bearer {bearer}"
            url = f"{route.path}?{route.query}" if route.query else route.path
            began = time.perf_counter()
            try:
                answer = await http.request(route.method, url, content=route.body, headers=headers)
                await answer.aread()
            except httpx.HTTPError as error:
                tally.failures[route.name].append(f"{type(error).__name__}: {error}")
                continue
            elapsed = (time.perf_counter() - began) * 1000
            if answered_as_expected(route, answer.status_code):
                tally.latencies[route.name].append(elapsed)
            else:
                tally.failures[route.name].append(f"{answer.status_code}: {answer.text[:200]}")


async def drive(base: str, routes: list[Route], clients: int, seconds: float, bearer: str) -> Tally:
    tally = Tally()
    until = time.monotonic() + seconds
    step = max(1, len(routes) // clients)
    await asyncio.gather(
        *(client(base, routes, i * step, until, bearer, tally) for i in range(clients))
    )
    return tally


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(tally: Tally, routes: list[Route], seconds: float, clients: int) -> int:
    rows = []
    for route in routes:
        ok, failed = tally.latencies.get(route.name, []), tally.failures.get(route.name, [])
        p50 = statistics.median(ok) if ok else float("nan")
        p99 = percentile(ok, 0.99) if ok else float("nan")
        rows.append([route.name, route.function.removesuffix("Function"), len(ok), p50, p99,
                     len(failed)])  # fmt: skip
    total = sum(len(v) for v in tally.latencies.values())
    errors = sum(len(v) for v in tally.failures.values())
    table(
        f"Load: {clients} clients for {seconds:.0f} s on the local API over moto S3: "
        f"{total:,} answers, {total / seconds:.1f} per second, {errors} errors",
        ["route", "function", "answers", "p50 ms", "p99 ms", "errors"],
        rows,
    )
    for name, failed in tally.failures.items():
        print(f"  {name}: {len(failed)} errors, first: {failed[0]}")
    return errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    setup_process_env()
    routes = event_routes(registry=True) + TRS_ROUTES
    with tempfile.TemporaryDirectory() as tmp, moto_server(tmp) as moto:
        data_uri = f"s3://{BUCKET}/omicsgate"
        started = time.perf_counter()
        wait_built(start_demo_release(data_uri, moto.endpoint))
        env = server_env(data_uri, moto.endpoint, os.path.join(tmp, "auth"))
        seed_registry(env)
        print(f"demo release and registry built on moto in {time.perf_counter() - started:.0f} s")
        port = free_port()
        command = [sys.executable, "-m", "omicsgate.localapi.server", "--template",
                   str(TEMPLATE), "--port", str(port)]  # fmt: skip
        log_path = os.path.join(tmp, "server.log")  # a file: a full pipe would stall it
        log = open(log_path, "wb")  # noqa: SIM115 - closed below, after the server
        server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_http(f"{base}/api/v4/tissueInfo")
            bearer = token(env["OMICSGATE_AUTH_DIR"])
            tally = asyncio.run(drive(base, routes, args.clients, args.seconds, bearer))
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
        errors = report(tally, routes, args.seconds, args.clients)
        if errors:
            with open(log_path, "rb") as handle:
                print(f"server log (tail):\n{handle.read()[-3000:].decode(errors='replace')}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
