"""GWAS reads: the catalogue's TileDB arrays vs Parquet + DuckDB, on one moto S3 server.

python -m benchmarks.gwas [--studies 1000] [--variants 1000] [--warm 30] [--cold 8]
python -m benchmarks.gwas --scale        10^6 then 10^8 associations on local disk

Synthetic studies (every study at the same variants, as harmonised OpenGWAS studies are,
20 genome-wide hits each) are ingested study by study through ``add_study`` (the path
``omicsgate ingest gwas`` takes after parsing), then consolidated. The same rows go to two
Parquet files, each sorted for its access path as a DuckDB user would lay them out:
by (chrom, pos, study) for PheWAS and associations, by (study, chrom, pos) for tophits.
Four reads through the serving functions (``GwasStore.phewas/associations/tophits``):
PheWAS of 1 and of 10 variants across every study (p <= 0.01, OpenGWAS's default),
associations of 10 variants x 10 studies, tophits of one study (p <= 5e-8).

``--scale`` ingests 10^6 (1,000 studies x 1,000 variants) and 10^8 (1,000 x 100,000) on
local disk (moto keeps objects in memory: 10^8 rows would not fit beside everything else),
reports ingest time and peak memory, and each read's time at 10^8 over its time at 10^6
(the same result sizes: every study has the same hits).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.env import AWS_ENV
from benchmarks.expression import (
    BUCKET,
    CONFIG_OVERRIDES,
    CountingMoto,
    counting_moto,
    duckdb_connect,
    measured,
    prefix_bytes,
    summary,
    upload,
)

TARGET_DUCKDB_RATIO = 0.5
TARGET_PHEWAS_10_OVER_1 = 3.0
TARGET_SCALE_RATIO = 1.2
HITS_PER_STUDY = 20
P_PHEWAS = 0.01
P_TOPHITS = 5e-8


@dataclass(frozen=True)
class Shape:
    studies: int
    variants: int

    @property
    def rows(self) -> int:
        return self.studies * self.variants


# Synthetic data ------------------------------------------------------------------------


def variant_sites(variants: int) -> tuple[np.ndarray, np.ndarray]:
    """(chrom codes, positions): spread over chromosomes 1-22, 1 kb apart."""
    index = np.arange(variants)
    per_chrom = -(-variants // 22)
    return (1 + index // per_chrom).astype(np.uint8), (10_000 + 1_000 * (index % per_chrom)).astype(
        np.uint32
    )


def study_rows(shape: Shape, study: int) -> dict[str, np.ndarray]:
    from scipy.special import log_ndtr

    rng = np.random.default_rng(study)
    chrom, pos = variant_sites(shape.variants)
    z = rng.standard_normal(shape.variants)
    hits = np.linspace(0, shape.variants - 1, HITS_PER_STUDY).astype(int)
    z[hits] = rng.choice([-1, 1], HITS_PER_STUDY) * rng.uniform(6, 12, HITS_PER_STUDY)
    se = np.full(shape.variants, 0.01)
    lp = -(np.log(2.0) + log_ndtr(-np.abs(z))) / np.log(10)
    return {
        "chrom": chrom,
        "pos": pos,
        "rsid": np.array([f"rs{i + 1}" for i in range(shape.variants)], dtype=object),
        "ea": np.full(shape.variants, "A", dtype=object),
        "nea": np.full(shape.variants, "G", dtype=object),
        "eaf": rng.uniform(0.01, 0.99, shape.variants),
        "beta": z * se,
        "se": se,
        "lp": lp,
        "n": np.full(shape.variants, 100_000.0),
    }


def study_id(study: int) -> str:
    return f"bench-a-{study + 1}"


# Building both copies -----------------------------------------------------------------


def ingest_tiledb(data_uri: str, endpoint: str | None, shape: Shape) -> dict[str, float]:
    """In a child process, so that its peak memory is the ingestion's own."""
    command = [sys.executable, "-m", "benchmarks.gwas", "ingest", data_uri, endpoint or "",
               str(shape.studies), str(shape.variants)]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ, **AWS_ENV))
    if done.returncode:
        raise RuntimeError(f"ingest failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _ingest_child(data_uri: str, endpoint: str, studies: int, variants: int) -> None:
    from omicsgate.gwas.writer import Batch, add_study, consolidate

    store = new_store(data_uri, endpoint or None)
    shape = Shape(studies, variants)
    start = time.perf_counter()
    for study in range(studies):
        add_study(store, study_id(study), {"trait": f"Bench trait {study + 1}"},
                  [Batch(study_rows(shape, study))])  # fmt: skip
    added = time.perf_counter() - start
    consolidate(store)
    total = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"add_s": added, "total_s": total, "peak_mb": peak_mb}))


