"""RNAget: a 1,000-gene x all-samples expression slice as TSV and as loom.

python -m benchmarks.rnaget [--rnaget-genes 2000,8000] [--rnaget-scale-data DIR]

Matrices of GTEx v8 width (17,382 samples) and growing gene counts are written as GCT and
ingested through the CLI (the path real data takes), on local disk; ``make scale --keep``
leaves a 56,200-gene release that ``--rnaget-scale-data DIR/data`` adds as a last row.

Each measurement is its own process calling the RnagetFunction handler, as Lambda would,
with ``GET /rnaget/expressions/bytes?format=F&projectID=R&featureIDList=<1,000 IDs>``:

- **answer**: until the handler returns. The slice is far above Lambda's 6 MB, so the
  answer is a 303 to the ticket file the handler has just written: this is the time to
  the first byte a client receives.
- **download**: fetching the ticket URL (the local download route; on AWS, S3 itself).
- **peak**: the handler process's RSS high-water mark during the answer, above its RSS
  once warm (``/proc/self/clear_refs`` resets the mark), against the slice's float32 size
  (target: under 3x, whatever the matrix size).
- **baseline**, measured in the same process: the bare TileDB read of the same 1,000 rows
  and every column (what any server must do at least); ``ratio`` = answer / baseline.

The first matrix is also served from a counting moto S3 server for the S3 requests and
bytes an answer costs (reads of the matrix, the ticket's PUT).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from typing import Any
from urllib.parse import urlsplit

from benchmarks.env import AWS_ENV, ROOT
from benchmarks.expression import BUCKET, counting_moto
from benchmarks.gwas import upload_tree
from benchmarks.scale_expression import (
    GTEX_SAMPLES,
    SCALE_RELEASE,
    ingest,
    reference_files,
    reference_genes,
    reference_tissues,
    write_gct,
)

SLICE_GENES = 1000
FORMATS = ("tsv", "loom")
PEAK_TARGET = 3.0
MOTO_PREFIX = "rnaget-bench"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rnaget-genes", default="2000,8000", help="gene counts of the matrices built"
    )
    parser.add_argument("--rnaget-samples", type=int, default=GTEX_SAMPLES)
    parser.add_argument(
        "--rnaget-scale-data", help=f"a data directory holding make scale's {SCALE_RELEASE}"
    )


def build(tmp: str, genes: int, samples: int) -> tuple[str, str, float]:
    """A release of ``genes`` x ``samples`` on local disk: (data URI, release, seconds)."""
    start = time.perf_counter()
    ref = reference_files(f"{tmp}/ref-{genes}", genes, reference_only=True)
    ids, names = reference_genes(ref.annotation)
    gct = write_gct(
        f"{tmp}/gct-{genes}", ids[:genes], names[:genes], reference_tissues(ref.tissues), samples
    )
    release = f"wide-{genes}"
    data = f"{tmp}/data-{genes}"
    ingest(data, release, ref, gct)
    os.remove(gct.gct)
    return data, release, time.perf_counter() - start


# One measurement, in its own process ------------------------------------------------------


def _rss_mb(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # resets VmHWM to the current RSS


def measure(data_uri: str, release: str, file_format: str, endpoint: str | None) -> dict[str, Any]:
    """Runs in a child: warm the handler, then one slice answer and its download."""
    import numpy as np

    from benchmarks.warm import quiet
    from omicsgate.localapi.events import LocalContext, http_api_event
    from omicsgate.localapi.template import load_handler, load_template
    from omicsgate.portal.expression import index
    from omicsgate.settings import get_settings
    from omicsgate.storage import DataStore

    template = load_template(os.path.join(os.path.dirname(__file__), "..", "infra/template.yaml"))
    handler = load_handler(template.functions["RnagetFunction"])
    store = DataStore(get_settings())
    genes = sorted(
        (g for g in index(store, release).genes.values() if g.row >= 0), key=lambda g: g.row
    )
    chosen = random.Random(11).sample(genes, SLICE_GENES)

    def call(path: str, query: str) -> tuple[dict[str, Any], float]:
        event = http_api_event("GET", path, query, headers={"host": "127.0.0.1:3000"})
        start = time.perf_counter()
        with quiet():
            answer = handler(event, LocalContext("RnagetFunction"))
        return answer, (time.perf_counter() - start) * 1000

    def ask(gene_ids: list[str]) -> tuple[dict[str, Any], float]:
        ids = ",".join(gene_ids)
        return call("/rnaget/expressions/bytes", f"format={file_format}&projectID={release}"
                    f"&featureIDList={ids}")  # fmt: skip

    warmup, _ = ask([g.gene_id for g in chosen[:1]])  # imports, arrays opened, indexes built
    assert warmup["statusCode"] in (200, 303), warmup  # 303: 17,382 samples labels > 4 MB
    baseline_ms = _bare_read(store, release, sorted(g.row for g in chosen))
    mark = _moto_mark(endpoint)
    warm_rss = _rss_mb("VmRSS")
    _reset_peak()
    answer, answer_ms = ask([g.gene_id for g in chosen])
    peak_mb = _rss_mb("VmHWM") - warm_rss
    assert answer["statusCode"] == 303, {k: answer[k] for k in ("statusCode", "headers")}
    location = urlsplit(answer["headers"]["location"])
    requests_made = _moto_since(endpoint, mark)
    download_start = time.perf_counter()
    size = _download(location, call)
    download_ms = (time.perf_counter() - download_start) * 1000
    samples = index(store, release).columns
    return {
        "release": release,
        "format": file_format,
        "genes": len(genes),
        "samples": samples,
        "slice_mb": SLICE_GENES * samples * np.dtype(np.float32).itemsize / 2**20,
        "file_mb": size / 2**20,
        "answer_ms": answer_ms,
        "download_ms": download_ms,
        "baseline_ms": baseline_ms,
        "warm_rss_mb": warm_rss,
        "peak_mb": peak_mb,
        "s3": requests_made,
    }


def _bare_read(store: Any, release: str, rows: list[int]) -> float:
    """The same rows x every column straight from the TileDB array (best of 3)."""
    import tiledb

    from omicsgate.portal import expression_schema as xs

    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        with tiledb.open(store.array_uri(release, xs.EXPRESSION), ctx=store.ctx) as array:
            array.query(attrs=["tpm"]).multi_index[rows, :]
        best = min(best, (time.perf_counter() - start) * 1000)
    return best


def _download(location: Any, call: Any) -> int:
    """The ticket file's size, fetched as a client would: S3 straight, the local route
    through the handler."""
    if location.path.startswith("/rnaget/files/"):
        answer, _ = call(location.path, location.query)
        assert answer["statusCode"] == 200, answer["statusCode"]
        body = answer["body"]
        return len(body) * 3 // 4 if answer.get("isBase64Encoded") else len(body.encode())
    import requests

    with requests.get(location.geturl(), timeout=300) as response:
        response.raise_for_status()
        return len(response.content)


def _moto_mark(endpoint: str | None) -> int | None:
    log = os.environ.get("RNAGET_BENCH_MOTO_LOG")
    return os.path.getsize(log) if endpoint and log else None


def _moto_since(endpoint: str | None, mark: int | None) -> dict[str, Any] | None:
    log = os.environ.get("RNAGET_BENCH_MOTO_LOG")
    if mark is None or not log:
        return None
    time.sleep(0.05)
    with open(log, "rb") as handle:
        handle.seek(mark)
        served = [json.loads(line) for line in handle.read().decode().splitlines() if line]
    kinds: dict[str, int] = {}
    for item in served:
        kinds[item["method"]] = kinds.get(item["method"], 0) + 1
    return {
        "requests": len(served),
        "by_method": kinds,
        "kib": sum(s["bytes"] for s in served) / 1024,
    }


def _child(data_uri: str, release: str, file_format: str, endpoint: str | None) -> dict[str, Any]:
    env = dict(os.environ, **AWS_ENV, OMICSGATE_DATA_URI=data_uri)
    env.pop("OMICSGATE_S3_ENDPOINT", None)
    if endpoint:
        env["OMICSGATE_S3_ENDPOINT"] = endpoint
    command = [sys.executable, "-m", "benchmarks.rnaget", "measure", data_uri, release]
    done = subprocess.run(
        [*command, file_format, endpoint or ""], env=env, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    line = next(x for x in done.stdout.splitlines() if x.startswith("RNAGET_JSON "))
    return dict(json.loads(line.removeprefix("RNAGET_JSON ")))


def _clear_tickets(data_uri: str) -> None:
    """Tickets are content-addressed: a second run would find the first one's file."""
    import shutil

    shutil.rmtree(os.path.join(data_uri, "rnaget", "tickets"), ignore_errors=True)


