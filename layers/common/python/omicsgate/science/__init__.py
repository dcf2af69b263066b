"""Pure computations over small in-memory matrices: no I/O, no storage, no web.

Serving code reads the data and hands plain numpy arrays here; everything in this package
can be tested on its own against a reference implementation.
"""

from omicsgate.science.clustering import NOT_ENOUGH_DATA, cluster_newick, upgma
from omicsgate.science.ld import (
    align_proxy,
    clump,
    complement,
    dosage_r_matrix,
    haplotype_r,
    haplotype_r2,
    haplotype_r2_matrix,
    is_palindromic,
    ld_scores,
)
from omicsgate.science.qtl import (
    BetaApproximation,
    DyneqtlStats,
    NominalScan,
    beta_approx_pvalue,
    dyneqtl_stats,
    log2_afc,
    log2_afc_rows,
    nominal_scan,
    pval_nominal_threshold,
    t_sf_two_sided,
)

__all__ = [
    "NOT_ENOUGH_DATA",
    "BetaApproximation",
    "DyneqtlStats",
    "NominalScan",
    "align_proxy",
    "beta_approx_pvalue",
    "clump",
    "cluster_newick",
    "complement",
    "dosage_r_matrix",
    "dyneqtl_stats",
    "haplotype_r",
    "haplotype_r2",
    "haplotype_r2_matrix",
    "is_palindromic",
    "ld_scores",
    "log2_afc",
    "log2_afc_rows",
    "nominal_scan",
    "pval_nominal_threshold",
    "t_sf_two_sided",
    "upgma",
]
