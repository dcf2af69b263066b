"""Publishing a portal release: check its parts agree and derive what spans them.

The reference part holds tissues, genes, exons and variants; the expression part holds the
matrix and what ingestion summarised from it (see ``portal.expression_schema``). Counts and
flags that follow from the expression data are computed here, never typed in twice:
``tissueInfo.rnaSeqSampleCount`` and ``expressedGeneCount``, ``gene.statusInTissue[].expressed``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from omicsgate.portal import expression_schema as ex
from omicsgate.portal import qtl_schema as qs
from omicsgate.portal import reference as ref
from omicsgate.storage.writer import AttemptWriter, Draft

MAX_LISTED = 5  # of a long list of unknown IDs, name the first few and count the rest
NO_RANGE = -1


def assemble_portal(draft: Draft, derived: AttemptWriter) -> list[str]:
    """Every reason the draft cannot be published; derived tables written when there is
    none (a draft with problems is never published, so what was derived is discarded)."""
    if not draft.has(ref.TISSUES) or not draft.has(ref.GENES):
        return ["no reference part (tissues and genes): ingest one with `ingest reference`"]
    problems = []
    if draft.has(ex.EXPRESSION):
        problems += _assemble_expression(draft, derived)
    if draft.has(qs.QTL_GENES):
        problems += _check_qtl(draft)
    if draft.has(qs.GENOTYPES) and draft.has(ex.SAMPLES):
        problems += _map_genotypes(draft, derived)
    return problems


def _assemble_expression(draft: Draft, derived: AttemptWriter) -> list[str]:
    tissues = _sorted(draft.read_all(ref.TISSUES))
    genes = _sorted(draft.read_all(ref.GENES))
    expression_tissues = draft.read_all(ex.EXPRESSION_TISSUES)
    expression_genes = draft.read_all(ex.EXPRESSION_GENES)
    tissue_of, problems = _match_tissues(tissues, expression_tissues)
    row_of, gene_problems = _match_genes(genes, expression_genes)
    problems += gene_problems
    if problems:
        return problems
    summary = draft.read_all(ex.EXPRESSION_SUMMARY)
    expressed = np.asarray(summary["expressed"], dtype=bool)
    _derive_tissues(derived, tissues, expression_tissues, tissue_of, row_of, expressed)
    symbols = dict(
        zip(
            expression_genes["gene_row"].tolist(),
            expression_genes["geneSymbol"].tolist(),
            strict=True,
        )
    )
    _derive_genes(derived, genes, tissues, tissue_of, row_of, expressed, symbols)
    _derive_top(derived, draft.read_all(ex.EXPRESSION_TOP), tissue_of, genes, row_of)
    return []


def _sorted(columns: dict[str, Any]) -> dict[str, np.ndarray]:
    order = np.argsort(np.asarray(columns["ordinal"]), kind="stable")
    return {name: np.asarray(values)[order] for name, values in columns.items()}


def _listed(values: list[str]) -> str:
    shown = ", ".join(repr(v) for v in values[:MAX_LISTED])
    more = len(values) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _tissue_label_key(label: str) -> str:
    """GTEx writes SMTSD as 'Adipose - Subcutaneous' and the ID as Adipose_Subcutaneous."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")


def _match_tissues(
    tissues: dict[str, np.ndarray], expression_tissues: dict[str, np.ndarray]
) -> tuple[dict[int, int], list[str]]:
    """Expression tissue index -> reference tissue position, matching the label with the
    tissue's ID or its name (tissueSiteDetail)."""
    known: dict[str, int] = {}
    for position, (tissue_id, name) in enumerate(
        zip(tissues["tissueSiteDetailId"], tissues["tissueSiteDetail"], strict=True)
    ):
        known.setdefault(_tissue_label_key(str(name)), position)
        known[_tissue_label_key(str(tissue_id))] = position
    tissue_of: dict[int, int] = {}
    unknown: list[str] = []
    for index, label in zip(
        expression_tissues["tissue_index"].tolist(),
        expression_tissues["tissue"].tolist(),
        strict=True,
    ):
        key = _tissue_label_key(label)
        if key in known:
            tissue_of[int(index)] = known[key]
        else:
            unknown.append(label)
    problems = []
    if unknown:
        problems.append(
            f"the expression part's tissues {_listed(unknown)} are not tissues of the "
            "reference part (matched by tissueSiteDetailId or tissueSiteDetail)"
        )
    if len(set(tissue_of.values())) != len(tissue_of):
        problems.append("two tissues of the expression part match one reference tissue")
    return tissue_of, problems


