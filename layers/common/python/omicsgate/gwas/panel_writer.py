"""Writing LD reference panels, one population at a time (ingestion only).

A panel is written whole into its own attempt directory (with a lease), then its record
``gwas/panels/<POP>.json`` is written atomically: the commit point. Readers only follow
records, so a killed ingestion shows nothing and the previous panel serves until the new
record lands; the replaced panel's directory is removed after that.

Arrays of a panel (SNPs in locus order, so a region is a contiguous range of indexes):

- ``snps``: dense on the SNP index: locus, rsid, a1, a2, freq (of A1), nobs, l2;
- ``positions``: sparse, locus -> index; ``rsids``: sparse, rsid number -> index;
- ``genotypes``: dense (index, sample), A1 counts as uint8 (3 = missing), tiles of
  :data:`GENOTYPE_TILE` SNPs by every sample: a window of SNPs is a few tiles.

Every record of the panels' catalogue also updates ``gwas/panels/snplist.json``: the SNPs
common in every loaded population, with their allele frequencies and LD scores (what
``/variants/afl2/snplist`` serves).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import tiledb

from omicsgate.gwas import _layout
from omicsgate.gwas._codes import LOCUS_DOMAIN_END, POPULATIONS, locus_of
from omicsgate.gwas.writer import _attempt_name, _leased, _rsid_numbers
from omicsgate.storage import DataStore
from omicsgate.storage.writer import _remove_dir, write_json_atomically

GENOTYPE_TILE = 256
MISSING = 3
LD_SCORE_WINDOW_BP = 1_000_000  # no genetic map here: LDSC's 1 cM taken as 1 Mb
SNPLIST_MIN_MAF = 0.05
SNPLIST_MAX = 20_000  # OpenGWAS's list of SNPs common in all super-populations is ~20k


class InvalidPanel(ValueError):
    """A panel that cannot be stored: unknown population, no SNPs, wrong shapes."""


@dataclass(frozen=True)
class PanelData:
    chrom: np.ndarray  # uint8 chromosome codes
    pos: np.ndarray
    rsid: np.ndarray
    a1: np.ndarray
    a2: np.ndarray
    dosage: np.ndarray  # SNPs x samples, A1 counts, NaN missing
    samples: list[str]


def write_panel(
    store: DataStore, population: str, data: PanelData, source: str = ""
) -> dict[str, Any]:
    """Store ``data`` as the population's panel (replacing any) and return its record."""
    _check(population, data)
    data = _sorted(data)
    attempt = f"{_layout.ATTEMPTS_DIR}/{_attempt_name()}"
    attempt_uri = _layout.gwas_uri(store.root, attempt)
    record_uri = _layout.panel_record_uri(store.root, population)
    previous = store.read_json(record_uri)
    with _leased(store, attempt_uri, attempt) as leased:
        _write_arrays(store, attempt_uri, data)
        record = {
            "population": population,
            "attempt": attempt,
            "snps": len(data.pos),
            "samples": len(data.samples),
            "source": source,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        write_json_atomically(store, record_uri, record)
        leased.committed = True
    if isinstance(previous, dict) and previous.get("attempt"):
        _remove_dir(store, _layout.gwas_uri(store.root, str(previous["attempt"])))
    update_snplist(store)
    return record


def _check(population: str, data: PanelData) -> None:
    if population not in POPULATIONS:
        raise InvalidPanel(f"unknown population {population!r}: one of {', '.join(POPULATIONS)}")
    m = len(data.pos)
    if m == 0:
        raise InvalidPanel("the panel has no SNPs")
    if data.dosage.shape != (m, len(data.samples)):
        raise InvalidPanel(f"{data.dosage.shape} genotypes for {m} SNPs x {len(data.samples)}")


def _sorted(data: PanelData) -> PanelData:
    order = np.lexsort((data.pos, data.chrom))
    return PanelData(
        np.asarray(data.chrom)[order],
        np.asarray(data.pos)[order],
        np.asarray(data.rsid, dtype=object)[order],
        np.asarray(data.a1, dtype=object)[order],
        np.asarray(data.a2, dtype=object)[order],
        np.asarray(data.dosage)[order],
        data.samples,
    )


def _write_arrays(store: DataStore, base: str, data: PanelData) -> None:
    from omicsgate.science.ld import ld_scores

    ctx = store.ctx
    m, n = data.dosage.shape
    index = np.arange(m, dtype=np.uint32)
    locus = locus_of(data.chrom, data.pos)
    typed = ~np.isnan(data.dosage)
    nobs = typed.sum(axis=1)
    freq = np.divide(
        np.nansum(data.dosage, axis=1), 2 * nobs, where=nobs > 0, out=np.full(m, np.nan)
    )
    l2 = np.full(m, np.nan)
    for chrom in np.unique(data.chrom):
        rows = data.chrom == chrom
        l2[rows] = ld_scores(data.dosage[rows], data.pos[rows], LD_SCORE_WINDOW_BP)
    snps = {
        "locus": locus, "rsid": data.rsid, "a1": data.a1, "a2": data.a2,
        "freq": freq, "nobs": nobs.astype(np.uint32), "l2": l2,
    }  # fmt: skip
    _create_snps(_layout.join(base, _layout.PANEL_SNPS), ctx, m)
    with tiledb.open(_layout.join(base, _layout.PANEL_SNPS), "w", ctx=ctx) as array:
        array[0:m] = snps
    _write_index(store, _layout.join(base, _layout.PANEL_POSITIONS), "locus", locus, index)
    rsnum = _rsid_numbers(data.rsid.astype(str))
    named = rsnum > 0
    _write_index(
        store, _layout.join(base, _layout.PANEL_RSIDS), "rsnum", rsnum[named], index[named]
    )
    codes = np.where(typed, data.dosage, MISSING).astype(np.uint8)
    _create_genotypes(_layout.join(base, _layout.PANEL_GENOTYPES), ctx, m, n)
    with tiledb.open(_layout.join(base, _layout.PANEL_GENOTYPES), "w", ctx=ctx) as array:
        array[0:m, 0:n] = codes


def _filters() -> tiledb.FilterList:
    return tiledb.FilterList([tiledb.ZstdFilter(level=5)])


def _create_snps(uri: str, ctx: tiledb.Ctx, m: int) -> None:
    dim = tiledb.Dim("index", domain=(0, m - 1), tile=min(m, 4096), dtype=np.uint32, ctx=ctx)
    kinds: dict[str, Any] = {
        "locus": np.uint64, "rsid": str, "a1": str, "a2": str,
        "freq": np.float64, "nobs": np.uint32, "l2": np.float64,
    }  # fmt: skip
    attrs = [
        tiledb.Attr(name, dtype=kind, var=kind is str, filters=_filters(), ctx=ctx)
        for name, kind in kinds.items()
    ]
    schema = tiledb.ArraySchema(domain=tiledb.Domain(dim, ctx=ctx), attrs=attrs, ctx=ctx)
    tiledb.Array.create(uri, schema, ctx=ctx)


def _write_index(store: DataStore, uri: str, key: str, keys: np.ndarray, index: np.ndarray) -> None:
    ctx = store.ctx
    end = LOCUS_DOMAIN_END if key == "locus" else 2**62
    dim = tiledb.Dim(key, domain=(0, end), tile=2**32, dtype=np.uint64, ctx=ctx)
    schema = tiledb.ArraySchema(
        domain=tiledb.Domain(dim, ctx=ctx),
        attrs=[tiledb.Attr("index", dtype=np.uint32, filters=_filters(), ctx=ctx)],
        sparse=True,
        allows_duplicates=True,
        ctx=ctx,
    )
    tiledb.Array.create(uri, schema, ctx=ctx)
    if len(keys):
        with tiledb.open(uri, "w", ctx=ctx) as array:
            array[keys.astype(np.uint64)] = {"index": index}


def _create_genotypes(uri: str, ctx: tiledb.Ctx, m: int, n: int) -> None:
    dims = [
        tiledb.Dim(
            "index", domain=(0, m - 1), tile=min(m, GENOTYPE_TILE), dtype=np.uint32, ctx=ctx
        ),
        tiledb.Dim("sample", domain=(0, n - 1), tile=n, dtype=np.uint32, ctx=ctx),
    ]
    attr = tiledb.Attr("dosage", dtype=np.uint8, filters=_filters(), ctx=ctx)
    schema = tiledb.ArraySchema(domain=tiledb.Domain(*dims, ctx=ctx), attrs=[attr], ctx=ctx)
    tiledb.Array.create(uri, schema, ctx=ctx)


# The common-SNP list ---------------------------------------------------------------------


def update_snplist(store: DataStore) -> int:
    """Rewrite the list of SNPs common (MAF >= :data:`SNPLIST_MIN_MAF`) in every loaded
    population, thinned evenly along the genome to at most :data:`SNPLIST_MAX`."""
    from omicsgate.gwas._panels import afl2_records, load_panels

    panels = load_panels(store)
    records: list[dict[str, Any]] = []
    if panels:
        first = next(iter(panels.values()))
        snps = first.all_snps()
        common = np.ones(len(snps), dtype=bool)
        maf = np.minimum(snps.freq, 1 - snps.freq)
        common &= maf >= SNPLIST_MIN_MAF
        chosen = snps.take(np.flatnonzero(common))
        candidates = afl2_records(panels, chosen)
        records = [r for r in candidates if _common_everywhere(r, panels)]
        if len(records) > SNPLIST_MAX:
            keep = np.linspace(0, len(records) - 1, SNPLIST_MAX).round().astype(int)
            records = [records[i] for i in keep]
    uri = _layout.gwas_uri(store.root, _layout.PANELS_DIR, _layout.SNPLIST_FILE)
    write_json_atomically(store, uri, {"snps": records})
    return len(records)


def _common_everywhere(record: dict[str, Any], panels: dict[str, Any]) -> bool:
    for population in panels:
        af = record.get(f"AF.{population}")
        if af is None or min(af, 1 - af) < SNPLIST_MIN_MAF:
            return False
    return True
