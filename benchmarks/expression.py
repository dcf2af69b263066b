"""Expression reads: the release's TileDB arrays vs Parquet + DuckDB, on one moto S3 server.

python -m benchmarks.expression [--warm 40] [--cold 10] [--s3-latency-ms 0]

The same matrix twice on one moto server that counts requests and response bytes:
(a) the release's ``expression`` array (``omicsgate ingest expression`` through the CLI), read
through the serving functions ``expression_rows`` / ``sample_column``; (b) the tidy long
table (gene, sample, tpm), sorted by gene, as Parquet read with DuckDB + httpfs. Three reads:
1 gene x all samples, 50 genes x all samples, 1 sample x all genes; warm (array or
connection open) and cold (fresh TileDB context and store / fresh DuckDB connection).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.env import AWS_ENV, BIN
from benchmarks.stats import median
from omicsgate.localapi.devtools import free_port, wait_for_http

BUCKET = "omicsgate-expr"
RELEASE = "expr-bench"
TARGET_GENE_RATIO = 0.5
TARGET_WARM_GENE_REQUESTS = 3
TARGET_SAMPLE_RATIO = 2.0
GENES_50 = 50
# DuckDB's default (122,880 rows): about 35 genes of 3,500 samples per row group.
ROW_GROUP_SIZE = 122_880

# moto with a byte count -----------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    method: str
    path: str
    status: int
    bytes: int

    @property
    def kind(self) -> str:
        return "LIST" if self.method == "GET" and "list-type=" in self.path else self.method


@dataclass(frozen=True)
class CountingMoto:
    """moto in its own process behind a WSGI wrapper that logs one JSON line per request
    with the bytes of its response body (moto's own access log has no sizes)."""

    endpoint: str
    log: Path

    def mark(self) -> int:
        return self.log.stat().st_size

    def since(self, mark: int) -> list[Served]:
        time.sleep(0.02)  # the line lands just after the last byte went out
        with self.log.open("rb") as handle:
            handle.seek(mark)
            lines = handle.read().decode().splitlines()
        return [Served(**json.loads(line)) for line in lines if line]


def serve_moto(port: int, log: str, latency_ms: float) -> None:
    """The server process: moto's app, each request delayed by ``latency_ms`` (first-byte
    latency of real S3 is tens of ms; moto on loopback has none) and logged with its size."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import run_simple

    app = DomainDispatcherApplication(create_backend_app)
    sink = open(log, "a", buffering=1)  # noqa: SIM115 - open for the life of the process
    lock = threading.Lock()

    def counted(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        if latency_ms:
            time.sleep(latency_ms / 1000)
        status = [0]

        def start(code: str, headers: Any, exc_info: Any = None) -> Any:
            status[0] = int(code.split(" ", 1)[0])
            return start_response(code, headers, exc_info)

        body = app(environ, start)
        sent = 0
        try:
            for chunk in body:
                sent += len(chunk)
                yield chunk
        finally:
            close = getattr(body, "close", None)
            if close:
                close()
            query = environ.get("QUERY_STRING")
            path = environ.get("PATH_INFO", "") + (f"?{query}" if query else "")
            line = {"method": environ["REQUEST_METHOD"], "path": path}
            with lock:
                sink.write(json.dumps({**line, "status": status[0], "bytes": sent}) + "\n")

    run_simple("127.0.0.1", port, counted, threaded=True, request_handler=MotoRequestHandler)


@contextmanager
def counting_moto(directory: str, latency_ms: float = 0.0) -> Iterator[CountingMoto]:
    port = free_port()
    log = Path(directory) / "moto-bytes.log"
    log.touch()
    command = [sys.executable, "-m", "benchmarks.expression", "serve-moto", str(port), str(log)]
    process = subprocess.Popen(
        [*command, str(latency_ms)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, **AWS_ENV),
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(endpoint)
        import boto3

        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield CountingMoto(endpoint, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


# The data: one GCT, ingested by the CLI (TileDB) and turned into Parquet (DuckDB) ----------


@dataclass
class BenchData:
    """Where each copy lives and how IDs map to the array's rows and columns."""

    s3_uri: str  # the release store on moto
    parquet: str  # s3:// URI of the tidy Parquet
    gene_ids: list[str]  # by gene_row
    sample_ids: list[str]  # by column
    source: str  # how the TileDB side was built
    parquet_bytes: int = 0
    array_bytes: int = 0
    extra: dict[str, str] | None = None


def demo_inputs(directory: str) -> Any:
    """The demo files, as ``omicsgate demo files`` writes them (GCT, sample attributes and
    subject phenotypes included)."""
    from omicsgate.ingest.demo import write_demo

    return write_demo(directory)


def cli(data_uri: str, endpoint: str, *args: str) -> None:
    env = dict(os.environ, **AWS_ENV, OMICSGATE_DATA_URI=data_uri, OMICSGATE_S3_ENDPOINT=endpoint)
    command = [str(BIN / "omicsgate"), "--data-uri", data_uri, "--quiet", *args]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")


def build_release(s3_uri: str, endpoint: str, files: Any) -> None:
    """Reference part, expression part, publish: the path real data takes."""
    cli(
        s3_uri,
        endpoint,
        *("ingest", "reference", "--release", RELEASE, "--tissues", files.tissues),
        *("--annotation", files.annotation, "--variants", files.variants),
        *("--gene-status", files.gene_status),
    )
    cli(
        s3_uri,
        endpoint,
        *("ingest", "expression", "--release", RELEASE, "--gct", files.expression),
        *("--sample-attributes", files.sample_attributes),
        *("--subject-phenotypes", files.subject_phenotypes),
    )
    cli(s3_uri, endpoint, "releases", "publish", RELEASE)


def duckdb_connect(endpoint: str) -> Any:
    """A DuckDB connection with httpfs from the ``duckdb-ext-httpfs`` wheel (no download)."""
    import duckdb

    extensions = os.path.join(sysconfig.get_paths()["purelib"], "duckdb_ext", "extensions")
    con = duckdb.connect(
        config={
            "extension_directory": extensions,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute("LOAD httpfs")
    host = endpoint.split("://", 1)[1]
    for setting, value in (
        ("s3_endpoint", host),
        ("s3_url_style", "path"),
        ("s3_use_ssl", False),
        ("s3_region", AWS_ENV["AWS_DEFAULT_REGION"]),
        ("s3_access_key_id", AWS_ENV["AWS_ACCESS_KEY_ID"]),
        ("s3_secret_access_key", AWS_ENV["AWS_SECRET_ACCESS_KEY"]),
    ):
        con.execute(f"SET {setting} = ?", [value])
    return con


def write_parquet(
    gct: str, sample_attributes: str, local: str, row_group_size: int = ROW_GROUP_SIZE
) -> None:
    """The tidy table a DuckDB user would build from the GCT: (gene, sample, tpm) sorted by
    gene (row-group min/max statistics then skip all but the gene's row group), samples in
    tissue order within a gene, zstd."""
    con = duckdb_connect("http://127.0.0.1:1")
    con.execute("SET preserve_insertion_order = true")
    con.execute(
        f"""
        CREATE TABLE wide AS SELECT * FROM read_csv('{gct}', skip = 2, delim = '\t',
            header = true, sample_size = -1)
        """
    )
    con.execute(
        f"CREATE TABLE attrs AS SELECT SAMPID, SMTSD FROM read_csv('{sample_attributes}', "
        "delim = '\t', header = true, all_varchar = true)"
    )
    con.execute(
        f"""
        COPY (
            SELECT t.Name AS gene, t.sample, t.tpm::FLOAT AS tpm
            FROM (UNPIVOT wide ON COLUMNS(* EXCLUDE (Name, Description))
                  INTO NAME sample VALUE tpm) t
            JOIN attrs a ON a.SAMPID = t.sample
            ORDER BY t.Name, a.SMTSD, t.sample
        ) TO '{local}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {row_group_size})
        """
    )
    con.close()


def upload(endpoint: str, local: str, key: str) -> str:
    import boto3

    boto3.client("s3", endpoint_url=endpoint).upload_file(local, BUCKET, key)
    return f"s3://{BUCKET}/{key}"


def prefix_bytes(endpoint: str, prefix: str) -> int:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    total = 0
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        total += sum(o["Size"] for o in page.get("Contents", []))
    return total


def prepare(tmp: str, moto: CountingMoto, row_group_size: int) -> BenchData:
    """The release on moto through the CLI, and Parquet from the same GCT."""
    s3_uri = f"s3://{BUCKET}/omicsgate"
    files = demo_inputs(f"{tmp}/demo")
    build_release(s3_uri, moto.endpoint, files)
    gct, attributes, source = files.expression, files.sample_attributes, "CLI demo release"
    gene_ids, sample_ids = release_ids(s3_uri, moto.endpoint)
    local = f"{tmp}/expression.parquet"
    write_parquet(gct, attributes, local, row_group_size)
    parquet = upload(moto.endpoint, local, "parquet/expression.parquet")
    return BenchData(
        s3_uri,
        parquet,
        gene_ids,
        sample_ids,
        source,
        parquet_bytes=os.path.getsize(local),
        array_bytes=prefix_bytes(moto.endpoint, "omicsgate/"),
    )


def release_ids(s3_uri: str, endpoint: str) -> tuple[list[str], list[str]]:
    """Gene IDs by gene_row and sample IDs by column, from the release's tables."""
    from omicsgate.portal import expression_schema as ex

    store = new_store(s3_uri, endpoint)
    genes = store.read_all(RELEASE, ex.EXPRESSION_GENES)
    samples = store.read_all(RELEASE, ex.SAMPLES)
    gene_ids = [""] * len(genes["gene_row"])
    for row, gene in zip(genes["gene_row"].tolist(), genes["geneId"].tolist(), strict=True):
        gene_ids[row] = gene
    sample_ids = [""] * len(samples["column"])
    for column, sample in zip(
        samples["column"].tolist(), samples["sampleId"].tolist(), strict=True
    ):
        sample_ids[column] = sample
    return gene_ids, sample_ids


# The two readers --------------------------------------------------------------------------


def new_store(s3_uri: str, endpoint: str) -> Any:
    from omicsgate.settings import get_settings
    from omicsgate.storage import DataStore

    return DataStore(replace(get_settings(), data_uri=s3_uri, s3_endpoint=endpoint))


CONFIG_OVERRIDES: dict[str, str] = {}


class TileDBReader:
    """One container's view: a store (context, open arrays) reading through the serving
    functions."""

    def __init__(self, data: BenchData, endpoint: str) -> None:
        self.store = new_store(data.s3_uri, endpoint)
        if CONFIG_OVERRIDES:
            import tiledb

            from omicsgate.storage._context import tiledb_config

            config = {**tiledb_config(self.store.settings), **CONFIG_OVERRIDES}
            self.store._ctx = tiledb.Ctx(tiledb.Config(config))

    def rows(self, rows: list[int]) -> np.ndarray:
        from omicsgate.portal.expression import expression_rows

        return np.asarray(expression_rows(self.store, RELEASE, rows))

    def column(self, column: int) -> np.ndarray:
        from omicsgate.portal.expression import sample_column

        return np.asarray(sample_column(self.store, RELEASE, column))


class DuckDBReader:
    def __init__(self, data: BenchData, endpoint: str, file_cache: bool = True) -> None:
        self.con = duckdb_connect(endpoint)
        if not file_cache:
            self.con.execute("SET enable_external_file_cache = false")
        self.parquet = data.parquet

    def genes(self, genes: list[str]) -> dict[str, np.ndarray]:
        marks = ", ".join("?" for _ in genes)
        query = (
            f"SELECT gene, sample, tpm FROM read_parquet('{self.parquet}') WHERE gene IN ({marks})"
        )
        return dict(self.con.execute(query, genes).fetchnumpy())

    def sample(self, sample: str) -> dict[str, np.ndarray]:
        query = f"SELECT gene, tpm FROM read_parquet('{self.parquet}') WHERE sample = ?"
        return dict(self.con.execute(query, [sample]).fetchnumpy())


# Measuring --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # "genes" or "sample"
    count: int


CASES = (
    Case("1 gene x all samples", "genes", 1),
    Case(f"{GENES_50} genes x all samples", "genes", GENES_50),
    Case("1 sample x all genes", "sample", 1),
)


def p90(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))])


