"""Variant sites from a VCF (plain or bgzipped), streamed in batches."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import numbered_lines, parse_position

_ALLELE = re.compile(r"[ACGTNacgtn]+|\*|<[^>]+>")


@dataclass
class Site:
    chromosome: str
    pos: int
    ref: str
    alt: str


def read_vcf(path: str, batch: int = 200_000, progress: bool = False) -> Iterator[list[Site]]:
    """Batches of sites; one site per ALT allele (multi-allelic records are split)."""
    sites: list[Site] = []
    saw_header = False
    for number, line in numbered_lines(path, progress):
        if line.startswith("##"):
            continue
        if line.startswith("#"):
            saw_header = line.startswith("#CHROM")
            continue
        if not saw_header:
            raise InputError(path, number, "#CHROM", "data before the #CHROM header line")
        sites.extend(_sites(path, number, line))
        if len(sites) >= batch:
            yield sites
            sites = []
    if not saw_header:
        raise InputError(path, 1, "#CHROM", "no #CHROM header line: not a VCF")
    if sites:
        yield sites


def _sites(path: str, number: int, line: str) -> list[Site]:
    cells = line.split("\t", 8)
    if len(cells) < 8:
        raise InputError(path, number, "columns", f"{len(cells)} columns, VCF needs 8")
    chromosome, pos, _, ref, alts = cells[:5]
    if not chromosome or not chromosome.isascii():
        # Chromosomes are keys of the variants array, which takes ASCII only.
        raise InputError(path, number, "CHROM", f"{chromosome!r} is not an ASCII name")
    position = parse_position(path, number, "POS", pos)
    if not _ALLELE.fullmatch(ref) or ref == "*":
        raise InputError(path, number, "REF", f"{ref!r} is not a reference allele")
    for alt in alts.split(","):
        if not _ALLELE.fullmatch(alt):
            raise InputError(path, number, "ALT", f"{alt!r} is not an allele")
    return [Site(chromosome, position, ref, alt) for alt in alts.split(",")]
