"""LD reference panels: clumping, an LD matrix and associations with proxies, on moto S3.

python -m benchmarks.ld [--ld-snps 10000] [--ld-samples 500] [--ld-warm 5] [--ld-cold 3]

A synthetic EUR panel (chr1, haplotype blocks: each block's haplotypes copy one of a few
founder haplotypes, with mutations) is written with ``write_panel`` straight to a counting
moto server (``benchmarks.expression.counting_moto``). Ten studies over the panel's SNPs,
each missing the same 100 target SNPs, are ingested with ``add_study`` on local disk,
consolidated and uploaded next to it (as ``benchmarks.gwas`` does: moto fails some of
consolidation's parallel listings). Everything is read from moto; nothing on local disk.

Each answer is timed cold (a fresh ``DataStore``: new TileDB context, panel record, array
opens) and warm (the same panel object again), with moto's requests and response bytes,
beside baselines measured in the same run: the panel reads alone (``first_rows`` +
``Panel.dosages`` of the same SNPs) and the arithmetic alone (``omicsgate.science.ld``
on genotypes already in memory). A 10,000 x 500 panel is below ``IN_MEMORY_CELLS`` and
is read whole on first use; the ``windowed`` rows force the by-window reads a
genome-size panel gets (``_panels.IN_MEMORY_CELLS = 0``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import numpy as np

from benchmarks.env import AWS_ENV, TEMPLATE
from benchmarks.expression import BUCKET, CountingMoto, counting_moto, measured, summary
from benchmarks.gwas import new_store, upload_tree

POPULATION = "EUR"
PREFIX = "ld-bench"
P1 = 5e-8
CLUMP_SETTINGS = ((0.001, 5000.0), (0.1, 250.0))  # (r2, kb): OpenGWAS's default, a tighter one
MATRIX_SNPS = 500
TARGETS = 100
CAUSAL = 60
ALLELES = (("A", "G"), ("C", "T"), ("A", "C"), ("G", "T"))  # no palindromes: all align


@dataclass(frozen=True)
class Synthetic:
    panel: Any  # PanelData
    z: np.ndarray  # association z of a "true" trait at every SNP (clumping's p-values)
    effects: np.ndarray  # SNP x causal correlations (within 1 Mb), for the studies' z
    lam: np.ndarray  # causal effects
    targets: np.ndarray  # SNP indexes removed from every study


# Synthetic data ------------------------------------------------------------------------


def synthetic(snps: int, samples: int, seed: int = 7) -> Synthetic:
    """Haplotype blocks of 10-80 SNPs; in each, 3-6 founder haplotypes with Dirichlet
    frequencies, every sample haplotype a copy of one (0.5 % of sites mutated)."""
    from omicsgate.gwas.panel_writer import PanelData

    rng = np.random.default_rng(seed)
    pos = (1_000_000 + np.cumsum(rng.exponential(2_000, snps)).astype(np.int64)).astype(np.uint32)
    haps = np.empty((2 * samples, snps), dtype=bool)
    start = 0
    while start < snps:
        end = min(snps, start + int(rng.integers(10, 81)))
        k = int(rng.integers(3, 7))
        founders = rng.random((k, end - start)) < rng.uniform(0.1, 0.9, end - start)
        pick = rng.choice(k, size=2 * samples, p=rng.dirichlet(np.ones(k)))
        haps[:, start:end] = founders[pick] ^ (rng.random((2 * samples, end - start)) < 0.005)
        start = end
    dosage = (haps[0::2].astype(np.uint8) + haps[1::2]).T.astype(np.float64)  # SNPs x samples
    pairs = rng.integers(0, len(ALLELES), snps)
    panel = PanelData(
        chrom=np.ones(snps, dtype=np.uint8),
        pos=pos,
        rsid=np.array([f"rs{100_000 + i}" for i in range(snps)], dtype=object),
        a1=np.array([ALLELES[p][0] for p in pairs], dtype=object),
        a2=np.array([ALLELES[p][1] for p in pairs], dtype=object),
        dosage=dosage,
        samples=[f"S{i:04d}" for i in range(samples)],
    )
    # Association z of a trait with CAUSAL causal SNPs: z_j = sum_c r(j, c) lam_c + noise,
    # r from the panel within 1 Mb (the LD a GWAS inherits), so hits come in LD blocks.
    centred = dosage - dosage.mean(axis=1, keepdims=True)
    sd = centred.std(axis=1, keepdims=True)
    std = np.divide(centred, sd, out=np.zeros_like(centred), where=sd > 0)
    maf = np.minimum(dosage.mean(axis=1) / 2, 1 - dosage.mean(axis=1) / 2)
    causal = rng.choice(np.flatnonzero(maf > 0.1), CAUSAL, replace=False)
    effects = std @ std[causal].T / samples
    effects[np.abs(pos[:, None].astype(np.int64) - pos[causal][None, :]) > 1_000_000] = 0
    lam = rng.choice([-1, 1], CAUSAL) * rng.uniform(5, 12, CAUSAL)
    z = effects @ lam + rng.standard_normal(snps)
    common = np.flatnonzero((maf > 0.1) & ~np.isin(np.arange(snps), causal))
    targets = np.sort(rng.choice(common, TARGETS, replace=False))
    return Synthetic(panel, z, effects, lam, targets)


def log10_p(z: np.ndarray) -> np.ndarray:
    from scipy.special import log_ndtr

    return np.asarray(-(np.log(2.0) + log_ndtr(-np.abs(z))) / np.log(10))


def study_id(study: int) -> str:
    return f"ld-bench-{study + 1}"


def ingest_studies(data_uri: str, data: Synthetic, studies: int) -> None:
    """``add_study`` per study (the path ``omicsgate ingest gwas`` takes after parsing),
    every SNP of the panel but the targets, then consolidation."""
    from omicsgate.gwas.writer import Batch, add_study, consolidate

    store = new_store(data_uri, None)
    panel = data.panel
    keep = np.setdiff1d(np.arange(len(panel.pos)), data.targets)
    freq = panel.dosage.mean(axis=1) / 2
    for study in range(studies):
        rng = np.random.default_rng(1000 + study)
        z = data.effects @ (data.lam * rng.uniform(0.5, 1.5, len(data.lam)))
        z = z + rng.standard_normal(len(z))
        se = np.full(len(z), 0.01)
        columns = {
            "chrom": panel.chrom, "pos": panel.pos, "rsid": panel.rsid, "ea": panel.a1,
            "nea": panel.a2, "eaf": freq, "beta": z * se, "se": se, "lp": log10_p(z),
            "n": np.full(len(z), 50_000.0),
        }  # fmt: skip
        batch = Batch({name: np.asarray(values)[keep] for name, values in columns.items()})
        add_study(store, study_id(study), {"trait": f"LD bench trait {study + 1}"}, [batch])
    consolidate(store)


def build(tmp: str, moto: CountingMoto, data: Synthetic, studies: int) -> dict[str, float]:
    from omicsgate.gwas.panel_writer import write_panel

    start = time.perf_counter()
    write_panel(new_store(f"s3://{BUCKET}/{PREFIX}", moto.endpoint), POPULATION, data.panel)
    panel_s = time.perf_counter() - start
    start = time.perf_counter()
    ingest_studies(f"{tmp}/studies", data, studies)
    upload_tree(moto.endpoint, f"{tmp}/studies", PREFIX)
    return {"write_panel_s": panel_s, "studies_s": time.perf_counter() - start}


# Measuring -----------------------------------------------------------------------------


@contextmanager
def windowed(on: bool) -> Iterator[None]:
    """Read the panel by window, as a panel above ``IN_MEMORY_CELLS`` is."""
    from omicsgate.gwas import _panels

    saved = _panels.IN_MEMORY_CELLS
    _panels.IN_MEMORY_CELLS = 0 if on else saved
    try:
        yield
    finally:
        _panels.IN_MEMORY_CELLS = saved


class Bench:
    def __init__(self, moto: CountingMoto, warm_n: int, cold_n: int) -> None:
        self.moto, self.warm_n, self.cold_n = moto, warm_n, cold_n
        self.uri = f"s3://{BUCKET}/{PREFIX}"
        self._science: dict[str, dict[str, Any]] = {}

    def fresh_panel(self) -> Any:
        """The panel as a new container finds it: new store, record read, nothing open."""
        from omicsgate.gwas import GwasStore

        return GwasStore(new_store(self.uri, self.moto.endpoint)).panel(POPULATION)

    def cold(self, work: Callable[[Any], Any]) -> dict[str, Any]:
        return summary([measured(self.moto, lambda: work(self.fresh_panel())) for _ in
                        range(self.cold_n)])  # fmt: skip

    def warm(self, work: Callable[[Any], Any]) -> dict[str, Any]:
        panel = self.fresh_panel()
        work(panel)  # opened and loaded: not counted
        return summary([measured(self.moto, lambda: work(panel)) for _ in range(self.warm_n)])

    def timed(self, work: Callable[[], Any]) -> dict[str, Any]:
        return summary([measured(self.moto, work) for _ in range(self.warm_n)])

    def science(self, name: str, work: Callable[[], Any]) -> dict[str, Any]:
        """The arithmetic alone, measured once per run (both panel modes share it)."""
        if name not in self._science:
            self._science[name] = self.timed(work)
        return self._science[name]


def read_genotypes(panel: Any, rsids: list[str]) -> np.ndarray:
    """The panel reads an answer makes for these SNPs: rows by rsid, then genotypes."""
    from omicsgate.gwas.ld import first_rows

    snps, _ = first_rows(panel, rsids)
    return np.asarray(panel.dosages(snps.index))


def clump_cases(bench: Bench, data: Synthetic, mode: str) -> list[tuple[str, dict[str, Any], str]]:
    from omicsgate.gwas.ld import clump
    from omicsgate.science.ld import clump as clump_snps

    panel = data.panel
    rsids = [str(r) for r in panel.rsid]
    p = np.power(10.0, -log10_p(data.z))
    candidates = [rsids[i] for i in np.flatnonzero(p <= P1)]
    rows: list[tuple[str, dict[str, Any], str]] = []
    with windowed(mode == "windowed"):
        io = bench.cold(lambda pn: read_genotypes(pn, candidates))
        io_warm = bench.warm(lambda pn: read_genotypes(pn, candidates))
        rows.append((f"{mode}: read candidates' genotypes, cold", io, "I/O baseline"))
        rows.append((f"{mode}: read candidates' genotypes, warm", io_warm, ""))
        chosen = np.flatnonzero(p <= P1)
        G, chrom, pos = panel.dosage[chosen], panel.chrom[chosen], panel.pos[chosen]
        for r2, kb in CLUMP_SETTINGS:
            label = f"clump r2={r2:g} kb={kb:g}"

            def work(pn: Any, r2: float = r2, kb: float = kb) -> Any:
                return clump(pn, rsids, p, P1, r2, kb)

            cold, warm = bench.cold(work), bench.warm(work)

            def arithmetic(r2: float = r2, kb: float = kb) -> Any:
                return clump_snps(chrom.astype(np.int64), pos.astype(np.int64), p[chosen], G,
                                  P1, r2, kb)  # fmt: skip

            science = bench.science(label, arithmetic)
            if mode == "in memory":
                rows.append((f"  {label}: science.ld.clump alone", science, "science baseline"))
            rows.append((f"{mode}: {label}, cold", cold, _ratio(cold, io, "I/O")))
            rows.append((f"{mode}: {label}, warm", warm, _ratio(warm, science, "science")))
    return rows


def matrix_cases(bench: Bench, data: Synthetic, mode: str) -> list[tuple[str, dict[str, Any], str]]:
    from omicsgate.gwas.ld import ld_matrix
    from omicsgate.science.ld import dosage_r_matrix

    rng = np.random.default_rng(3)
    picked = np.sort(rng.choice(len(data.panel.pos), MATRIX_SNPS, replace=False))
    rsids = [str(data.panel.rsid[i]) for i in picked]
    G = data.panel.dosage[picked]
    rows: list[tuple[str, dict[str, Any], str]] = []
    with windowed(mode == "windowed"):
        io = bench.cold(lambda pn: read_genotypes(pn, rsids))
        cold = bench.cold(lambda pn: ld_matrix(pn, rsids))
        warm = bench.warm(lambda pn: ld_matrix(pn, rsids))
        science = bench.science("dosage_r_matrix", lambda: dosage_r_matrix(G))
        if mode == "in memory":
            rows.append(("  dosage_r_matrix alone", science, "science baseline"))
        rows.append((f"{mode}: read the {MATRIX_SNPS} SNPs' genotypes, cold", io, "I/O baseline"))
        rows.append((f"{mode}: ld_matrix, cold", cold, _ratio(cold, io, "I/O")))
        rows.append((f"{mode}: ld_matrix, warm", warm, _ratio(warm, science, "science")))
    return rows


def _ratio(total: dict[str, Any], base: dict[str, Any], name: str) -> str:
    return f"{total['median_ms'] / base['median_ms']:.2f}x {name}"


# Associations with proxies, through the gwas Lambda handler ---------------------------------


class Handler:
    def __init__(self, bench: Bench) -> None:
        from omicsgate.localapi.template import load_handler, load_template

        self.bench = bench
        self.handler = load_handler(load_template(str(TEMPLATE)).functions["GwasFunction"])
        self.last: list[dict[str, Any]] = []

    def fresh(self) -> None:
        """A new container's state: settings, store and GWAS reader forgotten."""
        from omicsgate.gwas import reset_gwas
        from omicsgate.localapi.devtools import use_store

        use_store(self.bench.uri, self.bench.moto.endpoint)
        reset_gwas()

    def post(self, rsids: list[str], ids: list[str], proxies: bool) -> None:
        from omicsgate.localapi.events import LocalContext, http_api_event

        form = [("variant", r) for r in rsids] + [("id", i) for i in ids]
        form += [("proxies", "1" if proxies else "0"), ("population", POPULATION)]
        event = http_api_event(
            "POST", "/gwas/associations",
            headers={"content-type": "application/x-www-form-urlencoded"},
            body=urlencode(form).encode(),
        )  # fmt: skip
        response = self.handler(event, LocalContext())
        if response["statusCode"] != 200:
            raise RuntimeError(f"/gwas/associations: {response['statusCode']}: {response}")
        self.last = json.loads(response["body"])


