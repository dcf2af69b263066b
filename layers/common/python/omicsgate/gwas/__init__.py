"""GWAS studies: a catalogue that grows one study at a time, read for the OpenGWAS API.

Public surface (serving): :func:`get_gwas` -> :class:`GwasStore`, :class:`Study`,
:class:`Locus`, the chromosome codes and the errors. Ingestion writes with
:mod:`omicsgate.gwas.writer`, which serving never imports.

Layout under the data URI (see ``_layout``)::

    gwas/studies/<ID>@<slot>.json    a study's record: metadata, access, where its data is.
                                     Its existence is the study's commit point.
    gwas/slots/<slot>.json           slot numbers, each claimed once by one ingestion
    gwas/attempts/<attempt>/         one ingestion's per-study array (``assoc``), lease
    gwas/by_position/                every study's associations keyed (chrom, pos, slot):
                                     one fragment per ingestion, consolidated by
                                     ``omicsgate gwas consolidate``
    gwas/rsids/                      rsid number -> (chrom, pos)
    gwas/genes/                      gene name -> locus (the GWAS build's annotation)
    gwas/catalog.json.gz             a snapshot of the records (a cache: the records rule)
    gwas/panels/<POP>.json           an LD reference panel's record (its arrays live in its
                                     attempt directory; see ``panel_writer``)
    gwas/panels/snplist.json         SNPs common in every panel, for /variants/afl2/snplist

Rows of a slot no record names are invisible, so a killed ingestion shows nothing and a
removed study disappears with its record; consolidation drops such rows for good.

On S3, reads of ``by_position`` go through a bounded in-process cache of row blocks
(``_blocks``: ~131,072 cells each, keyed by the committed slot set, bounds stored in the
catalogue snapshot by consolidation; ``OMICSGATE_GWAS_BLOCK_CACHE_MB``, default 256, 0 off).
"""

from omicsgate.gwas._catalog import Study
from omicsgate.gwas._codes import (
    CHROMOSOMES,
    POPULATIONS,
    Locus,
    chrom_code,
    chrom_name,
    is_rsid,
    parse_chrpos,
    rsid_number,
)
from omicsgate.gwas._panels import Panel, PanelSnps, UnknownPanel
from omicsgate.gwas._reader import GwasStore, UnknownStudy, get_gwas, reset_gwas

__all__ = [
    "CHROMOSOMES",
    "POPULATIONS",
    "GwasStore",
    "Locus",
    "Panel",
    "PanelSnps",
    "Study",
    "UnknownPanel",
    "UnknownStudy",
    "chrom_code",
    "chrom_name",
    "get_gwas",
    "is_rsid",
    "parse_chrpos",
    "reset_gwas",
    "rsid_number",
]
