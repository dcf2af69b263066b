"""The expression part of a release: what ingestion writes, publish derives and serving reads.

Written by ``omicsgate ingest expression`` (one part of a draft release):

``expression``  dense array, dims ``gene_row`` x ``column`` (int64), attribute ``tpm``
    (float32, NaN where a BED file had no value). One tile holds one gene across every
    sample, so one gene is one compressed tile read. Columns are grouped by tissue: the
    samples of one tissue are one contiguous column range.
``expression_genes``  table, dim ``gene_row``: ``gene_row``, ``geneId`` (GCT Name / BED
    phenotype_id), ``geneSymbol`` (GCT Description; the phenotype_id for BED).
``expression_tissues``  packed table, dim ``tissue_index``: ``tissue_index``, ``tissue``
    (the label the input used: SMTSD or the BED file's tissue), ``column_start``,
    ``column_end`` (exclusive), ``sampleCount``.
``expression_summary``  dense array, dims ``gene_row`` x ``tissue_index``, attributes
    ``median`` (float32, TPM) and ``expressed`` (uint8: TPM >= 0.1 in at least 20 % of the
    tissue's samples, GTEx's rule).
``expression_top``  packed table, dim ``tissue_index``: ``tissue_index``, ``filterMt``
    (uint8: 1 for the list without mitochondrial genes), ``rank`` (0-49), ``gene_row``,
    ``median``.
``samples``  table, dim ``sampleId``: ``sampleId``, ``column``, ``tissue`` (input label),
    ``subjectId``, ``sex`` ("male", "female" or ""), ``ageBracket`` (e.g. "60-69" or "").

Derived at publish (``omicsgate releases publish``) from the parts, in the publish attempt:

``genes``  gains ``expression_row`` (int64, -1 when the gene has no expression row),
    ``expression_symbol`` (its ``expression_genes.geneSymbol``, "" without a row) and
    ``expressedIn`` from ``expression_summary.expressed``.
``tissues``  gains ``rnaSeqSampleCount``, ``expressedGeneCount`` from the expression part,
    ``column_start``/``column_end`` and ``expression_index`` (its ``tissue_index`` in
    ``expression_summary``), all -1 for a tissue without expression.
``top_expressed``  packed table, dim ``tissueSiteDetailId``: ``tissueSiteDetailId``,
    ``filterMt``, ``rank``, ``geneId`` (the release's gene ID), ``chromosome``, ``median``.
"""

from __future__ import annotations

EXPRESSION = "expression"
EXPRESSION_GENES = "expression_genes"
EXPRESSION_TISSUES = "expression_tissues"
EXPRESSION_SUMMARY = "expression_summary"
EXPRESSION_TOP = "expression_top"
SAMPLES = "samples"
TOP_EXPRESSED = "top_expressed"

TOP_GENES = 50
# GTEx: a gene is expressed in a tissue when TPM >= 0.1 in at least 20 % of its samples.
EXPRESSED_TPM = 0.1
EXPRESSED_FRACTION = 0.2
MT_PREFIX = "mt-"  # compared case-insensitively with the gene symbol (MT-CO1, Mt-co1)
