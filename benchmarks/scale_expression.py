"""``make scale``: a GTEx v8-size expression matrix through the ingest CLI (not in CI).

python -m benchmarks.scale_expression [--workdir /tmp] [--genes 56200] [--samples 17382]

Synthetic GTEx-style expression inputs (GCT 1.2 + sample attributes + subject phenotypes).

Genes and tissues come from a reference (the demo's GTF and tissue table) so the expression
part can be published against it. Values are log-normal TPMs with per-tissue effects, about
a fifth zeros, printed from a table of 2,048 pre-formatted levels: numpy draws a block of
rows at a time and each row is one ``bytes.join``, so 56,200 x 17,382 streams to disk in a
few minutes with memory bounded by the block.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

LEVELS = 2048
LOG10_MIN, LOG10_MAX = -2.0, 4.0  # 0.01 .. 10,000 TPM; below 0.01 prints as 0
BLOCK_ROWS = 256


@dataclass(frozen=True)
class GctFiles:
    gct: str
    sample_attributes: str
    subject_phenotypes: str
    genes: int
    samples: int


def reference_genes(gtf: str) -> tuple[list[str], list[str]]:
    """(gene_id, gene_name) of every ``gene`` line of a (gzipped) GTF, in file order."""
    ids: list[str] = []
    names: list[str] = []
    attr = re.compile(r'(gene_id|gene_name) "([^"]*)"')
    with gzip.open(gtf, "rt") if gtf.endswith(".gz") else open(gtf) as lines:
        for line in lines:
            fields = line.split("\t", 8)
            if len(fields) == 9 and fields[2] == "gene":
                found: dict[str, str] = dict(attr.findall(fields[8]))
                ids.append(found["gene_id"])
                names.append(found.get("gene_name", found["gene_id"]))
    return ids, names


def reference_tissues(tissues_tsv: str) -> list[str]:
    with open(tissues_tsv) as lines:
        header = lines.readline().rstrip("\n").split("\t")
        column = header.index("tissueSiteDetailId")
        return [line.rstrip("\n").split("\t")[column] for line in lines if line.strip()]


def _tokens() -> list[bytes]:
    values = 10 ** np.linspace(LOG10_MIN, LOG10_MAX, LEVELS - 1)
    return [b"0"] + [f"{v:.4g}".encode() for v in values]


def write_gct(
    directory: str,
    gene_ids: list[str],
    symbols: list[str],
    tissues: list[str],
    samples: int,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> GctFiles:
    """Write ``expression.gct`` (plain text), ``sample_attributes.tsv`` and
    ``subject_phenotypes.tsv`` into ``directory``; samples are spread over the tissues."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    genes = len(gene_ids)
    tissue_of = np.sort(rng.integers(0, len(tissues), samples))
    subjects = max(1, samples // 18)  # GTEx v8: 948 donors, 17,382 samples
    subject_of = rng.integers(0, subjects, samples)
    subject_ids = [f"GTEX-{s:05X}" for s in range(subjects)]
    sample_ids = [
        f"{subject_ids[subject_of[i]]}-{i % 10000:04d}-SM-{i:06X}" for i in range(samples)
    ]
    files = GctFiles(
        os.path.join(directory, "expression.gct"),
        os.path.join(directory, "sample_attributes.tsv"),
        os.path.join(directory, "subject_phenotypes.tsv"),
        genes,
        samples,
    )
    with open(files.sample_attributes, "w") as out:
        out.write("SAMPID\tSMTSD\tSUBJID\n")
        for i, sample in enumerate(sample_ids):
            out.write(f"{sample}\t{tissues[tissue_of[i]]}\t{subject_ids[subject_of[i]]}\n")
    ages = ["20-29", "30-39", "40-49", "50-59", "60-69", "70-79"]
    with open(files.subject_phenotypes, "w") as out:
        out.write("SUBJID\tSEX\tAGE\tDTHHRDY\n")
        for s, subject in enumerate(subject_ids):
            out.write(f"{subject}\t{1 + s % 2}\t{ages[s % len(ages)]}\t{s % 5}\n")
    tokens = _tokens()
    scale = (LEVELS - 2) / (LOG10_MAX - LOG10_MIN)
    with open(files.gct, "wb", buffering=1 << 22) as out:
        out.write(f"#1.2\n{genes}\t{samples}\nName\tDescription\t".encode())
        out.write("\t".join(sample_ids).encode() + b"\n")
        for start in range(0, genes, BLOCK_ROWS):
            stop = min(genes, start + BLOCK_ROWS)
            n = stop - start
            base = rng.normal(0.3, 1.2, (n, 1))  # log10 TPM of the gene
            by_tissue = rng.normal(0.0, 0.4, (n, len(tissues)))
            specific = rng.random(n) < 0.05  # tissue-specific genes: high in one tissue
            by_tissue[specific, rng.integers(0, len(tissues), int(specific.sum()))] += 2.0
            log10 = base + by_tissue[:, tissue_of] + rng.normal(0.0, 0.35, (n, samples))
            levels = np.clip(np.rint((log10 - LOG10_MIN) * scale), 0, LEVELS - 2)
            levels = levels.astype(np.int32) + 1
            levels[log10 < LOG10_MIN + 1.0] = 0  # below 0.1 TPM: mostly zeros, as in GTEx
            for row in range(n):
                gene = start + row
                out.write(f"{gene_ids[gene]}\t{symbols[gene]}\t".encode())
                out.write(b"\t".join([tokens[k] for k in levels[row].tolist()]))
                out.write(b"\n")
            if progress:
                progress(n)
    return files


def read_gct(path: str) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """A small GCT in memory: gene IDs, symbols, sample IDs, genes x samples float32."""
    with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as lines:
        lines.readline()
        genes, samples = (int(x) for x in lines.readline().split("\t")[:2])
        sample_ids = lines.readline().rstrip("\n").split("\t")[2:]
        matrix = np.empty((genes, samples), dtype=np.float32)
        ids, symbols = [], []
        for row, line in enumerate(lines):
            fields = line.rstrip("\n").split("\t")
            ids.append(fields[0])
            symbols.append(fields[1])
            matrix[row] = np.asarray(fields[2:], dtype=np.float32)
    return ids, symbols, sample_ids, matrix


# The scale run (make scale) ----------------------------------------------------------------

GTEX_GENES = 56_200
GTEX_SAMPLES = 17_382
SCALE_RELEASE = "scale-gtex"
DEMO_RELEASE = "scale-demo"
MEMORY_TARGET_MB = 2048
LATENCY_TARGET = 1.2
NEEDED_GB = 20  # GCT (~6 GB as text) + the array (~4 GB as float32, zstd ~2) + headroom


@dataclass(frozen=True)
class Measured:
    seconds: float
    max_rss_mb: float


TIME = "/usr/bin/time"


def run_cli(data_uri: str, *args: str, quiet: bool = True) -> Measured:
    """One ``omicsgate`` command in its own process: wall time and its peak RSS.

    The RSS comes from GNU time (``%M``), which forks the command from its own small process:
    Linux carries a parent's RSS high-water mark into a forked child's ``ru_maxrss``, so
    ``wait4`` on a child of this (numpy-laden) process would report at least our own peak."""
    command = [os.path.join(os.path.dirname(sys.executable), "omicsgate"), "--data-uri", data_uri]
    command += ["--quiet", *args] if quiet else list(args)
    env = dict(os.environ, OMICSGATE_DATA_URI=data_uri)
    env.pop("OMICSGATE_S3_ENDPOINT", None)
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        timed = os.path.exists(TIME)
        if timed:
            command = [TIME, "-f", "%M", "-o", rss.name, *command]
        start = time.perf_counter()
        process = subprocess.Popen(command, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status):
            raise RuntimeError(f"{' '.join(command)} exited {os.waitstatus_to_exitcode(status)}")
        kilobytes = int(rss.read().split()[-1]) if timed else usage.ru_maxrss
    return Measured(seconds, kilobytes / 1024)


def reference_files(directory: str, genes: int, reference_only: bool = False) -> Any:
    """The demo's inputs (tissues, GTF, variants, gene status, and unless
    ``reference_only`` its expression) for ``genes`` genes, written by the CLI
    (``omicsgate demo files``)."""
    subprocess.run(
        [
            os.path.join(os.path.dirname(sys.executable), "omicsgate"),
            *("demo", "files", directory, "--genes", str(genes)),
            *(["--reference-only"] if reference_only else []),
        ],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return _demo_paths(directory)


def _demo_paths(directory: str) -> Any:
    from types import SimpleNamespace

    names = {
        "tissues": "tissues.tsv",
        "annotation": "genes.gtf.gz",
        "variants": "variants.vcf.gz",
        "gene_status": "gene_status.tsv",
        "expression": "expression.gct.gz",
        "gct": "expression.gct.gz",
        "sample_attributes": "sample_attributes.tsv",
        "subject_phenotypes": "subject_phenotypes.tsv",
    }
    return SimpleNamespace(**{k: os.path.join(directory, v) for k, v in names.items()})


def ingest(data_uri: str, release: str, ref: Any, gct: GctFiles | Any) -> dict[str, Measured]:
    """Reference part, expression part (the one measured), publish: all through the CLI."""
    steps = {
        "reference": run_cli(
            data_uri,
            *("ingest", "reference", "--release", release, "--tissues", ref.tissues),
            *("--annotation", ref.annotation, "--variants", ref.variants),
            *("--gene-status", ref.gene_status),
        ),
        "expression": run_cli(
            data_uri,
            *("ingest", "expression", "--release", release, "--gct", gct.gct),
            *("--sample-attributes", gct.sample_attributes),
            *("--subject-phenotypes", gct.subject_phenotypes),
            quiet=False,  # the progress bar shows rows done
        ),
    }
    steps["publish"] = run_cli(data_uri, "releases", "publish", release)
    return steps


def gene_latency(data_uri: str, release: str, n: int, seed: int = 3) -> dict[str, float]:
    """Warm 1-gene reads through the serving function: one store, one first read, then ``n``
    reads of random genes (median, p90 in ms)."""
    from dataclasses import replace as replaced

    from benchmarks.expression import p90
    from benchmarks.stats import median
    from omicsgate.portal import expression_schema as xs
    from omicsgate.portal.expression import expression_rows
    from omicsgate.settings import get_settings
    from omicsgate.storage import DataStore

    store = DataStore(replaced(get_settings(), data_uri=data_uri, s3_endpoint=None))
    genes = len(store.read_all(release, xs.EXPRESSION_GENES)["gene_row"])
    rng = np.random.default_rng(seed)
    expression_rows(store, release, [0])
    times = []
    width = 0
    for row in rng.integers(0, genes, n).tolist():
        start = time.perf_counter()
        width = expression_rows(store, release, [row]).shape[1]
        times.append((time.perf_counter() - start) * 1000)
    return {"genes": genes, "samples": width, "median_ms": median(times), "p90_ms": p90(times)}


def scale_main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="make scale: GTEx v8-size expression ingest")
    parser.add_argument("--workdir", default=tempfile.gettempdir(), help="where the GCT goes")
    parser.add_argument("--genes", type=int, default=GTEX_GENES)
    parser.add_argument("--samples", type=int, default=GTEX_SAMPLES)
    parser.add_argument("--reads", type=int, default=300, help="warm 1-gene reads")
    parser.add_argument("--keep", action="store_true", help="keep the GCT and the arrays")
    args = parser.parse_args(argv)
    free_gb = shutil.disk_usage(args.workdir).free / 2**30
    needed = NEEDED_GB * args.genes * args.samples / (GTEX_GENES * GTEX_SAMPLES)
    print(f"{args.workdir}: {free_gb:.0f} GB free, about {needed:.1f} GB needed")
    if free_gb < needed:
        raise SystemExit(f"not enough disk in {args.workdir}: pass --workdir")
    tmp = tempfile.mkdtemp(prefix="omicsgate-scale-", dir=args.workdir)
    try:
        result = _scale(tmp, args)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nSCALE_JSON {json.dumps(result)}")


def _scale(tmp: str, args: argparse.Namespace) -> dict[str, Any]:
    from benchmarks.run import table

    start = time.perf_counter()
    ref = reference_files(f"{tmp}/reference", args.genes, reference_only=True)
    ids, names = reference_genes(ref.annotation)
    ids, names = ids[: args.genes], names[: args.genes]
    gct = write_gct(f"{tmp}/gct", ids, names, reference_tissues(ref.tissues), args.samples)
    generated = time.perf_counter() - start
    gct_gb = os.path.getsize(gct.gct) / 2**30
    print(f"GCT {len(ids):,} x {args.samples:,}: {gct_gb:.2f} GB in {generated:.0f} s")
    data = f"{tmp}/data"
    big = ingest(data, SCALE_RELEASE, ref, gct)
    os.remove(gct.gct)  # the disk the GCT held is free again before the reads
    demo_ref = reference_files(f"{tmp}/demo", 3000)
    demo = ingest(data, DEMO_RELEASE, demo_ref, demo_ref)
    array_gb = _du(data) / 2**30
    big_latency = gene_latency(data, SCALE_RELEASE, args.reads)
    demo_latency = gene_latency(data, DEMO_RELEASE, args.reads)
    ratio = big_latency["median_ms"] / demo_latency["median_ms"]
    table(
        "Ingestion through the CLI, local directory (each step its own process; peak RSS "
        "by GNU time; a shared 2-core machine)",
        ["release", "step", "seconds", "peak RSS MB", "target"],
        [
            [
                name,
                step,
                m.seconds,
                m.max_rss_mb,
                ("ok" if m.max_rss_mb < MEMORY_TARGET_MB else "MISSED") + " < 2 GB"
                if name.startswith("GTEx") and step == "expression"
                else "",
            ]
            for name, steps in (
                (f"GTEx v8 size {len(ids):,} x {args.samples:,}", big),
                ("demo", demo),
            )
            for step, m in steps.items()
        ],
    )
    print(f"  stored (both releases): {array_gb:.2f} GB; GCT text {gct_gb:.2f} GB")
    table(
        f"Warm 1-gene read through expression_rows, local directory, {args.reads} random genes",
        ["release", "genes", "samples", "median ms", "p90 ms", "ratio", "target"],
        [
            [
                "demo",
                demo_latency["genes"],
                demo_latency["samples"],
                demo_latency["median_ms"],
                demo_latency["p90_ms"],
                "1.00x",
                "",
            ],
            [
                "GTEx v8 size",
                big_latency["genes"],
                big_latency["samples"],
                big_latency["median_ms"],
                big_latency["p90_ms"],
                f"{ratio:.2f}x",
                ("ok" if ratio <= LATENCY_TARGET else "MISSED") + f" <= {LATENCY_TARGET}x",
            ],
        ],
    )
    return {
        "genes": len(ids),
        "samples": args.samples,
        "gct_gb": gct_gb,
        "gct_seconds": generated,
        "ingest": {k: vars(v) for k, v in big.items()},
        "demo_ingest": {k: vars(v) for k, v in demo.items()},
        "stored_gb": array_gb,
        "latency": {"scale": big_latency, "demo": demo_latency, "ratio": ratio},
    }


def _du(path: str) -> int:
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(path)
        for name in names
    )


if __name__ == "__main__":
    scale_main()
