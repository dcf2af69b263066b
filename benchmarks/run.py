"""``make bench``: cold start vs a bare FastAPI handler, warm latency, S3 requests per request.

python -m benchmarks.run [--repeats 7] [--warm 200] [--counted 20]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import tempfile
import time
from collections.abc import Sequence
from typing import Any

from benchmarks import coldstart, expression, gwas, importtime, ld, rnaget, warm
from benchmarks.env import (
    BUCKET,
    EVENTS,
    TEMPLATE,
    Moto,
    moto_server,
    setup_process_env,
    start_demo_release,
    wait_built,
)
from omicsgate.localapi.devtools import use_store
from omicsgate.localapi.template import load_template

COLD_TARGET = 1.5
COLD_GENE_S3_TARGET = 8
GENE = warm.Route("gene", "/api/v4/gene", "geneId=Eno1,Cd300lf")
TISSUE = warm.Route("tissueInfo", "/api/v4/tissueInfo")
# Routes that query an array on every request (the rest answer from memory once warm).
QUERYING = {
    "exon",
    "variant",
    "geneExpression",
    "medianGeneExpression",
    "eqtl",
    "singleTissueEqtl",
    "xqtl",
    "dyneqtl",
    "dyneqtlBatch",
}


def event_routes(registry: bool = False) -> list[warm.Route]:
    """One route per stored API Gateway event (the tests require one per template route),
    but those that cannot be replayed (see NOT_REPLAYED_FUNCTIONS), and those that read
    the TRS registry unless the store has the demo registry (``registry``)."""
    template = load_template(str(TEMPLATE))
    routes = []
    for path in sorted(EVENTS.rglob("*.json")):
        event = json.loads(path.read_text())
        found = template.route_for(event["requestContext"]["http"]["method"], event["rawPath"])
        if found is None:
            raise RuntimeError(f"{path}: no template route")
        if not _replayable(found[0].function, event.get("rawQueryString", "")):
            continue
        if path.stem in READS_REGISTRY and not registry:
            continue
        routes.append(
            warm.Route(
                path.stem,
                event["rawPath"],
                event.get("rawQueryString", ""),
                target_zero=path.stem not in QUERYING,
                function=found[0].function,
                signed_in="authorization" in event["headers"],
                method=event["requestContext"]["http"]["method"],
                body=_event_body(event),
                content_type=event["headers"].get("content-type", "application/json"),
                status=EXPECTED_STATUS.get(path.stem, 200),
            )
        )
    return routes


# Not replayed: the TRS registry is live data in its own store (a table locally in SQLite,
# in AWS in DynamoDB), with write routes; and a signed download URL's signature is made
# with a key of the process that signed it and expires.
NOT_REPLAYED_FUNCTIONS = {"TrsFunction"}
# Catalog events that read the registry: the demo tool they name is in the demo registry
# (``omicsgate demo trs``), which the bench's store does not have.
READS_REGISTRY = {"toolsInfo"}
# Events whose answer is deliberately not a 200: the catalog's removed endpoint (410
# naming its replacement, the deprecation lifecycle's last stage).
EXPECTED_STATUS = {"metaEndpoints": 410}


def _replayable(function: str, query: str) -> bool:
    return function not in NOT_REPLAYED_FUNCTIONS and "signature=" not in query


def _event_body(event: dict[str, Any]) -> bytes | None:
    """The request body an event carries (API Gateway base64-encodes non-text bodies)."""
    if not event.get("body"):
        return None
    if event.get("isBase64Encoded"):
        return base64.b64decode(event["body"])
    return str(event["body"]).encode()


def table(title: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [list(header)] + [[_cell(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    print(f"\n{title}")
    for index, row in enumerate(cells):
        print(
            "  "
            + "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if index == 0:
            print("  " + "  ".join("-" * w for w in widths))


def _cell(value: Any) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def build_releases(local_uri: str, moto: Moto) -> str:
    """The demo release in a local directory and on moto, built side by side."""
    s3_uri = f"s3://{BUCKET}/omicsgate"
    builds = [start_demo_release(local_uri), start_demo_release(s3_uri, moto.endpoint)]
    for build in builds:
        wait_built(build)
    return s3_uri


# Cold start --------------------------------------------------------------------------


def cold_section(local_uri: str, repeats: int) -> dict[str, Any]:
    use_store(local_uri)  # the subprocesses inherit the environment
    bare_case = coldstart.Case("bare hello", coldstart.BARE, "/hello")
    real_cases = [coldstart.Case(r.name, coldstart.REAL, r.path, r.query) for r in (GENE, TISSUE)]
    samples = coldstart.run([bare_case, *real_cases], repeats)
    bare = samples[bare_case.name].summary()
    real = {c.name: samples[c.name].summary() for c in real_cases}
    ratios = {name: s["inside_ms"] / bare["inside_ms"] for name, s in real.items()}
    wall_ratios = {name: s["wall_ms"] / bare["wall_ms"] for name, s in real.items()}
    rows = [_cold_row("bare hello (FastAPI+Mangum)", bare, 1.0, 1.0)]
    rows += [_cold_row(f"reference {n}", s, ratios[n], wall_ratios[n]) for n, s in real.items()]
    table(
        f"Cold start, local data: fresh interpreter, import + first event "
        f"(medians of {repeats}, ms; target ratio <= {COLD_TARGET}x)",
        [
            "handler",
            "inside",
            "import",
            "1st event",
            "process wall",
            "ratio",
            "wall ratio",
            "target",
        ],
        rows,
    )
    if max(ratios.values()) > COLD_TARGET:
        print("\nOver target, where the import time goes (python -X importtime):")
        lines = importtime.report("reference_api.handler", "benchmarks.bare_handler")
        print("\n".join("  " + line for line in lines))
    return {
        "bare": bare,
        "real": real,
        "ratio": ratios,
        "wall_ratio": wall_ratios,
        "target": COLD_TARGET,
        "repeats": repeats,
    }


def _cold_row(label: str, s: dict[str, float], ratio: float, wall_ratio: float) -> list[Any]:
    verdict = "" if label.startswith("bare") else ("ok" if ratio <= COLD_TARGET else "OVER")
    return [
        label,
        s["inside_ms"],
        s["import_ms"],
        s["first_ms"],
        s["wall_ms"],
        f"{ratio:.2f}x",
        f"{wall_ratio:.2f}x",
        verdict,
    ]


# Warm requests -----------------------------------------------------------------------


def local_latency(
    handlers: warm.Handlers, routes: list[warm.Route], local_uri: str, n: int
) -> dict[str, Any]:
    results = {}
    for route in routes:
        use_store(local_uri)  # a fresh store: the first call is a new container's
        first = warm.call(handlers, route)
        results[route.name] = {"first_ms": first, **warm.latency(handlers, route, n)}
    return results


def s3_runs(
    handlers: warm.Handlers, routes: list[warm.Route], s3_uri: str, moto: Moto, n: int, counted: int
) -> dict[str, Any]:
    """Per route, on a fresh store: first and warm requests counted, then the latency loop."""
    results = {}
    for route in routes:
        use_store(s3_uri, moto.endpoint)
        requests = warm.s3_requests(handlers, route, moto, counted)
        latency = {"first_ms": requests["first"]["ms"], **warm.latency(handlers, route, n)}
        results[route.name] = {"latency": latency, "requests": requests}
    return results


def latency_table(local: dict[str, Any], s3: dict[str, Any], n: int) -> None:
    rows = [
        [f"{backend} {name}", r["first_ms"], r["median_ms"], r["p95_ms"]]
        for backend, runs in (
            ("local", local),
            ("s3/moto", {k: v["latency"] for k, v in s3.items()}),
        )
        for name, r in runs.items()
    ]
    table(
        f"Warm latency, one process (ms): first call of a fresh store, then median and p95 of {n}",
        ["route", "first call", "median", "p95"],
        rows,
    )


REQUEST_HEADER = ["route", "S3 reqs", "detail", "tiledb ops", "bytes read"]


def requests_table(s3: dict[str, Any], routes: list[warm.Route], counted: int) -> None:
    rows = []
    for route in routes:
        first, warm_ = s3[route.name]["requests"]["first"], s3[route.name]["requests"]["warm"]
        kinds = " ".join(f"{k}:{v}" for k, v in sorted(first["s3_kinds"].items()))
        target = "ok" if warm_["s3_requests_max"] == 0 else "MISSED"
        cold_target = ""
        if route.name == GENE.name:
            cold_target = "ok" if first["s3_requests"] <= COLD_GENE_S3_TARGET else "MISSED"
            cold_target += f" (<= {COLD_GENE_S3_TARGET})"
        rows.append(
            [
                f"{route.name} cold",
                first["s3_requests"],
                kinds,
                first["tiledb_ops"],
                first["bytes_read"],
                cold_target,
            ]
        )
        rows.append(
            [
                f"{route.name} warm (mean)",
                warm_["s3_requests_mean"],
                f"max {warm_['s3_requests_max']}",
                warm_["tiledb_ops_mean"],
                warm_["bytes_read_mean"],
                target if route.target_zero else "(context)",
            ]
        )
    table(
        f"S3 (moto) per request: the first of a fresh store (a cold container), then {counted} "
        "warm",
        [*REQUEST_HEADER, "target"],
        rows,
    )
    keys = sorted({k for r in s3.values() for k in r["requests"]["first"]["tiledb_keys"]})
    print(
        "  S3 reqs: requests in moto's access log (LIST = ListObjectsV2, GET = object range).\n"
        f"  tiledb ops: sum of {', '.join(keys)};\n"
        f"  bytes read: {warm.BYTES_KEY}. TileDB counters: tiledb.stats_reset() before and\n"
        "  tiledb.main.stats_raw_dump_str() after each request; they include reads served by\n"
        "  TileDB's read-ahead cache (vfs.read_ahead_cache_size, 10 MB), which moto never sees."
    )


def warm_section(local_uri: str, s3_uri: str, moto: Moto, n: int, counted: int) -> dict[str, Any]:
    handlers = warm.load_handlers()
    routes = event_routes()
    with warm.quiet():
        local = local_latency(handlers, routes, local_uri, n)
        s3 = s3_runs(handlers, routes, s3_uri, moto, n, counted)
    latency_table(local, s3, n)
    requests_table(s3, routes, counted)
    return {"local": local, "s3": s3}


# Entry point -------------------------------------------------------------------------


def rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=7, help="cold starts per handler")
    parser.add_argument("--warm", type=int, default=200, help="warm invocations per route")
    parser.add_argument("--counted", type=int, default=20, help="warm requests counted on S3")
    expression.add_arguments(parser)
    gwas.add_arguments(parser)
    ld.add_arguments(parser)
    rnaget.add_arguments(parser)
    args = parser.parse_args(argv)
    setup_process_env()
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, moto_server(tmp) as moto:
        os.environ["OMICSGATE_AUTH_DIR"] = f"{tmp}/auth"  # the bench's token keys
        local_uri = f"{tmp}/data"
        s3_uri = build_releases(local_uri, moto)
        print(f"demo release built locally and on moto in {time.perf_counter() - start:.1f} s")
        cold = cold_section(local_uri, args.repeats)
        warm_results = warm_section(local_uri, s3_uri, moto, args.warm, args.counted)
    # TileDB vs Parquet + DuckDB on expression: its own moto server (it counts bytes too).
    expression_results = expression.run(args)
    # GWAS: TileDB vs Parquet + DuckDB, 10^6 associations on its own moto server.
    gwas_results = gwas.run(args)
    # LD panels: clumping, an LD matrix, associations with proxies, on its own moto server.
    ld_results = ld.run(args)
    # RNAget: a 1,000-gene x all-samples slice as TSV and loom, time and peak memory.
    rnaget_results = rnaget.run(args)
    summary = {
        "cold_start": cold,
        "warm": warm_results,
        "expression": expression_results,
        "gwas": gwas_results,
        "ld": ld_results,
        "rnaget": rnaget_results,
        "elapsed_s": time.perf_counter() - start,
    }
    print(f"\nBENCH_JSON {json.dumps(rounded(summary))}")


if __name__ == "__main__":
    main()