def _gene_keys(gene_id: str, symbol: str) -> list[str]:
    """Ways an expression row can name a reference gene: its ID (with or without the
    Ensembl version), or its symbol."""
    return [ref.gene_key(k) for k in (gene_id, gene_id.split(".", 1)[0], symbol) if k]


def gene_positions(genes: dict[str, np.ndarray]) -> dict[str, int]:
    """Every key a reference gene answers to (its geneId, its annotation ID with and without
    the version) -> its position; the served geneId wins a clash."""
    positions: dict[str, int] = {}
    sources = genes.get("source_id", np.array([""] * len(genes["gene_key"])))
    for i, source in enumerate(sources.tolist()):
        for key in _gene_keys(str(source), ""):
            positions.setdefault(key, i)
    positions.update({key: i for i, key in enumerate(genes["gene_key"].tolist())})
    return positions


def _match_genes(
    genes: dict[str, np.ndarray], expression_genes: dict[str, np.ndarray]
) -> tuple[dict[int, int], list[str]]:
    """Reference gene position -> expression row."""
    position_of = gene_positions(genes)
    row_of: dict[int, int] = {}
    unknown: list[str] = []
    for row, gene_id, symbol in zip(
        expression_genes["gene_row"].tolist(),
        expression_genes["geneId"].tolist(),
        expression_genes["geneSymbol"].tolist(),
        strict=True,
    ):
        position = next(
            (position_of[k] for k in _gene_keys(gene_id, symbol) if k in position_of), None
        )
        if position is None:
            unknown.append(gene_id)
        elif position in row_of:
            return row_of, [f"expression rows {row_of[position]} and {row} name the same gene"]
        else:
            row_of[position] = int(row)
    if unknown:
        return row_of, [
            f"{len(unknown)} genes of the expression part are not genes of the reference "
            f"part: {_listed(unknown)}"
        ]
    return row_of, []


def _derive_tissues(
    derived: AttemptWriter,
    tissues: dict[str, np.ndarray],
    expression_tissues: dict[str, np.ndarray],
    tissue_of: dict[int, int],
    row_of: dict[int, int],
    expressed: np.ndarray,
) -> None:
    count = len(tissues["tissueSiteDetailId"])
    samples = np.zeros(count, dtype=np.int64)
    expressed_genes = np.zeros(count, dtype=np.int64)
    start = np.full(count, NO_RANGE, dtype=np.int64)
    end = np.full(count, NO_RANGE, dtype=np.int64)
    summary_index = np.full(count, NO_RANGE, dtype=np.int64)
    rows = np.asarray(sorted(row_of.values()), dtype=np.int64)
    for i, index in enumerate(expression_tissues["tissue_index"].tolist()):
        position = tissue_of[int(index)]
        samples[position] = int(expression_tissues["sampleCount"][i])
        start[position] = int(expression_tissues["column_start"][i])
        end[position] = int(expression_tissues["column_end"][i])
        summary_index[position] = int(index)
        expressed_genes[position] = int(expressed[rows, int(index)].sum()) if len(rows) else 0
    columns = {
        **tissues,
        "rnaSeqSampleCount": samples,
        "expressedGeneCount": expressed_genes,
        "column_start": start,
        "column_end": end,
        "expression_index": summary_index,
    }
    derived.write_table(ref.TISSUES, ["tissueSiteDetailId"], columns, packed=True)


def _derive_genes(
    derived: AttemptWriter,
    genes: dict[str, np.ndarray],
    tissues: dict[str, np.ndarray],
    tissue_of: dict[int, int],
    row_of: dict[int, int],
    expressed: np.ndarray,
    symbols: dict[int, str],
) -> None:
    """``expression_row``, ``expression_symbol`` and the expressed flags (GTEx's rule,
    from the matrix): a tissue without expression data has no expressed gene."""
    count = len(genes["gene_key"])
    index_of = {position: index for index, position in tissue_of.items()}
    tissue_count = len(tissues["tissueSiteDetailId"])
    flags = []
    rows = np.full(count, NO_RANGE, dtype=np.int64)
    for position in range(count):
        row = row_of.get(position)
        if row is not None:
            rows[position] = row
        flags.append(
            "".join(
                "1" if row is not None and t in index_of and expressed[row, index_of[t]] else "0"
                for t in range(tissue_count)
            )
        )
    columns = {
        **genes,
        "expressedIn": np.asarray(flags, dtype=object),
        "expression_row": rows,
        "expression_symbol": np.asarray([symbols.get(int(r), "") for r in rows], dtype=object),
    }
    derived.write_table(ref.GENES, ["gene_key"], columns, packed=True)


