"""Chromosome codes and variant notations: pure functions, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# GRCh37/38 as OpenGWAS names them; stored as codes 1..25 (uint8 dimension).
CHROMOSOMES: tuple[str, ...] = (*(str(i) for i in range(1, 23)), "X", "Y", "MT")
_CODES = {name: code for code, name in enumerate(CHROMOSOMES, start=1)}
_ALIASES = {"23": "X", "24": "Y", "25": "MT", "M": "MT"}
_RSID = re.compile(r"^rs([0-9]{1,15})$", re.IGNORECASE)
_CHRPOS = re.compile(r"^(?:chr)?([0-9XYMTxymt]{1,2}):([0-9]{1,10})(?:-([0-9]{1,10}))?$")
MAX_POSITION = 2**32 - 1
HITS_MIN_LP = 5.0  # rows with p <= 1e-5 are also kept in the hits array, by study
LOCUS_DOMAIN_END = (len(CHROMOSOMES) + 1) * 2**32 - 1
# LD reference panels: 1000 Genomes super-populations, and OpenGWAS's "legacy" panel.
POPULATIONS: tuple[str, ...] = ("EUR", "AFR", "AMR", "EAS", "SAS", "legacy")


def chrom_code(name: str) -> int:
    """``"1"``, ``"chr1"``, ``"X"``, ``"23"``, ``"chrM"`` -> 1..25; ValueError otherwise."""
    key = name.strip().removeprefix("chr").removeprefix("CHR").upper()
    key = _ALIASES.get(key, key)
    if key not in _CODES:
        raise ValueError(f"unknown chromosome {name!r}")
    return _CODES[key]


def chrom_name(code: int) -> str:
    return CHROMOSOMES[int(code) - 1]


def locus_of(chrom: Any, pos: Any) -> Any:
    """(chromosome code, position) -> one uint64 key, ``chrom << 32 | pos``: a variant
    list is a list of 1-D ranges and a region one range (numpy arrays or ints)."""
    import numpy as np

    return (np.asarray(chrom, dtype=np.uint64) << np.uint64(32)) | np.asarray(pos, dtype=np.uint64)


def split_locus(locus: Any) -> tuple[Any, Any]:
    import numpy as np

    locus = np.asarray(locus, dtype=np.uint64)
    return (locus >> np.uint64(32)).astype(np.uint8), (locus & np.uint64(2**32 - 1)).astype(
        np.uint32
    )


@dataclass(frozen=True)
class Locus:
    """A closed interval on one chromosome (a point when start == end). ``rsid`` set: only
    the rows carrying that rsid (an rsid's position may hold other variants too)."""

    chrom: int
    start: int
    end: int
    rsid: str | None = None

    @property
    def key_range(self) -> tuple[int, int]:
        return (self.chrom << 32) | self.start, (self.chrom << 32) | self.end

    @property
    def label(self) -> str:
        name = chrom_name(self.chrom)
        if self.rsid:
            return self.rsid
        if self.start == self.end:
            return f"{name}:{self.start}"
        return f"{name}:{self.start}-{self.end}"


def rsid_number(rsid: str) -> int | None:
    """``rs123`` -> 123; None for anything else."""
    match = _RSID.match(rsid.strip())
    return int(match.group(1)) if match else None


def parse_chrpos(text: str) -> Locus:
    """``chr:pos`` or ``chr:start-end`` (``chr`` prefix optional); ValueError naming the
    problem."""
    match = _CHRPOS.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is neither an rsid (rs123) nor chr:pos nor chr:start-end")
    chrom = chrom_code(match.group(1))
    start = int(match.group(2))
    end = int(match.group(3)) if match.group(3) else start
    if not 1 <= start <= end <= MAX_POSITION:
        raise ValueError(f"{text!r}: positions must satisfy 1 <= start <= end < 2^32")
    return Locus(chrom, start, end)


def is_rsid(text: str) -> bool:
    return rsid_number(text) is not None


def merged_ranges(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Closed integer ranges sorted, overlapping or adjacent ones merged (TileDB reads
    overlapping ranges twice)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
