"""LD answers from the reference panels: clumping, LD matrices, proxies.

The panels are read here and the arithmetic is :mod:`omicsgate.science.ld`'s (pure
functions); routes only parse parameters and shape responses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from omicsgate.gwas._codes import Locus, chrom_code

if TYPE_CHECKING:
    import numpy as np

    from omicsgate.gwas._catalog import Study
    from omicsgate.gwas._panels import Panel, PanelSnps
    from omicsgate.gwas._reader import GwasStore


@dataclass(frozen=True)
class ClumpSettings:
    population: str
    pval: float
    r2: float
    kb: float


# Preclumped top hits (OpenGWAS's defaults for them, as ieugwaspy sends them).
PRECLUMP = ClumpSettings(population="EUR", pval=5e-8, r2=0.001, kb=10_000)
PROXY_WINDOW_KB = 500  # OpenGWAS's proxy tables: pairs within 500 kb, r2 >= 0.8
PROXIES_PER_TARGET = 50  # OpenGWAS keeps the 50 best proxies of each SNP


def first_rows(panel: Panel, rsids: Sequence[str]) -> tuple[PanelSnps, list[int]]:
    """The panel's SNP for each rsid found (its first row when the panel repeats one) and
    the positions in ``rsids`` of those found, in request order."""
    import numpy as np

    snps = panel.by_rsid(rsids)
    row_of: dict[str, int] = {}
    for row, rsid in enumerate(snps.rsid.tolist()):
        row_of.setdefault(str(rsid).lower(), row)
    found = [i for i, r in enumerate(rsids) if r.lower() in row_of]
    rows = np.array([row_of[rsids[i].lower()] for i in found], dtype=np.int64)
    return snps.take(rows), found


# Clumping -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clumps:
    index: list[int]  # positions in the input of the index SNPs, most significant first
    dropped: list[str]  # candidates (p <= p1) absent from the panel


def clump(
    panel: Panel, rsids: Sequence[str], pvals: Sequence[float], p1: float, r2: float, kb: float
) -> Clumps:
    """PLINK 1.9 ``--clump`` of the SNPs (p2 = p1, as OpenGWAS runs it) with the panel's
    haplotype r2; candidates the panel lacks are dropped and named."""
    import numpy as np

    from omicsgate.science.ld import clump as clump_snps

    p = np.asarray(pvals, dtype=np.float64)
    candidates = np.flatnonzero(p <= p1)
    names = [rsids[int(i)] for i in candidates]
    snps, found = first_rows(panel, names)
    dropped = sorted({names[i] for i in set(range(len(names))) - set(found)})
    if not found:
        return Clumps([], dropped)
    genotypes = panel.dosages(snps.index)
    chosen = clump_snps(
        snps.chrom.astype(np.int64), snps.pos.astype(np.int64), p[candidates[found]],
        genotypes, p1, r2, kb,
    )  # fmt: skip
    return Clumps([int(candidates[found[i]]) for i in chosen], dropped)


def clumped_hits(
    gwas: GwasStore, panel: Panel, study: Study, pval: float, r2: float, kb: float
) -> tuple[list[dict[str, Any]], list[str]]:
    """The study's top hits at ``pval``, clumped; and the hits the panel lacks."""
    rows = gwas.tophits(study, pval)
    clumps = clump(panel, [r["rsid"] for r in rows], [r["p"] for r in rows], pval, r2, kb)
    kept = set(clumps.index)
    return [row for i, row in enumerate(rows) if i in kept], clumps.dropped


def preclumped_rsids(gwas: GwasStore, study: Study) -> list[str] | None:
    """The index SNPs of the study at :data:`PRECLUMP`'s settings (None without the
    panel), computed when the study is ingested and kept in its record."""
    try:
        panel = gwas.panel(PRECLUMP.population)
    except LookupError:
        return None
    hits, _ = clumped_hits(gwas, panel, study, PRECLUMP.pval, PRECLUMP.r2, PRECLUMP.kb)
    return [str(row["rsid"]) for row in hits]


# LD matrix ------------------------------------------------------------------------------


