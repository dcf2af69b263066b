"""Build a release's reference tables from standard files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from omicsgate.ingest.annotation import Gene, read_annotation
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.tables import (
    GENE_STATUS_COLUMNS,
    TISSUE_COLUMNS,
    TISSUE_DEFAULTS,
    read_table,
)
from omicsgate.ingest.variants import Site, read_vcf
from omicsgate.portal import reference as ref
from omicsgate.storage.writer import AttemptWriter


@dataclass
class ReferenceInputs:
    tissues: str
    annotation: str
    variants: str
    gene_status: str | None = None
    gene_id_attribute: str = "gene_name"


def columns(rows: list[dict], names: Iterable[str]) -> dict[str, np.ndarray]:
    return {n: np.array([r[n] for r in rows]) for n in names}


def write_tissues(writer: AttemptWriter, path: str, progress: bool) -> list[str]:
    rows = list(read_table(path, TISSUE_COLUMNS, progress, TISSUE_DEFAULTS))
    seen: set[str] = set()
    for number, row in enumerate(rows):
        if row["tissueSiteDetailId"] in seen:
            raise InputError(
                path,
                number + 2,
                "tissueSiteDetailId",
                f"{row['tissueSiteDetailId']!r} appears twice",
            )
        seen.add(row["tissueSiteDetailId"])
        row["ordinal"] = number
    writer.write_table(
        ref.TISSUES,
        ["tissueSiteDetailId"],
        columns(rows, ["tissueSiteDetailId", *ref.TISSUE_FIELDS[1:], "ordinal"]),
        packed=True,
    )
    return [row["tissueSiteDetailId"] for row in rows]


def write_genes(
    writer: AttemptWriter, genes: list[Gene], tissues: list[str], status: GeneStatus
) -> None:
    """Genes with their per-tissue status folded in as one flag string per kind, in tissue
    order: a portal reads the whole table at once, so one small array beats two."""
    rows = [
        {
            **_status_flags(status.get(g.gene_id, {}), tissues),
            "gene_key": ref.gene_key(g.gene_id),
            "geneId": g.gene_id,
            "chromosome": g.chromosome,
            "start": g.start,
            "end": g.end,
            "strand": g.strand,
            "tss": g.tss,
            "description": g.description,
            "source_id": g.source_id,
            "ordinal": i,
        }
        for i, g in enumerate(genes)
    ]
    writer.write_table(ref.GENES, ["gene_key"], columns(rows, rows[0].keys()), packed=True)
    exons = [
        {
            "gene_key": ref.gene_key(g.gene_id),
            "geneId": g.gene_id,
            "chromosome": e.chromosome,
            "start": e.start,
            "end": e.end,
            "strand": e.strand,
            "exonId": e.exon_id,
            "exonNumber": e.exon_number,
            "transcriptId": e.transcript_id,
            "featureType": "exon",
        }
        for g in genes
        for e in g.exons
    ]
    for i, row in enumerate(exons):
        row["ordinal"] = i
    if exons:
        writer.write_table(ref.EXONS, ["gene_key"], columns(exons, exons[0].keys()))


GeneStatus = dict[str, dict[str, tuple[bool, bool, bool]]]  # gene -> tissue -> flags


def read_gene_status(path: str, genes: set[str], tissues: set[str], progress: bool) -> GeneStatus:
    status: GeneStatus = {}
    for number, row in enumerate(read_table(path, GENE_STATUS_COLUMNS, progress), start=2):
        for name, known in (("geneId", genes), ("tissueSiteDetailId", tissues)):
            if row[name] not in known:
                raise InputError(path, number, name, f"{row[name]!r} is not in the release")
        flags = (row["expressed"], row["testedEqtl"], row["eqtl"])
        status.setdefault(row["geneId"], {})[row["tissueSiteDetailId"]] = flags
    return status


def _status_flags(by_tissue: dict[str, tuple[bool, bool, bool]], tissues: list[str]) -> dict:
    flags = [by_tissue.get(t, (False, False, False)) for t in tissues]
    return {
        name: "".join("1" if f[i] else "0" for f in flags)
        for i, name in enumerate(ref.STATUS_FLAGS)
    }


def write_variants(writer: AttemptWriter, path: str, progress: bool) -> None:
    ordinal = 0
    for batch in read_vcf(path, progress=progress):
        table = _variant_columns(batch, ordinal)
        ordinal += len(batch)
        if ref.VARIANTS not in writer.tables:
            writer.create_table(ref.VARIANTS, ["chromosome", "pos"], table)
        writer.append_rows(ref.VARIANTS, table)


def _variant_columns(sites: list[Site], first: int) -> dict[str, np.ndarray]:
    return {
        "chromosome": np.array([s.chromosome for s in sites], dtype=object),
        "pos": np.array([s.pos for s in sites], dtype=np.int64),
        "ref": np.array([s.ref for s in sites], dtype=object),
        "alt": np.array([s.alt for s in sites], dtype=object),
        "ordinal": np.arange(first, first + len(sites), dtype=np.int64),
    }


def write_reference(writer: AttemptWriter, inputs: ReferenceInputs, progress: bool) -> None:
    """Every reference table; any InputError leaves the release uncommitted."""
    tissues = write_tissues(writer, inputs.tissues, progress)
    genes = read_annotation(inputs.annotation, inputs.gene_id_attribute, progress)
    if not genes:
        raise InputError(inputs.annotation, 1, "feature", "no gene lines found")
    status: GeneStatus = {}
    if inputs.gene_status:
        gene_ids = {g.gene_id for g in genes}
        status = read_gene_status(inputs.gene_status, gene_ids, set(tissues), progress)
    write_genes(writer, genes, tissues, status)
    write_variants(writer, inputs.variants, progress)