def write_parquet(directory: str, shape: Shape) -> tuple[str, str]:
    """The same rows as two Parquet files (by position, by study), written by DuckDB."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = os.path.join(directory, "raw")
    os.makedirs(raw, exist_ok=True)
    for study in range(shape.studies):
        rows = study_rows(shape, study)
        rows["study"] = np.full(shape.variants, study_id(study), dtype=object)
        pq.write_table(pa.table(rows), os.path.join(raw, f"{study}.parquet"))
    con = duckdb_connect("http://127.0.0.1:1")
    con.execute("SET preserve_insertion_order = false")
    outputs = []
    for name, order in (("by_position", "chrom, pos, study"), ("by_study", "study, chrom, pos")):
        path = os.path.join(directory, f"{name}.parquet")
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{raw}/*.parquet') ORDER BY {order}) "
            f"TO '{path}' (FORMAT parquet, COMPRESSION zstd)"
        )
        outputs.append(path)
    con.close()
    for name in os.listdir(raw):
        os.remove(os.path.join(raw, name))
    return outputs[0], outputs[1]


def upload_tree(endpoint: str, local: str, prefix: str) -> None:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    for directory, _, names in os.walk(local):
        for name in names:
            path = os.path.join(directory, name)
            s3.upload_file(path, BUCKET, f"{prefix}/{os.path.relpath(path, local)}")


# Readers -------------------------------------------------------------------------------


def new_store(data_uri: str, endpoint: str | None) -> Any:
    """A store as a container has it, with the bench's ``--tiledb`` settings on top."""
    from omicsgate.settings import get_settings
    from omicsgate.storage import DataStore

    store = DataStore(replace(get_settings(), data_uri=data_uri, s3_endpoint=endpoint))
    if CONFIG_OVERRIDES:
        import tiledb

        from omicsgate.storage._context import tiledb_config

        config = {**tiledb_config(store.settings), **CONFIG_OVERRIDES}
        store._ctx = tiledb.Ctx(tiledb.Config(config))
        scattered = {**tiledb_config(store.settings, scattered=True), **CONFIG_OVERRIDES}
        store._scattered_ctx = tiledb.Ctx(tiledb.Config(scattered))
    return store


class TileDBReader:
    """Reads as the routes do: the arrays a read needs start opening, then the studies the
    caller may see are listed, then the read."""

    def __init__(self, data_uri: str, endpoint: str | None) -> None:
        from omicsgate.gwas import GwasStore

        self.gwas = GwasStore(new_store(data_uri, endpoint))

    def studies(self) -> dict[str, Any]:
        from omicsgate.auth import Caller

        return self.gwas.visible(Caller())

    def phewas(self, sites: list[tuple[int, int]]) -> list[dict[str, Any]]:
        from omicsgate.gwas import Locus

        self.gwas.open_ahead("positions")
        loci = [Locus(c, p, p) for c, p in sites]
        return self.gwas.phewas(list(self.studies().values()), loci, P_PHEWAS)

    def associations(self, sites: list[tuple[int, int]], ids: list[str]) -> list[dict[str, Any]]:
        from omicsgate.gwas import Locus

        self.gwas.open_ahead("positions")
        loci = [Locus(c, p, p) for c, p in sites]
        studies = self.studies()
        return self.gwas.associations([studies[i] for i in ids], loci)

    def tophits(self, study: str) -> list[dict[str, Any]]:
        self.gwas.open_ahead("tophits", tophits_p=P_TOPHITS)
        return self.gwas.tophits(self.studies()[study], P_TOPHITS)