def proxy_cases(
    bench: Bench, data: Synthetic, studies: int
) -> tuple[list[tuple[str, dict[str, Any], str]], dict[str, int]]:
    from benchmarks.warm import quiet

    handler = Handler(bench)
    rsids = [str(data.panel.rsid[i]) for i in data.targets]
    rng = np.random.default_rng(4)
    present_index = rng.choice(np.setdiff1d(np.arange(len(data.panel.pos)), data.targets),
                               len(rsids), replace=False)  # fmt: skip
    present = [str(data.panel.rsid[i]) for i in np.sort(present_index)]
    ids = [study_id(s) for s in range(studies)]
    counts: dict[str, int] = {}

    def cold(call: Callable[[], Any]) -> dict[str, Any]:
        samples = []
        for _ in range(bench.cold_n):
            handler.fresh()
            samples.append(measured(bench.moto, call))
        return summary(samples)

    def warm(call: Callable[[], Any]) -> dict[str, Any]:
        handler.fresh()
        call()
        return bench.timed(call)

    from omicsgate.gwas.ld import proxies_for

    science = bench.warm(lambda pn: proxies_for(pn, rsids, 0.8))
    with quiet():
        with_p = lambda: handler.post(rsids, ids, True)  # noqa: E731
        without = lambda: handler.post(rsids, ids, False)  # noqa: E731
        direct = lambda: handler.post(present, ids, False)  # noqa: E731
        results = {name: (cold(call), warm(call)) for name, call in
                   (("proxies", with_p), ("without", without), ("direct", direct))}  # fmt: skip
        with_p()
        counts["records"] = len(handler.last)
        counts["proxied"] = sum(1 for r in handler.last if r.get("proxy"))
        without()
        counts["records_without"] = len(handler.last)
        direct()
        counts["records_direct"] = len(handler.last)
    shape = f"{len(rsids)} x {studies}"
    rows: list[tuple[str, dict[str, Any], str]] = [
        (f"  proxies_for({len(rsids)} targets) alone, warm panel", science, "panel part")
    ]
    for mode, index in (("cold", 0), ("warm", 1)):
        proxied, bare, found = (results[n][index] for n in ("proxies", "without", "direct"))
        rows.append((f"targets {shape}, proxies=0, {mode}", bare, "baseline"))
        rows.append((f"present {shape}, proxies=0, {mode}", found, "baseline"))
        ratios = f"{_ratio(proxied, bare, 'proxies=0')}, {_ratio(proxied, found, 'present')}"
        rows.append((f"targets {shape}, proxies=1, {mode}", proxied, ratios))
    return rows, counts


