"""The genotype and QTL parts of a release: what ingestion writes and serving reads.

Written by ``omicsgate ingest genotypes`` (part ``genotypes``):

``genotypes``  dense array, dims ``variant_row`` x ``genotype_sample`` (int64), attribute
    ``dosage`` (int8: ALT allele count 0/1/2, ``MISSING_DOSAGE`` when the call is missing).
    One tile holds one variant across every sample: one variant is one tile read.
``genotype_variants``  table, dims ``chromosome``, ``pos``: ``chromosome``, ``pos``,
    ``ref``, ``alt`` (one row per ALT allele; a multi-allelic site has several rows),
    ``variant_row``, ``variantId`` (``chr:pos`` as the portal writes it; RatGTEx style).
``genotype_samples``  packed table, dim ``genotype_sample``: ``genotype_sample``,
    ``sampleId`` (the VCF's sample name: a GTEx subject ID, a RatGTEx rat ID).

Written by ``omicsgate ingest qtl`` (part ``qtl``), from tensorQTL's outputs, one set per
tissue (and per modality for xQTLs):

``qtl_genes``  table, dims ``gene_key``, ``tissueSiteDetailId``: tensorQTL's ``cis`` table
    (one row per phenotype): ``phenotypeId``, ``geneId``, ``variantId``, ``pValueBeta``
    (pval_beta), ``pValueThreshold`` (pval_nominal_threshold), ``qValue`` (qval),
    ``slope``, ``modality``.
``qtl_independent``  table, dims ``gene_key``: the ``cis_independent`` tables of every
    tissue and modality: ``tissueSiteDetailId``, ``modality``, ``phenotypeId``, ``geneId``,
    ``variantId``, ``rank``, ``pValueBeta``, ``pValueNominal``, ``slope``, ``log2aFC``.
``qtl_pairs``  table, dims ``gene_key``: the significant nominal pairs
    (``cis_qtl_pairs.<chr>.parquet`` rows with pval_nominal <= the gene's
    pval_nominal_threshold): ``tissueSiteDetailId``, ``geneId``, ``variantId``,
    ``chromosome``, ``pos``, ``pValue``, ``nes`` (slope).

Derived at publish when the release has expression and genotypes:

``sample_genotypes``  packed table, dim ``column``: ``column`` (of ``expression``),
    ``genotype_sample`` (of ``genotypes``; -1 when the sample's subject was not genotyped).
``genes`` keeps ``source_id`` (the annotation's own gene ID): QTL tables keyed by Ensembl
    IDs are found from a geneId that is a gene name through it.

Modalities (RatGTEx xQTL): expression, isoforms, splicing, alt_TSS, alt_polyA, stability.
"""

from __future__ import annotations

GENOTYPES = "genotypes"
GENOTYPE_VARIANTS = "genotype_variants"
GENOTYPE_SAMPLES = "genotype_samples"
QTL_GENES = "qtl_genes"
QTL_INDEPENDENT = "qtl_independent"
QTL_PAIRS = "qtl_pairs"
SAMPLE_GENOTYPES = "sample_genotypes"

MISSING_DOSAGE = -1
MODALITIES = ("expression", "isoforms", "splicing", "alt_TSS", "alt_polyA", "stability")