class DuckDBReader:
    def __init__(self, by_position: str, by_study: str, endpoint: str | None) -> None:
        self.con = duckdb_connect(endpoint or "http://127.0.0.1:1")
        self.by_position, self.by_study = by_position, by_study

    def phewas(self, sites: list[tuple[int, int]]) -> list[tuple[Any, ...]]:
        where = " OR ".join("(chrom = ? AND pos = ?)" for _ in sites)
        lp = -np.log10(P_PHEWAS)
        query = f"SELECT * FROM read_parquet('{self.by_position}') WHERE ({where}) AND lp >= {lp}"
        return self.con.execute(query, [v for site in sites for v in site]).fetchall()

    def associations(self, sites: list[tuple[int, int]], ids: list[str]) -> list[tuple[Any, ...]]:
        where = " OR ".join("(chrom = ? AND pos = ?)" for _ in sites)
        marks = ", ".join("?" for _ in ids)
        query = (
            f"SELECT * FROM read_parquet('{self.by_position}') WHERE ({where}) "
            f"AND study IN ({marks})"
        )
        return self.con.execute(query, [v for s in sites for v in s] + ids).fetchall()

    def tophits(self, study: str) -> list[tuple[Any, ...]]:
        lp = -np.log10(P_TOPHITS)
        query = (
            f"SELECT * FROM read_parquet('{self.by_study}') WHERE study = ? AND lp >= {lp} "
            "ORDER BY lp DESC"
        )
        return self.con.execute(query, [study]).fetchall()


# Measuring -----------------------------------------------------------------------------

CASES = ("PheWAS 1 variant", "PheWAS 10 variants", "associations 10 x 10", "tophits 1 study")


class Keys:
    """Random sites and studies, the same sequence for both systems."""

    def __init__(self, shape: Shape, seed: int = 5) -> None:
        self.rng = random.Random(seed)
        self.chrom, self.pos = variant_sites(shape.variants)
        self.shape = shape

    def sites(self, count: int) -> list[tuple[int, int]]:
        picked = self.rng.sample(range(self.shape.variants), count)
        return [(int(self.chrom[i]), int(self.pos[i])) for i in picked]

    def studies(self, count: int) -> list[str]:
        return [study_id(i) for i in self.rng.sample(range(self.shape.studies), count)]


def calls(case: str, keys: Keys) -> tuple[Callable[[Any], Any], Callable[[Any], Any]]:
    """(TileDB call, DuckDB call) for one random key."""
    if case == "PheWAS 1 variant" or case == "PheWAS 10 variants":
        sites = keys.sites(1 if case.endswith("1 variant") else 10)
        return (lambda r: r.phewas(sites)), (lambda r: r.phewas(sites))
    if case == "associations 10 x 10":
        sites, ids = keys.sites(10), keys.studies(10)
        return (lambda r: r.associations(sites, ids)), (lambda r: r.associations(sites, ids))
    study = keys.studies(1)[0]
    return (lambda r: r.tophits(study)), (lambda r: r.tophits(study))


def timed(call: Callable[[], Any]) -> dict[str, Any]:
    start = time.perf_counter()
    call()
    return {"ms": (time.perf_counter() - start) * 1000, "requests": 0, "bytes": 0, "kinds": {}}


def run_cases(
    shape: Shape,
    tiledb_uri: str,
    parquet: tuple[str, str],
    moto: CountingMoto | None,
    warm_n: int,
    cold_n: int,
) -> dict[str, Any]:
    endpoint = moto.endpoint if moto else None

    def measure(call: Callable[[], Any]) -> dict[str, Any]:
        return measured(moto, call) if moto else timed(call)

    tdb, duck = TileDBReader(tiledb_uri, endpoint), DuckDBReader(*parquet, endpoint)
    check_same_rows(tdb, duck, Keys(shape, seed=99))
    results: dict[str, Any] = {}
    for case in CASES:
        keys = Keys(shape)
        runs: dict[str, dict[str, list[dict[str, Any]]]] = {
            "tiledb": {"warm": [], "cold": []},
            "duckdb": {"warm": [], "cold": []},
        }
        t_call, d_call = calls(case, keys)
        t_call(tdb), d_call(duck)  # opened: not counted as warm
        for _ in range(warm_n):
            t_call, d_call = calls(case, keys)
            runs["tiledb"]["warm"].append(measure(partial(t_call, tdb)))
            runs["duckdb"]["warm"].append(measure(partial(d_call, duck)))
        for _ in range(cold_n):
            t_call, d_call = calls(case, keys)

            def cold_tiledb(call: Callable[[Any], Any] = t_call) -> Any:
                return call(TileDBReader(tiledb_uri, endpoint))

            def cold_duckdb(call: Callable[[Any], Any] = d_call) -> Any:
                return call(DuckDBReader(*parquet, endpoint))

            runs["tiledb"]["cold"].append(measure(cold_tiledb))
            runs["duckdb"]["cold"].append(measure(cold_duckdb))
        results[case] = {s: {m: summary(r) for m, r in modes.items()} for s, modes in runs.items()}
    blocks = tdb.gwas._blocks  # on S3: what the warm reader holds after every case
    if blocks is not None:
        used, budget = blocks.used / 2**20, blocks.budget / 2**20
        print(f"TileDB block cache of the warm reader: {len(blocks._blocks)} blocks, "
              f"{used:.0f} MiB (budget {budget:.0f} MiB)")  # fmt: skip
    return results


