"""Brute-force LD references shared by the unit and API tests: slow, obvious, and
independent of omicsgate.science.ld.

The haplotype r2 reference maximises the multinomial likelihood of the 3x3 genotype table
(nine cells, each a product of haplotype frequencies under Hardy-Weinberg) over p_AB, with
both allele frequencies fixed at their sample values (every EM step keeps them there, so the
maximum lies on that line), on a grid and then with scipy's bounded Brent search. Its
argmax is only good to ~1e-8 (the likelihood is flat at its maximum), hence 1e-6 on r2.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar

COMPLEMENT = str.maketrans("ACGT", "TGCA")


def genotype_table(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    both = ~np.isnan(x) & ~np.isnan(y)
    table = np.zeros((3, 3))
    np.add.at(table, (x[both].astype(int), y[both].astype(int)), 1)
    return table


def brute_haplotype_r(x: np.ndarray, y: np.ndarray) -> float:
    table = genotype_table(x, y)
    haplotypes = 2 * table.sum()
    if haplotypes == 0:
        return float("nan")
    p_a = (2 * table[2].sum() + table[1].sum()) / haplotypes
    p_b = (2 * table[:, 2].sum() + table[:, 1].sum()) / haplotypes
    if p_a in (0.0, 1.0) or p_b in (0.0, 1.0):
        return float("nan")

    def minus_log_likelihood(p11: Any) -> Any:
        """Vectorised over p11: the table's log-likelihood from its nine cell probabilities."""
        p11 = np.atleast_1d(p11)[:, None, None]
        p12, p21, p22 = p_a - p11, p_b - p11, 1 - p_a - p_b + p11
        cells = np.concatenate(
            [
                np.concatenate([p22 * p22, 2 * p21 * p22, p21 * p21], axis=2),
                np.concatenate([2 * p12 * p22, 2 * (p11 * p22 + p12 * p21), 2 * p11 * p21], 2),
                np.concatenate([p12 * p12, 2 * p11 * p12, p11 * p11], axis=2),
            ],
            axis=1,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = np.where(table > 0, table * np.log(np.maximum(cells, 0.0)), 0.0)
        return -terms.sum(axis=(1, 2))

    lo, hi = max(0.0, p_a + p_b - 1), min(p_a, p_b)
    grid = np.linspace(lo, hi, 2001)
    values = minus_log_likelihood(grid)
    best = int(np.argmin(values))
    step = grid[1] - grid[0]
    bounds = (max(lo, grid[best] - step), min(hi, grid[best] + step))
    refined = minimize_scalar(
        lambda v: float(minus_log_likelihood(v)[0]),
        bounds=bounds,
        method="bounded",
        options={"xatol": 1e-14},
    )
    p11 = refined.x if refined.fun <= values[best] else grid[best]
    return float((p11 - p_a * p_b) / np.sqrt(p_a * (1 - p_a) * p_b * (1 - p_b)))


def brute_corr(x: np.ndarray, y: np.ndarray) -> float:
    both = ~np.isnan(x) & ~np.isnan(y)
    if np.ptp(x[both]) == 0 or np.ptp(y[both]) == 0:
        return float("nan")
    return float(np.corrcoef(x[both], y[both])[0, 1])


def brute_clump(chrom, pos, p, r2_matrix, p1, r2, kb, p2=None) -> list[int]:
    """PLINK 1.9 --clump in plain loops over a precomputed r2 matrix."""
    bound = max(p1, p1 if p2 is None else p2)
    radius = int(kb * 1000 - 1)
    candidates = sorted((i for i in range(len(p)) if p[i] <= p1), key=lambda i: p[i])
    clumped, indices = set(), []
    for i in candidates:
        if i in clumped:
            continue
        indices.append(i)
        clumped.add(i)
        for j in range(len(p)):
            if (
                j not in clumped
                and p[j] <= bound
                and chrom[j] == chrom[i]
                and abs(int(pos[j]) - int(pos[i])) <= radius
                and r2_matrix[i, j] > r2
            ):
                clumped.add(j)
    return indices


def align_to_target(
    target: tuple[str, str],
    proxy: tuple[str, str],
    r: float,
    study: tuple[str, str],
    proxy_maf: float,
    maf_threshold: float,
) -> tuple[str, str] | None:
    """The study's (effect, other) allele at the proxy, said in the target's alleles: the
    target's A1 travels with the proxy's A1 when r > 0. The study's alleles must be the
    proxy's, or their complements (a strand flip); a palindromic proxy (its alleles are
    their own complements) is only usable when its MAF is below the threshold."""
    proxy_set = set(proxy)
    palindromic = {a.translate(COMPLEMENT) for a in proxy} == proxy_set
    ea, nea = study
    if palindromic:
        if proxy_maf >= maf_threshold or {ea, nea} != proxy_set:
            return None
    elif {ea, nea} != proxy_set:
        ea, nea = ea.translate(COMPLEMENT), nea.translate(COMPLEMENT)
        if {ea, nea} != proxy_set:
            return None
    partner = {proxy[0]: target[0], proxy[1]: target[1]}
    if r < 0:
        partner = {proxy[0]: target[1], proxy[1]: target[0]}
    return partner[ea], partner[nea]
