"""Reading LD reference panels (written by :mod:`omicsgate.gwas.panel_writer`)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from omicsgate.gwas import _layout
from omicsgate.gwas._codes import (
    POPULATIONS,
    chrom_name,
    merged_ranges,
    rsid_number,
    split_locus,
)
from omicsgate.storage import DataStore
from omicsgate.storage._store import unavailable_on_tiledb_error

if TYPE_CHECKING:
    import numpy as np
    import tiledb

# A panel this small (SNPs x samples) is read whole once and kept: the 1000 Genomes EUR
# demo panel is 1 MB; a whole-genome panel is gigabytes and is read by window.
IN_MEMORY_CELLS = 32_000_000
_MISSING = 3


class UnknownPanel(LookupError):
    """No panel for the population (an unknown population, or one not loaded)."""


@dataclass(frozen=True)
class PanelSnps:
    """SNPs of one panel, in locus order unless taken otherwise; freq is A1's."""

    index: np.ndarray
    locus: np.ndarray
    rsid: np.ndarray
    a1: np.ndarray
    a2: np.ndarray
    freq: np.ndarray
    l2: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def take(self, rows: Any) -> PanelSnps:
        return PanelSnps(*(getattr(self, f.name)[rows] for f in fields(self)))

    @property
    def chrom(self) -> np.ndarray:
        return split_locus(self.locus)[0]

    @property
    def pos(self) -> np.ndarray:
        return split_locus(self.locus)[1]


def _snps_from(columns: dict[str, Any]) -> PanelSnps:
    import numpy as np

    return PanelSnps(
        np.asarray(columns["index"], dtype=np.int64),
        np.asarray(columns["locus"], dtype=np.uint64),
        np.asarray(columns["rsid"], dtype=object),
        np.asarray(columns["a1"], dtype=object),
        np.asarray(columns["a2"], dtype=object),
        np.asarray(columns["freq"], dtype=np.float64),
        np.asarray(columns["l2"], dtype=np.float64),
    )


class Panel:
    """One population's panel. Small panels are held in memory after the first read;
    large ones are read by window (the arrays stay open: a panel never changes, a new
    one gets a new directory and record)."""

    def __init__(self, store: DataStore, record: dict[str, Any]) -> None:
        self.store = store
        self.population = str(record["population"])
        self.size = int(record["snps"])
        self.samples = int(record["samples"])
        self.base = _layout.gwas_uri(store.root, str(record["attempt"]))
        self._arrays: dict[str, tiledb.Array] = {}
        self._memory: tuple[PanelSnps, dict[str, list[int]], np.ndarray] | None = None
        self._lock = threading.Lock()
        self._open_lock = threading.Lock()

    @property
    def in_memory(self) -> bool:
        return self.size * self.samples <= IN_MEMORY_CELLS

    # SNPs ----------------------------------------------------------------------------

    def all_snps(self) -> PanelSnps:
        if self._memory is not None:
            return self._memory[0]
        return self._snps_at([(0, self.size - 1)])

    def by_rsid(self, rsids: Iterable[str]) -> PanelSnps:
        """The panel's SNPs named by the rsids (every row of an rsid; none if absent)."""
        import numpy as np

        wanted = {r.lower() for r in rsids}
        if self.in_memory:
            snps, by_name, _ = self._loaded()
            rows = sorted({i for r in wanted for i in by_name.get(r, [])})
            return snps.take(np.asarray(rows, dtype=np.int64))
        numbers = sorted({n for n in (rsid_number(r) for r in wanted) if n is not None})
        if not numbers:
            return self._snps_at([])
        found = self._read(_layout.PANEL_RSIDS, [(n, n) for n in numbers])
        return self._snps_at(_ranges(np.asarray(found["index"])))

    def in_ranges(self, key_ranges: Sequence[tuple[int, int]]) -> PanelSnps:
        """SNPs whose locus key falls in any of the (closed) ranges."""
        import numpy as np

        if not key_ranges:
            return self._snps_at([])
        if self.in_memory:
            snps = self._loaded()[0]
            starts = np.searchsorted(snps.locus, [s for s, _ in key_ranges], side="left")
            ends = np.searchsorted(snps.locus, [e for _, e in key_ranges], side="right")
            rows = np.unique(
                np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
            )
            return snps.take(rows.astype(np.int64))
        found = self._read(_layout.PANEL_POSITIONS, merged_ranges(key_ranges))
        return self._snps_at(_ranges(np.asarray(found["index"])))

    # Genotypes -----------------------------------------------------------------------

    def dosages(self, index: np.ndarray) -> np.ndarray:
        """A1 counts of the SNPs (rows in the order given), NaN where missing."""
        import numpy as np

        index = np.asarray(index, dtype=np.int64)
        if self.in_memory:
            codes = self._loaded()[2][index]
        elif not len(index):
            codes = np.zeros((0, self.samples), dtype=np.uint8)
        else:
            unique = np.unique(index)
            spans = _ranges(unique)
            read = self._read(_layout.PANEL_GENOTYPES, spans, (0, self.samples - 1))["dosage"]
            codes = np.asarray(read).reshape(len(unique), self.samples)[
                np.searchsorted(unique, index)
            ]
        dosage = codes.astype(np.float64)
        dosage[codes == _MISSING] = np.nan
        return dosage

    # Reading -------------------------------------------------------------------------

    def _loaded(self) -> tuple[PanelSnps, dict[str, list[int]], np.ndarray]:
        with self._lock:
            if self._memory is None:
                snps = self._snps_at([(0, self.size - 1)])
                by_name: dict[str, list[int]] = {}
                for row, rsid in enumerate(snps.rsid.tolist()):
                    by_name.setdefault(str(rsid).lower(), []).append(row)
                codes = self._read(
                    _layout.PANEL_GENOTYPES, [(0, self.size - 1)], (0, self.samples - 1)
                )["dosage"]
                self._memory = (snps, by_name, codes.reshape(self.size, self.samples))
            return self._memory

    def _snps_at(self, spans: list[tuple[int, int]]) -> PanelSnps:
        import numpy as np

        if not spans:
            empty: dict[str, Any] = {k: [] for k in ("locus", "rsid", "a1", "a2", "freq", "l2")}
            return _snps_from({**empty, "index": np.zeros(0, dtype=np.int64)})
        columns = self._read(_layout.PANEL_SNPS, spans)
        columns["index"] = np.concatenate([np.arange(s, e + 1) for s, e in spans])
        return _snps_from(columns)

    def _read(self, name: str, *ranges: Any) -> dict[str, Any]:
        import tiledb

        uri = _layout.join(self.base, name)
        with unavailable_on_tiledb_error(f"reading the {self.population} panel's {name}"):
            with self._open_lock:
                if name not in self._arrays:
                    self._arrays[name] = tiledb.open(uri, mode="r", ctx=self.store.ctx)
                array = self._arrays[name]
            dims = tuple(r if isinstance(r, list) else [r] for r in ranges)
            return dict(array.multi_index[dims])