def check_same_rows(tdb: TileDBReader, duck: DuckDBReader, keys: Keys) -> None:
    sites = keys.sites(3)
    got = sorted((r["id"], r["position"], round(r["beta"], 12)) for r in tdb.phewas(sites))
    rows = duck.phewas(sites)
    columns = [d[0] for d in duck.con.description]
    expected = sorted(
        (row[columns.index("study")], int(row[columns.index("pos")]),
         round(float(row[columns.index("beta")]), 12))
        for row in rows
    )  # fmt: skip
    if got != expected:
        raise RuntimeError(f"TileDB and Parquet disagree on a PheWAS: {got[:3]} vs {expected[:3]}")


# Report --------------------------------------------------------------------------------


def report(title: str, results: dict[str, Any]) -> None:
    from benchmarks.run import table

    rows = []
    for case in CASES:
        for mode in ("warm", "cold"):
            t, d = results[case]["tiledb"][mode], results[case]["duckdb"][mode]
            ratio = t["median_ms"] / d["median_ms"]
            ok = "ok" if ratio <= TARGET_DUCKDB_RATIO else "MISSED"
            rows.append(
                [
                    f"{case}, {mode}",
                    f"{t['median_ms']:.1f} / {t['p90_ms']:.1f}",
                    f"{d['median_ms']:.1f} / {d['p90_ms']:.1f}",
                    f"{ratio:.2f}x",
                    f"{t['requests_median']:g}",
                    f"{d['requests_median']:g}",
                    f"{t['bytes_median'] / 1024:,.0f}",
                    f"{d['bytes_median'] / 1024:,.0f}",
                    f"{ok} <= {TARGET_DUCKDB_RATIO}x",
                ]
            )
    header = ["read", "TileDB ms", "DuckDB ms", "ratio", "TileDB reqs", "DuckDB reqs",
              "TileDB KiB", "DuckDB KiB", "target"]  # fmt: skip
    table(title, header, rows)
    one = results["PheWAS 1 variant"]["tiledb"]["warm"]["median_ms"]
    ten = results["PheWAS 10 variants"]["tiledb"]["warm"]["median_ms"]
    ok = "ok" if ten / one <= TARGET_PHEWAS_10_OVER_1 else "MISSED"
    print(f"  TileDB PheWAS 10 variants / 1 variant (warm): {ten / one:.2f}x ({ok} <= "
          f"{TARGET_PHEWAS_10_OVER_1}x)")  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    """make bench: 10^6 associations on one counting moto server."""
    os.environ.update(AWS_ENV)
    shape = Shape(args.gwas_studies, args.gwas_variants)
    with tempfile.TemporaryDirectory() as tmp, counting_moto(tmp) as moto:
        # Ingested on local disk, then uploaded: moto answers each request in milliseconds
        # (a study's ingestion is ~200 requests) and fails some parallel listings of
        # TileDB's vacuum. The ingestion's own speed is --scale's subject.
        ingest = ingest_tiledb(f"{tmp}/store", None, shape)
        upload_tree(moto.endpoint, f"{tmp}/store", "gwas-bench")
        uri = f"s3://{BUCKET}/gwas-bench"
        local = write_parquet(tmp, shape)
        parquet = (upload(moto.endpoint, local[0], "parquet/by_position.parquet"),
                   upload(moto.endpoint, local[1], "parquet/by_study.parquet"))  # fmt: skip
        stored = prefix_bytes(moto.endpoint, "gwas-bench/")
        parquet_bytes = sum(os.path.getsize(p) for p in local)
        results = run_cases(shape, uri, parquet, moto, args.gwas_warm, args.gwas_cold)
    print(
        f"\nGWAS: {shape.studies:,} studies x {shape.variants:,} variants ingested on disk in "
        f"{ingest['total_s']:.1f} s (consolidation included), peak {ingest['peak_mb']:.0f} MB; "
        f"TileDB {stored / 2**20:.1f} MiB, Parquet {parquet_bytes / 2**20:.1f} MiB"
    )
    report(
        f"GWAS reads on moto S3: TileDB vs Parquet + DuckDB, {shape.rows:,} associations; "
        f"median / p90 ms of {args.gwas_warm} warm and {args.gwas_cold} cold reads, S3 "
        "requests and KiB served (medians)",
        results,
    )
    return {"shape": [shape.studies, shape.variants], "ingest": ingest, "cases": results}


