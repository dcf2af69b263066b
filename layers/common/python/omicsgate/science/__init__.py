"""Pure computations over small in-memory matrices: no I/O, no storage, no web.

Serving code reads the data and hands plain numpy arrays here; everything in this package
can be tested on its own against a reference implementation.
"""

from omicsgate.science.clustering import NOT_ENOUGH_DATA, cluster_newick, upgma
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
    "beta_approx_pvalue",
    "cluster_newick",
    "dyneqtl_stats",
    "log2_afc",
    "log2_afc_rows",
    "nominal_scan",
    "pval_nominal_threshold",
    "t_sf_two_sided",
    "upgma",
]