def measured(moto: CountingMoto, call: Callable[[], Any]) -> dict[str, Any]:
    mark = moto.mark()
    start = time.perf_counter()
    call()
    ms = (time.perf_counter() - start) * 1000
    served = moto.since(mark)
    kinds: dict[str, int] = {}
    for s in served:
        kinds[s.kind] = kinds.get(s.kind, 0) + 1
    total = sum(s.bytes for s in served)
    return {"ms": ms, "requests": len(served), "bytes": total, "kinds": kinds}


def summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    ms = [s["ms"] for s in samples]
    kinds: dict[str, list[int]] = {}
    for s in samples:
        for kind in {k for x in samples for k in x["kinds"]}:
            kinds.setdefault(kind, []).append(s["kinds"].get(kind, 0))
    return {
        "n": len(samples),
        "median_ms": median(ms),
        "p90_ms": p90(ms),
        "requests_median": median([s["requests"] for s in samples]),
        "requests_max": max(s["requests"] for s in samples),
        "bytes_median": median([s["bytes"] for s in samples]),
        "kinds_median": {k: median(v) for k, v in sorted(kinds.items())},
    }


class Keys:
    """The genes and samples each iteration reads: random, never the same twice in a row
    (so neither TileDB's read-ahead cache nor DuckDB's file cache answers for free), the
    same sequence for both systems."""

    def __init__(self, data: BenchData, seed: int = 11) -> None:
        self.rng = random.Random(seed)
        self.data = data

    def genes(self, count: int) -> list[int]:
        return sorted(self.rng.sample(range(len(self.data.gene_ids)), count))

    def sample(self) -> int:
        return self.rng.randrange(len(self.data.sample_ids))