def run_scale(args: argparse.Namespace) -> dict[str, Any]:
    """10^6 and 10^8 on local disk: ingest time, peak memory, reads at both sizes."""
    base = args.scale_dir or tempfile.mkdtemp(prefix="gwas-scale-", dir="/tmp")
    out: dict[str, Any] = {}
    for shape in (Shape(1000, 1000), Shape(1000, 100_000)):
        directory = os.path.join(base, f"{shape.rows}")
        os.makedirs(directory, exist_ok=True)
        uri = os.path.join(directory, "store")
        start = time.perf_counter()
        done = os.path.join(directory, "built.json")
        if os.path.exists(done):  # --scale-dir of an earlier run: measure the reads again
            ingest = json.loads(Path(done).read_text())
            parquet = (os.path.join(directory, "by_position.parquet"),
                       os.path.join(directory, "by_study.parquet"))  # fmt: skip
        else:
            ingest = ingest_tiledb(uri, None, shape)
            parquet = write_parquet(directory, shape)
            with open(done, "w") as handle:
                json.dump(ingest, handle)
        print(f"{shape.rows:,} associations: TileDB ingest {ingest['total_s']:.0f} s "
              f"(adding {ingest['add_s']:.0f} s), peak {ingest['peak_mb']:.0f} MB; "
              f"with Parquet {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
        results = run_cases(shape, uri, parquet, None, args.gwas_warm, args.gwas_cold)
        report(f"GWAS reads on local disk, {shape.rows:,} associations", results)
        out[str(shape.rows)] = {"ingest": ingest, "cases": results}
    out["scale"] = scale_ratios(base, args.gwas_warm)
    return out


def scale_ratios(base: str, reads: int) -> dict[str, Any]:
    """Each read's time at 10^8 over 10^6, TileDB alone: the two stores are read in turn
    (each read's pair back to back, the order alternating), so both sizes meet the same
    load of a shared machine; the DuckDB reads of the tables above run seconds at 10^8
    and would sit between them."""
    from statistics import median

    shapes = {"10^6": Shape(1000, 1000), "10^8": Shape(1000, 100_000)}
    readers = {size: TileDBReader(os.path.join(base, f"{shape.rows}", "store"), None)
               for size, shape in shapes.items()}  # fmt: skip
    print(f"\nper-read time at 10^8 over 10^6 (TileDB, medians of {reads} warm reads each, "
          "the two sizes in turn):")  # fmt: skip
    result: dict[str, Any] = {}
    for case in CASES:
        keys = {size: Keys(shape) for size, shape in shapes.items()}
        times: dict[str, list[float]] = {size: [] for size in shapes}
        for size in shapes:  # opened, and each size's first read: not counted
            calls(case, keys[size])[0](readers[size])
        for i in range(reads):
            for size in sorted(shapes, reverse=bool(i % 2)):
                call = calls(case, keys[size])[0]
                times[size].append(timed(partial(call, readers[size]))["ms"])
        small, large = median(times["10^6"]), median(times["10^8"])
        ok = "ok" if large / small <= TARGET_SCALE_RATIO else "MISSED"
        print(f"  {case:<24} {small:6.1f} ms -> {large:6.1f} ms  {large / small:.2f}x "
              f"({ok} <= {TARGET_SCALE_RATIO}x)")  # fmt: skip
        result[case] = {"ms_10^6": small, "ms_10^8": large, "ratio": large / small}
    return result


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gwas-studies", type=int, default=100)
    parser.add_argument("--gwas-variants", type=int, default=10_000)
    parser.add_argument("--gwas-warm", type=int, default=30)
    parser.add_argument("--gwas-cold", type=int, default=8)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ingest"]:
        _ingest_child(argv[1], argv[2], int(argv[3]), int(argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    parser.add_argument("--scale", action="store_true")
    parser.add_argument("--tiledb", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument(
        "--scale-dir", help="where --scale builds (default: a new /tmp dir); reused if built"
    )
    args = parser.parse_args(argv)
    CONFIG_OVERRIDES.update(dict(item.split("=", 1) for item in args.tiledb))
    result = run_scale(args) if args.scale else run(args)
    print(f"\nGWAS_JSON {json.dumps(result, default=float)}")


if __name__ == "__main__":
    main()