# The section ---------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    os.environ.update(AWS_ENV)
    results: list[dict[str, Any]] = []
    built: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["OMICSGATE_AUTH_DIR"] = f"{tmp}/auth"
        releases = []
        for genes in (int(g) for g in args.rnaget_genes.split(",")):
            data, release, seconds = build(tmp, genes, args.rnaget_samples)
            built[release] = seconds
            releases.append((data, release))
        if args.rnaget_scale_data:
            releases.append((args.rnaget_scale_data, SCALE_RELEASE))
        for data, release in releases:
            for file_format in FORMATS:
                _clear_tickets(data)
                results.append(_child(data, release, file_format, None) | {"store": "disk"})
            _clear_tickets(data)
        results += _on_moto(tmp, *releases[0])
    _print(results, built)
    return {"built_s": built, "results": results}


def _on_moto(tmp: str, data: str, release: str) -> list[dict[str, Any]]:
    with counting_moto(tmp) as moto:
        upload_tree(moto.endpoint, data, MOTO_PREFIX)
        uri = f"s3://{BUCKET}/{MOTO_PREFIX}"
        os.environ["RNAGET_BENCH_MOTO_LOG"] = str(moto.log)
        try:
            return [_child(uri, release, f, moto.endpoint) | {"store": "moto S3"} for f in FORMATS]
        finally:
            os.environ.pop("RNAGET_BENCH_MOTO_LOG", None)