def _derive_top(
    derived: AttemptWriter,
    top: dict[str, np.ndarray],
    tissue_of: dict[int, int],
    genes: dict[str, np.ndarray],
    row_of: dict[int, int],
) -> None:
    """The top-50 lists with the release's gene IDs and tissue IDs, served from memory
    (the derived tissues table is written first)."""
    position_of_row = {row: position for position, row in row_of.items()}
    tissue_ids = list(derived.packed[ref.TISSUES]["tissueSiteDetailId"])
    positions = [position_of_row[int(r)] for r in top["gene_row"].tolist()]
    columns = {
        "tissueSiteDetailId": np.asarray(
            [tissue_ids[tissue_of[int(i)]] for i in top["tissue_index"].tolist()], dtype=object
        ),
        "filterMt": np.asarray(top["filterMt"], dtype=np.uint8),
        "rank": np.asarray(top["rank"], dtype=np.int64),
        "geneId": np.asarray([genes["geneId"][p] for p in positions], dtype=object),
        "chromosome": np.asarray([genes["chromosome"][p] for p in positions], dtype=object),
        "median": np.asarray(top["median"], dtype=np.float64),
    }
    derived.write_table(ex.TOP_EXPRESSED, ["tissueSiteDetailId"], columns, packed=True)


def _check_qtl(draft: Draft) -> list[str]:
    """Every gene and tissue the QTL tables name is one of the reference part's."""
    positions = gene_positions(_sorted(draft.read_all(ref.GENES)))
    tissues = draft.read_all(ref.TISSUES)
    known_tissues = {str(t) for t in tissues["tissueSiteDetailId"].tolist()}
    problems = []
    for table in (qs.QTL_GENES, qs.QTL_INDEPENDENT, qs.QTL_PAIRS):
        if not draft.has(table):
            continue
        columns = draft.read_all(table)
        genes = sorted({str(g) for g in columns["geneId"].tolist()})
        unknown = [g for g in genes if not any(k in positions for k in _gene_keys(g, ""))]
        if unknown:
            problems.append(
                f"{len(unknown)} genes of the QTL table {table} are not genes of the "
                f"reference part: {_listed(unknown)}"
            )
        named = {str(t) for t in columns["tissueSiteDetailId"].tolist()}
        if named - known_tissues:
            problems.append(
                f"the QTL table {table} names tissues {_listed(sorted(named - known_tissues))} "
                "that are not tissueSiteDetailIds of the reference part"
            )
    return problems


def _map_genotypes(draft: Draft, derived: AttemptWriter) -> list[str]:
    """Each expression sample's column of the genotype array, matched by subject (GTEx and
    RatGTEx VCFs name subjects) or by sample ID; samples that do not match are reported."""
    samples = draft.read_all(ex.SAMPLES)
    vcf = draft.read_all(qs.GENOTYPE_SAMPLES)
    position = {
        str(s): int(i)
        for s, i in zip(vcf["sampleId"].tolist(), vcf["genotype_sample"].tolist(), strict=True)
    }
    columns = np.asarray(samples["column"], dtype=np.int64)
    matched = np.asarray(
        [
            position.get(str(subject), position.get(str(sample), NO_RANGE))
            for subject, sample in zip(
                samples["subjectId"].tolist(), samples["sampleId"].tolist(), strict=True
            )
        ],
        dtype=np.int64,
    )
    if not (matched >= 0).any():
        return [
            "no expression sample matches a genotype sample (by subject or sample ID): "
            f"VCF samples {_listed(sorted(position))}"
        ]
    subjects = [str(s) for s in samples["subjectId"].tolist()]
    missing = sorted({s for s, m in zip(subjects, matched.tolist(), strict=True) if m < 0})
    if missing:
        derived.notes.append(
            f"{int((matched < 0).sum())} expression samples of {len(missing)} subjects have no "
            f"genotypes: {_listed(missing)}"
        )
    unused = sorted(set(position) - set(subjects))
    if unused:
        derived.notes.append(
            f"{len(unused)} genotyped subjects have no expression: {_listed(unused)}"
        )
    order = np.argsort(columns)
    table = {"column": columns[order], "genotype_sample": matched[order]}
    derived.write_table(qs.SAMPLE_GENOTYPES, ["column"], table, packed=True)
    return []
