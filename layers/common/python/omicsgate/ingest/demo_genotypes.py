"""Demo genotypes with linkage disequilibrium, pure numpy, and a VCF writer for them.

The model (a toy, documented so that tests and the demo can rely on it):

- Each chromosome's variants are cut into consecutive LD blocks of ``block_size`` variants.
- A block has ``founders`` founder haplotypes. Most sites of a block (``shared``) carry the
  ALT allele on the same subset of founders (the block's pattern); the rest pick a subset of
  their own. Founders are drawn with block-specific weights (a Dirichlet), so allele
  frequencies vary from block to block.
- Each of a subject's two haplotypes copies one founder per block, chosen independently for
  every block (free recombination between blocks: r2 across blocks is about 0). Within a
  block, a haplotype switches to another founder at a random site with probability
  ``recombination``, and every allele flips with probability ``mutation``.
- The dosage is the sum of the two haplotypes (0, 1, 2). Within a block most site pairs
  share the pattern (r2 near 1 for those), so the mean r2 of a block's site pairs is about
  0.6-0.8 with the defaults; between blocks it is near 0 (measured: 0.68 vs 0.003).

:func:`write_vcf` writes the dosages as a BGZF-compressed VCF 4.2 (readable by gzip, htslib
and tabix) with one unphased ``GT`` per subject.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from typing import BinaryIO

import numpy as np

MISSING = -1
_BGZF_BLOCK = 0xFF00  # uncompressed bytes per BGZF block (as bgzip)
_BGZF_EOF = bytes.fromhex("1f8b08040000000000ff0600424302001b0003000000000000000000")
_GT = np.array(["0/0", "0/1", "1/1", "./."], dtype=object)
_BASES = "ACGT"


def block_ids(positions_by_chromosome: Mapping[str, np.ndarray], block_size: int) -> np.ndarray:
    """The LD block of every variant, in the order :func:`simulate_genotypes` returns rows
    (chromosomes in mapping order, then positions as given); blocks never span chromosomes."""
    ids: list[np.ndarray] = []
    first = 0
    for positions in positions_by_chromosome.values():
        n = len(positions)
        local = np.arange(n) // block_size
        ids.append(first + local)
        first += int(local[-1]) + 1 if n else 0
    return np.concatenate(ids) if ids else np.zeros(0, dtype=np.int64)


def _patterns(rng: np.random.Generator, founders: int, count: int) -> np.ndarray:
    """``count`` random founder subsets carrying ALT, never empty nor all founders."""
    codes = rng.integers(1, 2**founders - 1, size=count)
    return ((codes[:, None] >> np.arange(founders)) & 1).astype(np.int8)


def simulate_genotypes(
    rng: np.random.Generator,
    positions_by_chromosome: Mapping[str, np.ndarray],
    subjects: int,
    block_size: int = 20,
    founders: int = 4,
    shared: float = 0.85,
    mutation: float = 0.01,
    recombination: float = 0.05,
) -> np.ndarray:
    """Dosages (variants x subjects, int8 0/1/2) with LD blocks; see the module docstring.
    Rows follow :func:`block_ids` (chromosomes in mapping order)."""
    if founders < 2 or block_size < 1 or subjects < 1:
        raise ValueError("need founders >= 2, block_size >= 1 and subjects >= 1")
    blocks = block_ids(positions_by_chromosome, block_size)
    total = len(blocks)
    dosage = np.zeros((total, subjects), dtype=np.int8)
    haplotypes = 2 * subjects
    for block in range(int(blocks[-1]) + 1 if total else 0):
        rows = np.flatnonzero(blocks == block)
        n = len(rows)
        pattern = _patterns(rng, founders, 1)[0]
        alleles = np.where(
            rng.random(n)[:, None] < shared, pattern[None, :], _patterns(rng, founders, n)
        )  # n x founders
        weights = rng.dirichlet(np.full(founders, 2.0))
        origin = rng.choice(founders, size=haplotypes, p=weights)
        # A crossover inside the block: from a random site on, copy another founder.
        switch = rng.random(haplotypes) < recombination
        other = rng.choice(founders, size=haplotypes, p=weights)
        start = rng.integers(0, n, size=haplotypes)
        site = np.arange(n)[:, None]
        source = np.where(switch[None, :] & (site >= start[None, :]), other, origin)
        copied = np.take_along_axis(alleles, source, axis=1)  # n x haplotypes
        flips = rng.random(copied.shape) < mutation
        copied = np.where(flips, 1 - copied, copied)
        dosage[rows] = copied[:, 0::2] + copied[:, 1::2]
    return dosage


class BgzfWriter:
    """BGZF (blocked gzip, as bgzip writes it): a gzip file htslib can index and seek."""

    def __init__(self, handle: BinaryIO, level: int = 6) -> None:
        self.handle, self.level = handle, level
        self.buffer = bytearray()

    def write(self, data: bytes) -> None:
        self.buffer += data
        while len(self.buffer) >= _BGZF_BLOCK:
            self._block(bytes(self.buffer[:_BGZF_BLOCK]))
            del self.buffer[:_BGZF_BLOCK]

    def _block(self, data: bytes) -> None:
        compressor = zlib.compressobj(self.level, zlib.DEFLATED, -15)
        deflated = compressor.compress(data) + compressor.flush()
        size = 18 + len(deflated) + 8
        header = b"\x1f\x8b\x08\x04\x00\x00\x00\x00\x00\xff\x06\x00BC\x02\x00"
        self.handle.write(header + struct.pack("<H", size - 1))
        self.handle.write(deflated)
        self.handle.write(struct.pack("<II", zlib.crc32(data), len(data)))

    def close(self) -> None:
        if self.buffer:
            self._block(bytes(self.buffer))
            self.buffer.clear()
        self.handle.write(_BGZF_EOF)


def demo_alleles(positions: np.ndarray) -> tuple[list[str], list[str]]:
    """Deterministic REF/ALT bases for positions (REF != ALT)."""
    refs = [_BASES[int(p) % 4] for p in positions]
    alts = [_BASES[(int(p) % 4 + 1 + (int(p) // 4) % 3) % 4] for p in positions]
    return refs, alts


def write_vcf(
    path: str,
    dosages: np.ndarray,
    positions_by_chromosome: Mapping[str, np.ndarray],
    subjects: Sequence[str],
    source: str = "omicsgate demo_genotypes",
    alleles: Mapping[str, tuple[Sequence[str], Sequence[str]]] | None = None,
) -> None:
    """A BGZF VCF 4.2: one biallelic record per row of ``dosages`` (rows as
    :func:`simulate_genotypes` orders them), ``GT`` 0/0, 0/1, 1/1 or ./. (dosage -1).
    ``alleles``: chromosome -> (REFs, ALTs) of its positions (default :func:`demo_alleles`)."""
    total = sum(len(p) for p in positions_by_chromosome.values())
    if dosages.shape != (total, len(subjects)):
        raise ValueError(f"dosages are {dosages.shape}, expected {(total, len(subjects))}")
    header = ["##fileformat=VCFv4.2", f"##source={source}"]
    for chromosome, positions in positions_by_chromosome.items():
        length = int(np.max(positions)) + 1 if len(positions) else 1
        header.append(f"##contig=<ID={chromosome},length={length}>")
    header.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"]
    header.append("\t".join([*columns, *subjects]))
    codes = np.where(dosages < 0, 3, dosages).astype(np.intp)
    with open(path, "wb") as handle:
        out = BgzfWriter(handle)
        out.write(("\n".join(header) + "\n").encode())
        row = 0
        for chromosome, positions in positions_by_chromosome.items():
            refs, alts = (alleles or {}).get(chromosome) or demo_alleles(np.asarray(positions))
            lines = []
            for k, pos in enumerate(np.asarray(positions).tolist()):
                fixed = (
                    f"{chromosome}\t{pos}\t{chromosome}_{pos}\t{refs[k]}\t{alts[k]}\t.\tPASS\t.\tGT"
                )
                lines.append(fixed + "\t" + "\t".join(_GT[codes[row]].tolist()))
                row += 1
                if len(lines) == 1000:
                    out.write(("\n".join(lines) + "\n").encode())
                    lines = []
            if lines:
                out.write(("\n".join(lines) + "\n").encode())
        out.close()