def ld_matrix(panel: Panel, rsids: Sequence[str]) -> tuple[list[str], list[list[str]]]:
    """``(["rsid_A1_A2", ...], signed r as strings)`` for the SNPs the panel has, in panel
    (position) order as PLINK writes them; A1 is the panel's minor allele, and r is the
    correlation of A1 counts (PLINK ``--r square``: NaN for a monomorphic SNP)."""
    import numpy as np

    from omicsgate.science.ld import dosage_r_matrix

    snps, _ = first_rows(panel, rsids)
    order = np.unique(snps.index, return_index=True)[1]
    snps = snps.take(order)
    dosage = panel.dosages(snps.index)
    major = snps.freq > 0.5  # A1 should be the minor allele: count the other one instead
    dosage[major] = 2 - dosage[major]
    r = dosage_r_matrix(dosage)
    labels = [
        f"{rsid}_{a2 if swap else a1}_{a1 if swap else a2}"
        for rsid, a1, a2, swap in zip(
            snps.rsid.tolist(), snps.a1.tolist(), snps.a2.tolist(), major.tolist(), strict=True
        )
    ]
    return labels, [[_plink_number(x) for x in row] for row in r.tolist()]


def _plink_number(value: float) -> str:
    return "nan" if value != value else format(value, ".6g")


# Proxies --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Proxy:
    rsid: str
    locus: Locus
    a1: str
    a2: str
    maf: float
    r: float  # haplotype r: positive when the target's A1 travels with the proxy's A1


@dataclass(frozen=True)
class Target:
    rsid: str
    a1: str
    a2: str
    proxies: list[Proxy]


def proxies_for(panel: Panel, rsids: Sequence[str], min_r2: float) -> dict[str, Target]:
    """Each target the panel has -> its proxies within :data:`PROXY_WINDOW_KB` with
    haplotype r2 >= ``min_r2``: best r2 first, then nearest, at most
    :data:`PROXIES_PER_TARGET`."""
    from omicsgate.science.ld import haplotype_r

    targets, found = first_rows(panel, rsids)
    out: dict[str, Target] = {}
    span = PROXY_WINDOW_KB * 1000
    for row, position in enumerate(found):
        locus = int(targets.locus[row])
        window = panel.in_ranges([(max(0, locus - span), locus + span)])
        window = window.take(window.index != targets.index[row])
        proxies: list[Proxy] = []
        if len(window):
            dosage = panel.dosages(_concat(targets.index[row], window.index))
            r = haplotype_r(dosage[0], dosage[1:])
            proxies = _ranked(window, r, min_r2, locus)
        out[rsids[position]] = Target(
            rsids[position], str(targets.a1[row]), str(targets.a2[row]), proxies
        )
    return out


def _concat(first: Any, rest: np.ndarray) -> np.ndarray:
    import numpy as np

    return np.concatenate([[int(first)], rest]).astype(np.int64)


def _ranked(window: PanelSnps, r: np.ndarray, min_r2: float, locus: int) -> list[Proxy]:
    import numpy as np

    r2 = r * r
    good = np.flatnonzero(np.nan_to_num(r2, nan=-1.0) >= min_r2)
    distance = np.abs(window.locus[good].astype(np.int64) - locus)
    order = good[np.lexsort((distance, -r2[good]))][:PROXIES_PER_TARGET]
    chrom, pos = window.chrom, window.pos
    return [
        Proxy(
            str(window.rsid[i]),
            Locus(int(chrom[i]), int(pos[i]), int(pos[i]), str(window.rsid[i])),
            str(window.a1[i]),
            str(window.a2[i]),
            float(min(window.freq[i], 1 - window.freq[i])),
            float(r[i]),
        )
        for i in order
    ]


@dataclass(frozen=True)
class ProxyOptions:
    align_alleles: bool = True
    palindromes: bool = True
    maf_threshold: float = 0.3