@contextmanager
def own_auth(tmp: str) -> Iterator[None]:
    """The handler's allowance kept in the run's temp dir (not the checkout's ``.auth``),
    with room for every request the section makes."""
    names = ("OMICSGATE_AUTH_DIR", "OMICSGATE_ANONYMOUS_LIMIT")
    saved = {name: os.environ.get(name) for name in names}
    os.environ.update({names[0]: f"{tmp}/auth", names[1]: str(10**9)})
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


# Report --------------------------------------------------------------------------------


def print_table(title: str, rows: list[tuple[str, dict[str, Any], str]]) -> None:
    from benchmarks.run import table

    table(
        title,
        ["case", "median ms", "p90 ms", "S3 reqs", "KiB", "ratio"],
        [
            [label, s["median_ms"], s["p90_ms"], f"{s['requests_median']:g}",
             f"{s['bytes_median'] / 1024:,.0f}", ratio]
            for label, s, ratio in rows
        ],
    )  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    """make bench: the LD section, on its own counting moto server."""
    os.environ.update(AWS_ENV)
    start = time.perf_counter()
    data = synthetic(args.ld_snps, args.ld_samples)
    p = np.power(10.0, -log10_p(data.z))
    candidates = int((p <= P1).sum())
    out: dict[str, Any] = {"snps": args.ld_snps, "samples": args.ld_samples,
                           "candidates": candidates}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp, counting_moto(tmp) as moto, own_auth(tmp):
        out["build"] = build(tmp, moto, data, args.ld_studies)
        bench = Bench(moto, args.ld_warm, args.ld_cold)
        clumping = [row for mode in ("in memory", "windowed") for row in
                    clump_cases(bench, data, mode)]  # fmt: skip
        matrix = [row for mode in ("in memory", "windowed") for row in
                  matrix_cases(bench, data, mode)]  # fmt: skip
        proxies, counts = proxy_cases(bench, data, args.ld_studies)
    out["proxy_counts"] = counts
    print(
        f"\nLD: synthetic {POPULATION} panel, {args.ld_snps:,} SNPs on chr1 x {args.ld_samples} "
        f"samples, written to moto with write_panel in {out['build']['write_panel_s']:.1f} s; "
        f"{args.ld_studies} studies ingested on disk and uploaded in "
        f"{out['build']['studies_s']:.1f} s. All reads from moto S3 (none from local disk)."
    )
    print_table(
        f"LD clumping of {args.ld_snps:,} SNPs ({candidates:,} with p <= {P1:g}) on moto S3: "
        f"medians of {args.ld_cold} cold / {args.ld_warm} warm, S3 requests and KiB served",
        clumping,
    )
    print_table(f"LD matrix of {MATRIX_SNPS} SNPs (random across the panel)", matrix)
    print_table(
        f"POST /gwas/associations through the gwas handler: {TARGETS} variants x "
        f"{args.ld_studies} studies, every target missing from every study",
        proxies,
    )
    print(
        f"  proxies=1 answered {counts['proxied']} proxy records of {TARGETS * args.ld_studies} "
        f"cells ({counts['records']} records); proxies=0: {counts['records_without']} records; "
        f"present variants: {counts['records_direct']} records. `ratio`: over the baseline "
        "named; cold = a fresh store per call (new TileDB context, records, panel)."
    )
    out["clumping"] = {label: s for label, s, _ in clumping}
    out["matrix"] = {label: s for label, s, _ in matrix}
    out["proxies"] = {label: s for label, s, _ in proxies}
    out["elapsed_s"] = time.perf_counter() - start
    print(f"  LD section: {out['elapsed_s']:.0f} s")
    return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ld-snps", type=int, default=10_000)
    parser.add_argument("--ld-samples", type=int, default=500)
    parser.add_argument("--ld-studies", type=int, default=10)
    parser.add_argument("--ld-warm", type=int, default=5)
    parser.add_argument("--ld-cold", type=int, default=3)


def main(argv: list[str] | None = None) -> None:
    from benchmarks.env import setup_process_env

    parser = argparse.ArgumentParser(description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    setup_process_env()
    result = run(args)
    print(f"\nLD_JSON {json.dumps(result, default=float)}")


if __name__ == "__main__":
    main()