def run_case(
    case: Case,
    data: BenchData,
    moto: CountingMoto,
    warm_n: int,
    cold_n: int,
    file_cache: bool = True,
) -> dict[str, Any]:
    keys = Keys(data)
    endpoint = moto.endpoint

    def tiledb_call(reader: TileDBReader, key: Any) -> Callable[[], Any]:
        return (lambda: reader.rows(key)) if case.kind == "genes" else lambda: reader.column(key)

    def duck_call(reader: DuckDBReader, key: Any) -> Callable[[], Any]:
        if case.kind == "genes":
            names = [data.gene_ids[r] for r in key]
            return lambda: reader.genes(names)
        return lambda: reader.sample(data.sample_ids[key])

    def key() -> Any:
        return keys.genes(case.count) if case.kind == "genes" else keys.sample()

    results: dict[str, dict[str, list[dict[str, Any]]]] = {
        "tiledb": {"warm": [], "cold": []},
        "duckdb": {"warm": [], "cold": []},
    }
    tdb, duck = TileDBReader(data, endpoint), DuckDBReader(data, endpoint, file_cache)
    first = key()  # opens the array / reads the Parquet footer: not counted as warm
    tiledb_call(tdb, first)()
    duck_call(duck, first)()
    for _ in range(warm_n):  # interleaved, so machine noise hits both alike
        k = key()
        results["tiledb"]["warm"].append(measured(moto, tiledb_call(tdb, k)))
        results["duckdb"]["warm"].append(measured(moto, duck_call(duck, k)))
    connect_ms: list[float] = []  # of DuckDB's cold reads: connect + LOAD httpfs + SETs
    for _ in range(cold_n):
        k = key()

        def cold_tiledb(k: Any = k) -> Any:
            return tiledb_call(TileDBReader(data, endpoint), k)()

        def cold_duckdb(k: Any = k) -> Any:
            start = time.perf_counter()
            reader = DuckDBReader(data, endpoint, file_cache)
            connect_ms.append((time.perf_counter() - start) * 1000)
            return duck_call(reader, k)()

        results["tiledb"]["cold"].append(measured(moto, cold_tiledb))
        results["duckdb"]["cold"].append(measured(moto, cold_duckdb))
    summaries = {
        system: {mode: summary(runs) for mode, runs in modes.items()}
        for system, modes in results.items()
    }
    summaries["duckdb"]["cold"]["connect_median_ms"] = median(connect_ms) if connect_ms else 0.0
    return summaries


