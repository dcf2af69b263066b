"""PLINK 1 binary filesets (.bed/.bim/.fam): the LD reference panels' format.

A .bed file is a magic number (0x6c 0x1b), a mode byte (0x01: variant-major), then per
variant ceil(samples / 4) bytes of 2-bit genotypes, lowest bits first: 0b00 two copies
of A1, 0b10 one, 0b11 none, 0b01 missing. Dosages are counts of A1 (PLINK's convention:
A1 is usually the minor allele), NaN when missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import numbered_lines, parse_position

_MAGIC = b"\x6c\x1b\x01"
_A1_COUNT = np.array([2.0, np.nan, 1.0, 0.0])  # indexed by the 2-bit code


@dataclass(frozen=True)
class PlinkSet:
    chromosome: list[str]
    rsid: list[str]
    position: np.ndarray  # int64
    a1: list[str]
    a2: list[str]
    samples: list[str]
    dosage: np.ndarray  # float64, variants x samples, A1 counts, NaN missing


def read_plink(prefix: str) -> PlinkSet:
    chromosome, rsid, position, a1, a2 = _read_bim(f"{prefix}.bim")
    samples = [line.split()[1] for _, line in numbered_lines(f"{prefix}.fam") if line.strip()]
    dosage = _read_bed(f"{prefix}.bed", len(rsid), len(samples))
    return PlinkSet(chromosome, rsid, np.array(position, dtype=np.int64), a1, a2, samples, dosage)


def _read_bim(path: str) -> tuple[list[str], list[str], list[int], list[str], list[str]]:
    chromosome, rsid, position, a1, a2 = [], [], [], [], []
    for number, line in numbered_lines(path):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 6:
            raise InputError(path, number, "columns", f"{len(fields)} columns, a .bim has 6")
        chromosome.append(fields[0])
        rsid.append(fields[1])
        position.append(parse_position(path, number, "position", fields[3]))
        a1.append(fields[4])
        a2.append(fields[5])
    return chromosome, rsid, position, a1, a2


def _read_bed(path: str, variants: int, samples: int) -> np.ndarray:
    per_variant = (samples + 3) // 4
    expected = len(_MAGIC) + variants * per_variant
    if not os.path.exists(path):
        raise InputError(path, 0, "file", "no such file")
    raw = np.fromfile(path, dtype=np.uint8)
    if raw[:3].tobytes() != _MAGIC:
        raise InputError(path, 0, "magic", "not a variant-major PLINK 1 .bed file")
    if len(raw) != expected:
        raise InputError(path, 0, "size", f"{len(raw)} bytes, {expected} expected from .bim/.fam")
    packed = raw[3:].reshape(variants, per_variant)
    codes = np.stack([(packed >> shift) & 0b11 for shift in (0, 2, 4, 6)], axis=-1)
    return _A1_COUNT[codes.reshape(variants, per_variant * 4)[:, :samples]]