def _print(results: list[dict[str, Any]], built: dict[str, float]) -> None:
    from benchmarks.run import table  # run imports this module

    print(
        "\nRNAget: 1,000 random genes x every sample, GET /rnaget/expressions/bytes through "
        "the RnagetFunction handler (a 303 to the ticket file: the answer is above Lambda's "
        "6 MB). Built through the CLI: " + ", ".join(f"{r} in {s:.0f} s" for r, s in built.items())
    )
    rows = []
    for r in results:
        ratio = r["peak_mb"] / r["slice_mb"]
        s3 = r["s3"]
        rows.append(
            [
                r["release"],
                f"{r['genes']:,} x {r['samples']:,}",
                r["store"],
                r["format"],
                f"{r['file_mb']:.1f}",
                f"{r['answer_ms']:.0f}",
                f"{r['download_ms']:.0f}",
                f"{r['answer_ms'] + r['download_ms']:.0f}",
                f"{r['baseline_ms']:.0f}",
                f"{r['answer_ms'] / r['baseline_ms']:.1f}x",
                f"{r['slice_mb']:.1f}",
                f"{r['peak_mb']:.0f}",
                f"{ratio:.2f}x " + ("ok" if ratio < PEAK_TARGET else "MISSED"),
                "" if s3 is None else f"{s3['requests']} {s3['by_method']} / {s3['kib']:,.0f}",
            ]
        )
    table(
        "RNAget slice: ms (one request each; answer = time to the first byte), peak RSS MB "
        f"above warm, target peak < {PEAK_TARGET:g}x the slice",
        ["release", "matrix", "store", "format", "file MB", "answer", "download", "total",
         "bare read", "ratio", "slice MB", "peak MB", "peak/slice", "S3 reqs / KiB"],
        rows,
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    if argv is None:
        argv = sys.argv[1:]
    if argv and argv[0] == "measure":
        data_uri, release, file_format, endpoint = argv[1:5]
        result = measure(data_uri, release, file_format, endpoint or None)
        print("RNAGET_JSON " + json.dumps(result))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