def check_same_data(data: BenchData, endpoint: str) -> None:
    """Both copies give the same numbers for a gene and a sample."""
    tdb, duck = TileDBReader(data, endpoint), DuckDBReader(data, endpoint)
    row = len(data.gene_ids) // 3
    got = duck.genes([data.gene_ids[row]])
    by_sample = dict(zip(got["sample"].tolist(), got["tpm"].tolist(), strict=True))
    expected = np.asarray([by_sample[s] for s in data.sample_ids], dtype=np.float32)
    if not np.allclose(tdb.rows([row])[0], expected, equal_nan=True):
        raise RuntimeError("TileDB and Parquet disagree on a gene: not the same data")
    column = len(data.sample_ids) // 2
    got = duck.sample(data.sample_ids[column])
    by_gene = dict(zip(got["gene"].tolist(), got["tpm"].tolist(), strict=True))
    expected = np.asarray([by_gene[g] for g in data.gene_ids], dtype=np.float32)
    if not np.allclose(tdb.column(column), expected, equal_nan=True):
        raise RuntimeError("TileDB and Parquet disagree on a sample: not the same data")


# Report ---------------------------------------------------------------------------------


def _kib(value: float) -> str:
    return f"{value / 1024:,.0f}"


def report(results: dict[str, Any], data: BenchData, args: argparse.Namespace) -> None:
    from benchmarks.run import table

    rows = []
    for case in CASES:
        for mode in ("warm", "cold"):
            t = results[case.name]["tiledb"][mode]
            d = results[case.name]["duckdb"][mode]
            rows.append(
                [
                    f"{case.name}, {mode}",
                    f"{t['median_ms']:.1f} / {t['p90_ms']:.1f}",
                    f"{d['median_ms']:.1f} / {d['p90_ms']:.1f}",
                    f"{t['median_ms'] / d['median_ms']:.2f}x",
                    f"{t['requests_median']:g} (max {t['requests_max']})",
                    f"{d['requests_median']:g} (max {d['requests_max']})",
                    _kib(t["bytes_median"]),
                    _kib(d["bytes_median"]),
                    verdict(case, mode, t, d),
                ]
            )
    genes, samples = len(data.gene_ids), len(data.sample_ids)
    latency = f", {args.s3_latency_ms:g} ms added per S3 request" if args.s3_latency_ms else ""
    table(
        f"Expression reads on moto S3{latency}: TileDB ({data.source}) vs Parquet + DuckDB "
        f"{genes:,} genes x {samples:,} samples; median / p90 ms of {args.expr_warm} warm and "
        f"{args.expr_cold} cold reads, S3 requests and KiB served (medians)",
        [
            "read",
            "TileDB ms",
            "DuckDB ms",
            "ratio",
            "TileDB reqs",
            "DuckDB reqs",
            "TileDB KiB",
            "DuckDB KiB",
            "target",
        ],
        rows,
    )
    print(
        f"  stored: TileDB release {data.array_bytes / 2**20:.1f} MiB (every array), Parquet "
        f"{data.parquet_bytes / 2**20:.1f} MiB (row groups of {args.row_group_size:,} rows)\n"
        "  warm: store/connection open, a new random key each read; cold: a fresh DataStore\n"
        "  (TileDB context, manifest, array open) / a fresh DuckDB connection (LOAD httpfs,\n"
        "  footer). Requests and bytes: moto's log, response bodies. Targets: TileDB <= "
        f"{TARGET_GENE_RATIO}x DuckDB for\n  gene reads, <= {TARGET_WARM_GENE_REQUESTS} S3 "
        f"requests per warm 1-gene read, <= {TARGET_SAMPLE_RATIO}x DuckDB for the sample read."
    )
    connect = [results[c.name]["duckdb"]["cold"]["connect_median_ms"] for c in CASES]
    print(
        f"  DuckDB's cold times include connect + LOAD httpfs: median {median(connect):.1f} ms\n"
        "  (a container that loads httpfs at init would not pay it on its first read)"
    )
    for case in CASES:
        for system in ("tiledb", "duckdb"):
            kinds = results[case.name][system]["cold"]["kinds_median"]
            warm_kinds = results[case.name][system]["warm"]["kinds_median"]
            print(
                f"  {case.name:<24} {system:<6} cold {_kinds(kinds):<28} warm {_kinds(warm_kinds)}"
            )


