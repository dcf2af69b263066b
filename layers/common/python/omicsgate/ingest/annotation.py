"""Genes and exons from GTF (GENCODE/Ensembl/NCBI) or GFF3 (Ensembl).

Hand-written on purpose: the well-known parsers (gtfparse, pyranges) load whole files
into pandas and cannot say which line and field of a file is wrong; we need only nine
columns and the attributes, streamed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote

from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import numbered_lines, parse_position

_GTF_ATTRIBUTE = re.compile(r'\s*([^\s;]+)\s+(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))\s*;?')
GENE_FEATURES = {"gene", "ncRNA_gene", "pseudogene"}
TRANSCRIPT_FEATURES = {
    "transcript",
    "mRNA",
    "lnc_RNA",
    "ncRNA",
    "pseudogenic_transcript",
    "miRNA",
    "snRNA",
    "snoRNA",
    "rRNA",
    "tRNA",
    "misc_RNA",
    "scaRNA",
}


@dataclass
class Gene:
    gene_id: str
    chromosome: str
    start: int
    end: int
    strand: str
    description: str
    line: int
    exons: list[Exon] = field(default_factory=list)
    # The annotation's own ID (GTF gene_id, GFF3 ID): what QTL and expression files often
    # name a gene by when geneId is its name.
    source_id: str = ""

    @property
    def tss(self) -> int:
        return self.start if self.strand == "+" else self.end


@dataclass
class Exon:
    transcript_id: str
    exon_id: str
    exon_number: int
    chromosome: str
    start: int
    end: int
    strand: str


@dataclass
class Feature:
    line: int
    chromosome: str
    kind: str
    start: int
    end: int
    strand: str
    attributes: dict[str, str]


def is_gff3(path: str) -> bool:
    name = path.lower().removesuffix(".gz")
    return name.endswith((".gff3", ".gff"))


def _features(path: str, progress: bool) -> Iterator[Feature]:
    gff3 = is_gff3(path)
    for number, line in numbered_lines(path, progress):
        if not line or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != 9:
            raise InputError(path, number, "columns", f"{len(cells)} columns, GTF/GFF has 9")
        start, end = (
            parse_position(path, number, name, cells[i]) for name, i in (("start", 3), ("end", 4))
        )
        if end < start:
            raise InputError(path, number, "end", f"end {end} is before start {start}")
        if cells[6] not in "+-" or len(cells[6]) != 1:
            raise InputError(path, number, "strand", f"{cells[6]!r} is not + or -")
        attributes = (_gff3_attributes if gff3 else _gtf_attributes)(path, number, cells[8])
        yield Feature(number, cells[0], cells[2], start, end, cells[6], attributes)


def _gtf_attributes(path: str, line: int, text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    position = 0
    text = text.strip()
    while position < len(text):
        match = _GTF_ATTRIBUTE.match(text, position)
        if not match or match.end() == position:
            raise InputError(path, line, "attributes", f"cannot read {text[position:][:40]!r}")
        attributes.setdefault(match.group(1), match.group(2) or match.group(3) or "")
        position = match.end()
    return attributes


def _gff3_attributes(path: str, line: int, text: str) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in filter(None, text.strip().split(";")):
        key, sep, value = pair.partition("=")
        if not sep:
            raise InputError(path, line, "attributes", f"{pair!r} is not key=value")
        attributes[key.strip()] = unquote(value)
    return attributes


class _Builder:
    """Collects genes and their exons while the features stream past."""

    def __init__(self, path: str, id_attribute: str) -> None:
        self.path = path
        self.id_attribute = id_attribute
        self.genes: dict[str, Gene] = {}  # source gene ID -> gene
        self.served_ids: dict[str, int] = {}  # lower-cased served ID -> line
        self.transcript_gene: dict[str, str] = {}
        self.exon_counts: dict[str, int] = {}

    def add_gene(self, feature: Feature, source_id: str, served_id: str, description: str) -> None:
        if not served_id.isascii() or "," in served_id:
            # Gene IDs are keys of the genes array, which takes ASCII only, and requests
            # separate gene IDs with commas: such an ID could never be asked for.
            raise InputError(
                self.path,
                feature.line,
                self.id_attribute,
                f"{served_id!r} is not an ASCII ID without commas",
            )
        key = served_id.lower()
        if key in self.served_ids:
            raise InputError(
                self.path,
                feature.line,
                self.id_attribute,
                f"gene ID {served_id!r} repeats line {self.served_ids[key]} "
                "(IDs match case-insensitively); try --gene-id-attribute gene_id",
            )
        self.served_ids[key] = feature.line
        self.genes[source_id] = Gene(
            served_id,
            feature.chromosome,
            feature.start,
            feature.end,
            feature.strand,
            description,
            feature.line,
            source_id=source_id.removeprefix("gene:"),
        )

    def gene_for(self, feature: Feature, source_id: str, what: str) -> Gene:
        gene = self.genes.get(source_id)
        if gene is None:
            raise InputError(
                self.path,
                feature.line,
                what,
                f"{source_id!r} names no gene defined on an earlier line",
            )
        return gene

    def add_exon(
        self, feature: Feature, gene: Gene, transcript: str, exon_id: str | None, number: str | None
    ) -> None:
        if number is None:
            self.exon_counts[transcript] = self.exon_counts.get(transcript, 0) + 1
            rank = self.exon_counts[transcript]
        else:
            rank = parse_position(self.path, feature.line, "exon_number", number, "a number")
        gene.exons.append(
            Exon(
                transcript,
                exon_id or f"{transcript}_{rank}",
                rank,
                feature.chromosome,
                feature.start,
                feature.end,
                feature.strand,
            )
        )


def read_annotation(
    path: str, id_attribute: str = "gene_name", progress: bool = False
) -> list[Gene]:
    """Genes in file order, each with its exons. Genes must precede their exons."""
    builder = _Builder(path, id_attribute)
    read = _read_gff3 if is_gff3(path) else _read_gtf
    read(builder, _features(path, progress))
    return list(builder.genes.values())


def _required(builder: _Builder, feature: Feature, name: str) -> str:
    value = feature.attributes.get(name)
    if not value:
        raise InputError(builder.path, feature.line, name, f"missing on a {feature.kind} line")
    return value


def _read_gtf(builder: _Builder, features: Iterator[Feature]) -> None:
    for f in features:
        if f.kind == "gene":
            source = _required(builder, f, "gene_id")
            served = f.attributes.get(builder.id_attribute) or source
            builder.add_gene(f, source, served, f.attributes.get("description", ""))
        elif f.kind == "exon":
            gene = builder.gene_for(f, _required(builder, f, "gene_id"), "gene_id")
            builder.add_exon(
                f,
                gene,
                _required(builder, f, "transcript_id"),
                f.attributes.get("exon_id"),
                f.attributes.get("exon_number"),
            )


def _read_gff3(builder: _Builder, features: Iterator[Feature]) -> None:
    gff_names = {"gene_name": "Name", "gene_id": "gene_id"}
    for f in features:
        if f.kind in GENE_FEATURES:
            source = _required(builder, f, "ID")
            served = f.attributes.get(gff_names.get(builder.id_attribute, builder.id_attribute))
            served = served or f.attributes.get("gene_id") or source.removeprefix("gene:")
            builder.add_gene(f, source, served, _strip_source(f.attributes.get("description")))
        elif f.kind in TRANSCRIPT_FEATURES and "Parent" in f.attributes:
            parent = f.attributes["Parent"].split(",")[0]
            builder.gene_for(f, parent, "Parent")
            builder.transcript_gene[_required(builder, f, "ID")] = parent
        elif f.kind == "exon":
            parent = _required(builder, f, "Parent").split(",")[0]
            gene_source = builder.transcript_gene.get(parent)
            if gene_source is None:
                raise InputError(
                    builder.path,
                    f.line,
                    "Parent",
                    f"{parent!r} names no transcript defined on an earlier line",
                )
            gene = builder.genes[gene_source]
            transcript = f.attributes.get("transcript_id") or parent.removeprefix("transcript:")
            builder.add_exon(
                f, gene, transcript, f.attributes.get("exon_id"), f.attributes.get("rank")
            )


def _strip_source(description: str | None) -> str:
    """Ensembl appends ' [Source:...]' to descriptions; the portal shows it without."""
    return re.sub(r"\s*\[Source:[^\]]*\]\s*$", "", description or "")
