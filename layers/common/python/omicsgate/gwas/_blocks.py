"""A bounded in-process cache of ``by_position`` rows, in blocks of the locus key.

DuckDB over Parquet on S3 keeps what it read in memory (its external file cache: a row
group's column chunks, ~120,000 rows) and answers a repeated neighbourhood without a request.
This is the same for the TileDB store: a read of a few loci fetches the whole block of
about :data:`BLOCK_CELLS` cells around each (consecutive data tiles of the array, found from
their bounding rectangles), keeps its decoded columns, and later reads of loci in cached
blocks make no S3 request.

Stored rows never change: a slot is written once, then committed by its record; a
re-ingestion takes a new slot, and consolidation only drops rows of slots no record names.
So a block read by an array opened after the committed slot set was listed holds every row
those slots will ever have there. The cache is keyed by that slot set (its ``generation``)
and emptied when it changes (a study added or removed). Rows of other slots (an ingestion in
flight) may be in a block; readers drop them, as they do on every read.

Only the cached answer's *inputs* are kept: a query still selects its loci, slots and p
threshold from the blocks and builds its records.
"""

from __future__ import annotations

import os
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from omicsgate.gwas._codes import LOCUS_DOMAIN_END

if TYPE_CHECKING:
    import numpy as np

# Cells per block: about a Parquet row group (DuckDB's default is 122,880 rows).
BLOCK_CELLS = 131_072
# A range wider than this many blocks (a long region) is read directly, around the cache.
MAX_BLOCKS_PER_RANGE = 2
# Missing blocks a query reads whole and keeps; its other loci are read exactly.
FILL_PER_QUERY = 2
# A block is read whole only when it is asked for a second time (a cold or one-off read
# stays an exact read, ~4x fewer bytes); blocks asked for once are remembered up to this.
TOUCHES_REMEMBERED = 65_536
# Block bounds kept in the catalogue snapshot by consolidation, up to this many.
MAX_STORED_BOUNDS = 65_536


def budget_bytes() -> int:
    """The cache's bound: ``OMICSGATE_GWAS_BLOCK_CACHE_MB`` (default 256; 0 turns it off)."""
    return int(float(os.environ.get("OMICSGATE_GWAS_BLOCK_CACHE_MB", "256")) * 2**20)