def _ranges(index: np.ndarray) -> list[tuple[int, int]]:
    """Sorted unique indexes -> runs of consecutive ones, as closed ranges."""
    import numpy as np

    index = np.unique(np.asarray(index, dtype=np.int64))
    if not len(index):
        return []
    breaks = np.flatnonzero(np.diff(index) != 1)
    starts = np.concatenate([[index[0]], index[breaks + 1]])
    ends = np.concatenate([index[breaks], [index[-1]]])
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def load_panels(store: DataStore) -> dict[str, Panel]:
    """Every committed panel, by population, in :data:`POPULATIONS` order."""
    panels = {}
    for population in POPULATIONS:
        record = store.read_json(_layout.panel_record_uri(store.root, population))
        if isinstance(record, dict):
            panels[population] = Panel(store, record)
    return panels


def afl2_records(panels: dict[str, Panel], snps: PanelSnps) -> list[dict[str, Any]]:
    """OpenGWAS ``/variants/afl2`` records of the SNPs: ``{rsid, chr, pos, ref, alt}``
    (ALT = the panel's A1, REF = A2) and, per loaded population, ``AF.<POP>`` (ALT's
    frequency, re-oriented where that panel swaps the alleles) and ``L2.<POP>`` (LD
    score); null where the population's panel lacks the SNP."""
    keys = [(s, s) for s in sorted(set(snps.locus.tolist()))]
    by_population = {pop: _by_site(panel.in_ranges(keys)) for pop, panel in panels.items()}
    records = []
    for locus, rsid, a1, a2 in zip(
        snps.locus.tolist(), snps.rsid.tolist(), snps.a1.tolist(), snps.a2.tolist(), strict=True
    ):
        chrom, pos = divmod(int(locus), 2**32)
        record: dict[str, Any] = {
            "rsid": str(rsid), "chr": chrom_name(chrom), "pos": pos, "ref": a2, "alt": a1,
        }  # fmt: skip
        for pop, sites in by_population.items():
            af, l2 = _oriented(sites.get((int(locus), frozenset((a1, a2)))), a1)
            record[f"AF.{pop}"], record[f"L2.{pop}"] = af, l2
        records.append(record)
    return records


def _by_site(snps: PanelSnps) -> dict[tuple[int, frozenset[str]], tuple[str, float, float]]:
    return {
        (int(locus), frozenset((a1, a2))): (a1, freq, l2)
        for locus, a1, a2, freq, l2 in zip(
            snps.locus.tolist(),
            snps.a1.tolist(),
            snps.a2.tolist(),
            snps.freq.tolist(),
            snps.l2.tolist(),
            strict=True,
        )
    }


def _oriented(site: tuple[str, float, float] | None, alt: str) -> tuple[float | None, float | None]:
    if site is None:
        return None, None
    a1, freq, l2 = site
    af = freq if a1 == alt else 1.0 - freq
    return (None if af != af else af), (None if l2 != l2 else l2)