def with_proxies(
    gwas: GwasStore,
    panel: Panel,
    studies: Sequence[Study],
    direct: list[dict[str, Any]],
    rsids: Sequence[str],
    min_r2: float,
    options: ProxyOptions,
) -> list[dict[str, Any]]:
    """The direct records (marked as their own proxies) and, for each (study, rsid)
    without one, the first proxy the study reported whose alleles align."""
    present = {(row["id"], str(row["rsid"]).lower()) for row in direct}
    rows = [_direct(row) for row in direct]
    absent = [r for r in rsids if any((s.id, r.lower()) not in present for s in studies)]
    targets = proxies_for(panel, absent, min_r2) if absent else {}
    missing = [
        (study, target) for study in studies for target in targets.values()
        if (study.id, target.rsid.lower()) not in present and target.proxies
    ]  # fmt: skip
    if not missing:
        return rows
    wanted = {proxy.rsid: proxy.locus for _, t in missing for proxy in t.proxies}
    need = [s for s in studies if any(s is m for m, _ in missing)]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for row in gwas.associations(need, list(wanted.values())):
        found.setdefault((row["id"], str(row["rsid"]).lower()), row)
    for study, target in missing:
        for proxy in target.proxies:
            hit = found.get((study.id, proxy.rsid.lower()))
            record = _proxy_record(hit, target, proxy, options) if hit is not None else None
            if record is not None:
                rows.append(record)
                break
    rank = {study.id: i for i, study in enumerate(studies)}
    return sorted(rows, key=lambda r: (rank[r["id"]], chrom_code(r["chr"]), r["position"]))


def _direct(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row, "target_snp": row["rsid"], "proxy_snp": row["rsid"], "proxy": False,
        "target_a1": None, "target_a2": None, "proxy_a1": None, "proxy_a2": None,
    }  # fmt: skip


def _proxy_record(
    row: dict[str, Any], target: Target, proxy: Proxy, options: ProxyOptions
) -> dict[str, Any] | None:
    """The study's row at the proxy, re-expressed for the target (OpenGWAS: an aligned
    proxy takes the target's rsid and alleles), or None when its alleles cannot be
    aligned. ``target_a1``/``proxy_a1`` are the alleles on the same haplotype."""
    from omicsgate.science.ld import align_proxy, is_palindromic

    in_phase = proxy.r > 0
    proxy_a1, proxy_a2 = (proxy.a1, proxy.a2) if in_phase else (proxy.a2, proxy.a1)
    base = {
        **row, "target_snp": target.rsid, "proxy_snp": proxy.rsid, "proxy": True,
        "target_a1": target.a1, "target_a2": target.a2,
        "proxy_a1": proxy_a1, "proxy_a2": proxy_a2,
    }  # fmt: skip
    if not options.align_alleles:
        if is_palindromic(proxy.a1, proxy.a2) and not options.palindromes:
            return None
        return base
    aligned = align_proxy(
        target.a1, target.a2, proxy.a1, proxy.a2, proxy.r, str(row["ea"]), str(row["nea"]),
        proxy.maf, options.palindromes, options.maf_threshold,
    )  # fmt: skip
    if aligned is None:
        return None
    return {**base, "rsid": target.rsid, "ea": aligned[0], "nea": aligned[1]}


def afl2_for(gwas: GwasStore, rsids: Sequence[str], loci: Sequence[Locus]) -> list[dict[str, Any]]:
    """``/variants/afl2`` records of the SNPs any panel has by rsid or in the loci, by
    position (a SNP is described by the first panel, in population order, that has it)."""
    import numpy as np

    from omicsgate.gwas._panels import afl2_records

    panels = gwas.panels()
    seen: set[tuple[int, str, str]] = set()
    records: list[dict[str, Any]] = []
    for panel in panels.values():
        snps = panel.by_rsid(rsids) if rsids else panel.by_rsid([])
        ranged = panel.in_ranges([locus.key_range for locus in loci]) if loci else None
        for table in (snps, ranged):
            if table is None or not len(table):
                continue
            keys = list(
                zip(table.locus.tolist(), table.a1.tolist(), table.a2.tolist(), strict=True)
            )
            fresh = np.array([k not in seen and (k[0], k[2], k[1]) not in seen for k in keys])
            seen.update(keys)
            if fresh.any():
                records.extend(afl2_records(panels, table.take(np.flatnonzero(fresh))))
    return sorted(records, key=lambda r: (chrom_code(r["chr"]), r["pos"]))


__all__ = [
    "PRECLUMP",
    "ClumpSettings",
    "Clumps",
    "ProxyOptions",
    "Target",
    "afl2_for",
    "clump",
    "clumped_hits",
    "ld_matrix",
    "preclumped_rsids",
    "proxies_for",
    "with_proxies",
]