def _kinds(kinds: dict[str, float]) -> str:
    return " ".join(f"{k}:{v:g}" for k, v in kinds.items()) or "-"


def verdict(case: Case, mode: str, t: dict[str, Any], d: dict[str, Any]) -> str:
    ratio = t["median_ms"] / d["median_ms"]
    notes = []
    if case.kind == "genes":
        notes.append(f"{'ok' if ratio <= TARGET_GENE_RATIO else 'MISSED'} <= {TARGET_GENE_RATIO}x")
        if mode == "warm" and case.count == 1:
            ok = t["requests_max"] <= TARGET_WARM_GENE_REQUESTS
            notes.append(f"{'ok' if ok else 'MISSED'} <= {TARGET_WARM_GENE_REQUESTS} reqs")
    else:
        notes.append(
            f"{'ok' if ratio <= TARGET_SAMPLE_RATIO else 'MISSED'} <= {TARGET_SAMPLE_RATIO}x"
        )
    return ", ".join(notes)


# Entry points -----------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expr-warm", type=int, default=40, help="warm reads per case")
    parser.add_argument("--expr-cold", type=int, default=10, help="cold reads per case")
    parser.add_argument("--s3-latency-ms", type=float, default=0.0)
    parser.add_argument("--row-group-size", type=int, default=ROW_GROUP_SIZE)
    parser.add_argument(
        "--no-duckdb-file-cache", action="store_true", help="SET enable_external_file_cache=false"
    )
    parser.add_argument(
        "--tiledb",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="TileDB config on top of storage/_context.py (experiments)",
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    """The whole comparison: its own moto server, data, measurements, the table."""
    CONFIG_OVERRIDES.update(dict(item.split("=", 1) for item in args.tiledb))
    os.environ.update(AWS_ENV)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, counting_moto(tmp, args.s3_latency_ms) as moto:
        data = prepare(tmp, moto, args.row_group_size)
        built = time.perf_counter() - start
        check_same_data(data, moto.endpoint)
        results = {
            case.name: run_case(
                case, data, moto, args.expr_warm, args.expr_cold, not args.no_duckdb_file_cache
            )
            for case in CASES
        }
    print(f"\nexpression data built in {built:.1f} s ({data.source})")
    report(results, data, args)
    return {
        "source": data.source,
        "genes": len(data.gene_ids),
        "samples": len(data.sample_ids),
        "array_bytes": data.array_bytes,
        "parquet_bytes": data.parquet_bytes,
        "tiledb_config": CONFIG_OVERRIDES,
        "s3_latency_ms": args.s3_latency_ms,
        "cases": results,
    }


def main(argv: Sequence[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve-moto"]:
        serve_moto(int(argv[1]), argv[2], float(argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    result = run(args)
    print(f"\nEXPRESSION_JSON {json.dumps(result, default=float)}")


if __name__ == "__main__":
    main()