class BlockCache:
    """Decoded column blocks by block number, least recently used evicted past the budget."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.generation: frozenset[int] | None = None
        self.bounds: np.ndarray | None = None  # block lower bounds (uint64), bounds[0] == 0
        self._blocks: OrderedDict[int, tuple[dict[str, np.ndarray], int]] = OrderedDict()
        self._touched: OrderedDict[int, None] = OrderedDict()
        self.used = 0
        self.lock = threading.Lock()

    def reset(self, generation: frozenset[int], bounds: np.ndarray) -> None:
        self.generation, self.bounds = generation, bounds
        self._blocks.clear()
        self._touched.clear()
        self.used = 0

    def admit(self, block: int) -> bool:
        """Whether a missing block is worth reading whole: it was asked for before."""
        if block in self._touched:
            return True
        self._touched[block] = None
        if len(self._touched) > TOUCHES_REMEMBERED:
            self._touched.popitem(last=False)
        return False

    def spans(self, keys: Sequence[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
        """(first block, last block) of each key range."""
        import numpy as np

        assert self.bounds is not None
        ends = np.array(keys, dtype=np.uint64).reshape(-1, 2)
        first = np.searchsorted(self.bounds, ends[:, 0], side="right").astype(np.int64) - 1
        last = np.searchsorted(self.bounds, ends[:, 1], side="right").astype(np.int64) - 1
        return first, last

    def key_range(self, block: int) -> tuple[int, int]:
        assert self.bounds is not None
        end = int(self.bounds[block + 1]) - 1 if block + 1 < len(self.bounds) else LOCUS_DOMAIN_END
        return int(self.bounds[block]), end

    def get(self, block: int) -> dict[str, np.ndarray] | None:
        held = self._blocks.get(block)
        if held is None:
            return None
        self._blocks.move_to_end(block)
        return held[0]

    def put(self, block: int, columns: dict[str, np.ndarray]) -> None:
        size = _size(columns)
        if block in self._blocks or size > self.budget:
            return
        self._blocks[block] = (columns, size)
        self.used += size
        while self.used > self.budget:
            _, (_, dropped) = self._blocks.popitem(last=False)
            self.used -= dropped


def block_bounds(mbrs: Sequence[Any], capacity: int) -> np.ndarray:
    """Lower locus bounds of blocks of ``BLOCK_CELLS // capacity`` consecutive data tiles
    (a fragment's tile MBRs, in global order), the first widened to 0."""
    import numpy as np

    step = max(1, BLOCK_CELLS // max(1, capacity))
    starts = sorted({int(mbr[0][0]) for mbr in list(mbrs)[::step]})
    bounds = np.array([0, *(s for s in starts if s > 0)], dtype=np.uint64)
    return bounds


def stored_bounds(uri: str, ctx: Any) -> list[int] | None:
    """The bounds of a consolidated ``by_position`` array, for the catalogue snapshot
    (None when it has no fragment or too many blocks to store)."""
    import tiledb

    fragments = tiledb.array_fragments(uri, include_mbrs=True, ctx=ctx)
    if not len(fragments):
        return None
    biggest = max(range(len(fragments)), key=lambda i: fragments[i].cell_num)
    capacity = tiledb.ArraySchema.load(uri, ctx=ctx).capacity
    bounds = block_bounds(fragments.mbrs[biggest], capacity)
    return [int(b) for b in bounds] if len(bounds) <= MAX_STORED_BOUNDS else None


def split_blocks(
    cache: BlockCache, blocks: Sequence[int], result: dict[str, Any]
) -> dict[int, dict[str, np.ndarray]]:
    """One read's rows -> each block's columns (whole, or the part read), ordered by
    locus (stable: rows of one locus keep the array's order)."""
    import numpy as np

    columns = {k: np.asarray(v) for k, v in result.items()}
    order = np.argsort(columns["locus"], kind="stable")
    columns = {k: v[order] for k, v in columns.items()}
    locus = columns["locus"]
    out = {}
    for block in blocks:
        lo, hi = cache.key_range(block)
        a = int(np.searchsorted(locus, np.uint64(lo), side="left"))
        b = int(np.searchsorted(locus, np.uint64(hi), side="right"))
        out[block] = {k: v[a:b].copy() for k, v in columns.items()}
    return out


def select(
    cache: BlockCache, blocks: dict[int, dict[str, np.ndarray]], ranges: Sequence[tuple[int, int]]
) -> dict[str, np.ndarray]:
    """The rows of the blocks inside the (sorted, disjoint) ranges, in locus order."""
    import numpy as np

    ends = np.array(ranges, dtype=np.uint64).reshape(-1, 2)
    first, last = cache.spans(ranges)
    pieces: list[dict[str, np.ndarray]] = []
    for block in sorted(blocks):
        inside = (first <= block) & (last >= block)
        if not inside.any():
            continue
        columns = blocks[block]
        locus = columns["locus"]
        a = np.searchsorted(locus, ends[inside, 0], side="left")
        b = np.searchsorted(locus, ends[inside, 1], side="right")
        rows = _aranges(a, b)
        pieces.append({k: v[rows] for k, v in columns.items()})
    return {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}


def _aranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The indices of every [start, stop) in turn, as one array."""
    import numpy as np

    lengths = np.maximum(stops - starts, 0)
    offsets = np.cumsum(lengths) - lengths
    return np.repeat(starts - offsets, lengths) + np.arange(int(lengths.sum()))


def _size(columns: dict[str, np.ndarray]) -> int:
    """Bytes held: array buffers, plus the strings of object columns (one-letter strings
    are interpreter singletons and cost nothing)."""
    total = 0
    for values in columns.values():
        total += values.nbytes
        if values.dtype == object and len(values):
            sample = values[:: max(1, len(values) // 64)]
            each = [sys.getsizeof(x) for x in sample if not (isinstance(x, str) and len(x) < 2)]
            total += int(sum(each) / len(sample) * len(values))
    return total
