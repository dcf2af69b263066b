"""QTL statistics in numpy only: t and beta tail probabilities, dyneqtl, a cis scan, aFC.

Why here and why numpy only: ``/dyneqtl`` regresses one gene's expression on one variant's
dosages on the fly, and the demo release computes its eQTL tables (tensorQTL's ``cis``,
``cis_independent`` and nominal pairs) from simulated data. Both need Student t and beta
tail probabilities, which scipy provides, but scipy does not fit in the Lambda layer (about
100 MB more on a layer already near the 250 MB limit). So the special functions are written
here, from Numerical Recipes (3rd ed., 6.4 ``betacf``: the modified Lentz continued
fraction), and ``tests/unit/test_qtl_science.py`` checks every one against scipy.

Choices:

- Tail probabilities are computed in log space (``log_betainc``), so p-values far below
  1e-300 keep their exponent: ``t_logsf_two_sided`` returns log p. ``t_sf_two_sided`` is its
  exponential, so it is exact to ~1e-13 relative down to the smallest normal double
  (2.2e-308); below that p underflows to subnormals and then to 0.0, as scipy's does.
- ``dyneqtl_stats`` is ordinary least squares of expression on dosage, as
  ``scipy.stats.linregress``: two-sided p from Student t with n - 2 degrees of freedom.
  ``nes`` is GTEx's normalized effect size: the slope of the same regression on the
  expression after GTEx's inverse normal transform (``Phi^-1(rank / (n + 1))``, ties get
  their average rank), i.e. the effect of one ALT allele relative to REF in normalized
  expression space. Degenerate inputs (fewer than 3 samples with both values, or a
  monomorphic variant among them) are not errors: the counts and MAF are still returned and
  every regression field is NaN, so a route can show the samples and say "not computable".
  Dosages outside [0, 2] (other than the missing code) are a ``ValueError``.
- ``nominal_scan`` is tensorQTL's ``calculate_corr`` algebra: covariates are regressed out
  of genotypes and phenotypes, both are centred and scaled, r = g . p, and slope, its
  standard error, t and p follow with dof = n - 2 - (number of covariates). Missing
  genotypes (NaN) are replaced by the variant's mean dosage, as tensorQTL's
  ``impute_mean`` does (dyneqtl drops them instead: it shows one pair's samples).
- ``beta_approx_pvalue`` follows tensorQTL/FastQTL: the minimum nominal p-values of
  permutations are fitted by a Beta(a, b) (method of moments start, then maximum likelihood
  by Newton's method on the digamma equations, as ``scipy.stats.beta.fit`` with loc=0,
  scale=1) and ``pval_beta = I_{p_min}(a, b)``. Simplification: tensorQTL first re-estimates
  an effective number of degrees of freedom so that the permuted p-values fit best; here the
  nominal dof is used (exact for the demo's simulated Gaussian data without covariates).
- ``pval_nominal_threshold`` is tensorQTL's ``beta.ppf(p_threshold, a, b)``, with the
  inverse incomplete beta found by bisection on log x (monotone, always converges).
- ``log2_afc`` is the allelic fold change of Mohammadi et al. 2017 (Genome Research 27:1872),
  the quantity GTEx and RatGTEx report: expression of a sample with dosage g is
  ``e_ref * (2 - g + g * k)`` with k = e_alt / e_ref; on log2(expression + 1) the model
  ``y = c + log2(2 - g + g * 2^s)`` is fitted by least squares (c in closed form, s by a
  grid then golden-section search), and ``s = log2 aFC`` is capped at +-log2(100) as the
  ``aFC.py`` tool does. ``log2_afc_rows`` fits many rows at once (the demo's every eQTL:
  ~1 s for 3,500 where one call at a time took ~12 ms each): the sum of squares only
  depends on s through each dosage level's sample count and mean, so the search runs on
  those (3 levels for hard calls); ``log2_afc`` is its one-row case.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MISSING_DOSAGE = -1
# log2(100): aFC.py caps the fold change at 100 either way.
AFC_CAP = math.log2(100.0)
_FPMIN = 1e-300
_EPS = 1e-16
_MAX_ITERATIONS = 20_000

_lgamma = np.frompyfunc(math.lgamma, 1, 1)


def _gammaln(x: np.ndarray) -> np.ndarray:
    """log Gamma elementwise (math.lgamma once per distinct value: a scan has few dofs)."""
    unique, inverse = np.unique(x, return_inverse=True)
    return np.asarray(_lgamma(unique), dtype=np.float64)[inverse].reshape(np.shape(x))


def _log_betacf(a: np.ndarray, b: np.ndarray, x: np.ndarray) -> np.ndarray:
    """log of the continued fraction of I_x(a, b) (Numerical Recipes ``betacf``, modified
    Lentz), vectorised: each step works on the elements not yet converged only."""
    qab = a + b
    qap = a + 1.0
    qam = a - 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < _FPMIN, _FPMIN, d)
    c = np.ones_like(x)
    h = d.copy()
    out = np.empty_like(x)
    idx = np.arange(x.size)
    for m in range(1, _MAX_ITERATIONS + 1):
        m2 = 2.0 * m
        a_, b_, x_ = a[idx], b[idx], x[idx]
        aa = m * (b_ - m) * x_ / ((qam[idx] + m2) * (a_ + m2))
        d = 1.0 + aa * d
        d = 1.0 / np.where(np.abs(d) < _FPMIN, _FPMIN, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _FPMIN, _FPMIN, c)
        h = h * d * c
        aa = -(a_ + m) * (qab[idx] + m) * x_ / ((a_ + m2) * (qap[idx] + m2))
        d = 1.0 + aa * d
        d = 1.0 / np.where(np.abs(d) < _FPMIN, _FPMIN, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < _FPMIN, _FPMIN, c)
        delta = d * c
        h = h * delta
        done = np.abs(delta - 1.0) <= _EPS
        if done.any():
            out[idx[done]] = h[done]
            keep = ~done
            idx, c, d, h = idx[keep], c[keep], d[keep], h[keep]
            if idx.size == 0:
                return np.log(out)
    raise ArithmeticError("incomplete beta continued fraction did not converge")


def _log_betainc_direct(a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """log I_x(a, b) from the continued fraction; y = 1 - x given exactly by the caller.
    Accurate when x < (a + 1) / (a + b + 2)."""
    with np.errstate(divide="ignore"):
        log_x = np.where(x < 0.5, np.log(x), np.log1p(-y))
        log_y = np.where(y < 0.5, np.log(y), np.log1p(-x))
    log_front = a * log_x + b * log_y - (_gammaln(a) + _gammaln(b) - _gammaln(a + b)) - np.log(a)
    return log_front + _log_betacf(a, b, x)


def log_betainc(a: object, b: object, x: object, y: object | None = None) -> np.ndarray:
    """log of the regularized incomplete beta function I_x(a, b) (= scipy's ``betainc``),
    elementwise with broadcasting. Give ``y`` = 1 - x when it is known more exactly than
    ``1 - x`` (the t distribution does); it must then satisfy x + y = 1."""
    a_, b_, x_ = np.broadcast_arrays(
        np.asarray(a, dtype=np.float64),
        np.asarray(b, dtype=np.float64),
        np.asarray(x, dtype=np.float64),
    )
    y_ = 1.0 - x_ if y is None else np.broadcast_to(np.asarray(y, dtype=np.float64), x_.shape)
    if np.any(a_ <= 0) or np.any(b_ <= 0):
        raise ValueError("a and b must be positive")
    if np.any((x_ < 0) | (x_ > 1)):
        raise ValueError("x must be in [0, 1]")
    shape = x_.shape
    a_, b_, x_, y_ = (np.ravel(v).astype(np.float64) for v in (a_, b_, x_, y_))
    out = np.empty(x_.shape, dtype=np.float64)
    zero = x_ <= 0.0
    one = y_ <= 0.0
    out[zero] = -np.inf
    out[one & ~zero] = 0.0
    inner = ~(zero | one)
    direct = inner & (x_ < (a_ + 1.0) / (a_ + b_ + 2.0))
    flipped = inner & ~direct
    if direct.any():
        out[direct] = _log_betainc_direct(a_[direct], b_[direct], x_[direct], y_[direct])
    if flipped.any():
        log_complement = _log_betainc_direct(b_[flipped], a_[flipped], y_[flipped], x_[flipped])
        out[flipped] = np.log1p(-np.exp(log_complement))
    return out.reshape(shape)


def betainc(a: object, b: object, x: object) -> np.ndarray:
    """Regularized incomplete beta function I_x(a, b): the Beta(a, b) CDF at x."""
    return np.exp(log_betainc(a, b, x))


def beta_cdf(x: object, a: object, b: object) -> np.ndarray:
    """Beta(a, b) CDF at x (scipy's ``beta.cdf`` argument order)."""
    return betainc(a, b, x)


def beta_ppf(q: object, a: object, b: object) -> np.ndarray:
    """Beta(a, b) quantile: the x with I_x(a, b) = q, by bisection on log x.

    I_x is increasing in x, so bisection always converges; 1100 halvings of [-745, 0]
    reach the spacing of doubles, and the loop stops as soon as every midpoint repeats."""
    q_, a_, b_ = np.broadcast_arrays(
        np.asarray(q, dtype=np.float64),
        np.asarray(a, dtype=np.float64),
        np.asarray(b, dtype=np.float64),
    )
    if np.any((q_ < 0) | (q_ > 1)):
        raise ValueError("q must be in [0, 1]")
    shape = q_.shape
    q_, a_, b_ = (np.ravel(v).astype(np.float64) for v in (q_, a_, b_))
    with np.errstate(divide="ignore"):
        log_q = np.log(q_)
    lo = np.full(q_.shape, math.log(5e-324))
    hi = np.zeros(q_.shape)
    for _ in range(1100):
        mid = 0.5 * (lo + hi)
        if np.all((mid == lo) | (mid == hi)):
            break
        x = np.exp(mid)
        below = log_betainc(a_, b_, x) < log_q
        lo = np.where(below, mid, lo)
        hi = np.where(below, hi, mid)
    out = np.exp(0.5 * (lo + hi))
    out[q_ == 0.0] = 0.0
    out[q_ == 1.0] = 1.0
    return out.reshape(shape)


def t_logsf_two_sided(t: object, df: object) -> np.ndarray:
    """log P(|T| >= |t|) for Student's T with ``df`` degrees of freedom:
    log I_{df / (df + t^2)}(df / 2, 1 / 2), with 1 - x = t^2 / (df + t^2) computed directly."""
    t_, df_ = np.broadcast_arrays(np.asarray(t, dtype=np.float64), np.asarray(df, dtype=np.float64))
    if np.any(df_ <= 0):
        raise ValueError("df must be positive")
    t2 = np.square(t_)
    with np.errstate(invalid="ignore", over="ignore"):
        denominator = df_ + t2
        x = np.where(np.isinf(t2), 0.0, df_ / denominator)
        y = np.where(np.isinf(t2), 1.0, t2 / denominator)
    out = np.full(t_.shape, np.nan)
    ok = ~np.isnan(t_)
    out[ok] = log_betainc(0.5 * df_[ok], 0.5, x[ok], y[ok])
    return out


def t_sf_two_sided(t: object, df: object) -> np.ndarray:
    """Two-sided p-value of a t statistic: 2 * scipy's ``t.sf(|t|, df)``."""
    return np.exp(t_logsf_two_sided(t, df))


# --- dyneqtl -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DyneqtlStats:
    """One gene-variant regression as ``/dyneqtl`` serves it (NaN where not computable)."""

    slope: float
    intercept: float
    stderr: float
    tStatistic: float  # camelCase: the API's field names
    pValue: float
    nes: float
    homoRefCount: int
    hetCount: int
    homoAltCount: int
    maf: float
    n: int
    mask: np.ndarray  # samples used (dosage present and expression finite)


def _normal_ppf_scalar(p: float) -> float:
    """Inverse standard normal CDF: Acklam's rational approximation and one Halley step
    on ``math.erfc`` (relative error ~1e-15)."""
    if p <= 0.0:
        return -math.inf
    if p >= 1.0:
        return math.inf
    if p > 0.5:  # 1 - p is exact here; the lower tail keeps the Halley step accurate
        return -_normal_ppf_scalar(1.0 - p)
    a = (-3.969683028665376e01, 2.209460984245205e02, -2.759285104469687e02,
         1.383577518672690e02, -3.066479806614716e01, 2.506628277459239e00)  # fmt: skip
    b = (-5.447609879822406e01, 1.615858368580409e02, -1.556989798598866e02,
         6.680131188771972e01, -1.328068155288572e01)  # fmt: skip
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e00,
         -2.549732539343734e00, 4.374664141464968e00, 2.938163982698783e00)  # fmt: skip
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e00,
         3.754408661907416e00)  # fmt: skip
    if p < 0.02425:
        q = math.sqrt(-2.0 * math.log(p))
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0
        )
    elif p > 1.0 - 0.02425:
        q = math.sqrt(-2.0 * math.log1p(-p))
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / (
            (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0
        )
    else:
        q = p - 0.5
        r = q * q
        x = (
            (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5])
            * q
            / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0)
        )
    e = 0.5 * math.erfc(-x / math.sqrt(2.0)) - p
    u = e * math.sqrt(2.0 * math.pi) * math.exp(x * x / 2.0)
    return x - u / (1.0 + x * u / 2.0)


def normal_ppf(p: object) -> np.ndarray:
    """Inverse standard normal CDF, elementwise (scipy's ``norm.ppf``)."""
    arr = np.asarray(p, dtype=np.float64)
    return np.asarray(np.frompyfunc(_normal_ppf_scalar, 1, 1)(arr), dtype=np.float64)


def average_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given their average rank (scipy's ``rankdata``)."""
    values = np.asarray(values, dtype=np.float64)
    order = np.argsort(values, kind="mergesort")
    sorted_values = values[order]
    starts = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(starts) - 1
    first = np.flatnonzero(starts)
    last = np.r_[first[1:], values.size] - 1
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = (first[group] + last[group]) / 2.0 + 1.0
    return ranks


def inverse_normal_transform(values: np.ndarray) -> np.ndarray:
    """GTEx's rank-based inverse normal transform of one gene: Phi^-1(rank / (n + 1))."""
    values = np.asarray(values, dtype=np.float64)
    return normal_ppf(average_ranks(values) / (values.size + 1.0))


def _ols(
    x: np.ndarray, y: np.ndarray, p_value: bool = True
) -> tuple[float, float, float, float, float]:
    """slope, intercept, stderr, t, two-sided p as ``scipy.stats.linregress`` (p NaN unless
    ``p_value``: its incomplete beta is most of the cost, and ``nes`` needs the slope only)."""
    n = x.size
    xm = x - x.mean()
    ym = y - y.mean()
    ssx = float(xm @ xm)
    ssy = float(ym @ ym)
    sxy = float(xm @ ym)
    slope = sxy / ssx
    intercept = float(y.mean() - slope * x.mean())
    df = n - 2
    r = 0.0 if ssy == 0.0 else max(-1.0, min(1.0, sxy / math.sqrt(ssx * ssy)))
    if abs(r) == 1.0:
        t = math.copysign(math.inf, r)
        p = 0.0
    else:
        t = r * math.sqrt(df / ((1.0 - r) * (1.0 + r)))
        p = float(t_sf_two_sided(t, df)) if p_value else math.nan
    stderr = math.sqrt(max(0.0, (1.0 - r * r) * ssy / ssx / df))
    return slope, intercept, stderr, t, p


def dyneqtl_stats(
    expression: np.ndarray | Sequence[float],
    dosage: np.ndarray | Sequence[float],
    missing: float = MISSING_DOSAGE,
) -> DyneqtlStats:
    """Regression of expression on ALT dosage for one gene-variant pair (see module doc).

    Samples whose dosage is ``missing`` (or NaN) or whose expression is not finite are left
    out. Counts are of dosages rounded to 0/1/2; MAF is min(AF, 1 - AF) with AF the mean
    dosage / 2 over the samples used."""
    y_all = np.asarray(expression, dtype=np.float64)
    g_all = np.asarray(dosage, dtype=np.float64)
    if y_all.shape != g_all.shape or y_all.ndim != 1:
        raise ValueError(f"expression {y_all.shape} and dosage {g_all.shape} must be 1-D, equal")
    mask = (g_all != missing) & ~np.isnan(g_all) & np.isfinite(y_all)
    g = g_all[mask]
    y = y_all[mask]
    if np.any((g < 0) | (g > 2)):
        raise ValueError("dosages must be in [0, 2] or the missing code")
    n = int(g.size)
    rounded = np.rint(g)
    counts = [int(np.count_nonzero(rounded == k)) for k in (0, 1, 2)]
    af = float(g.mean() / 2.0) if n else math.nan
    maf = min(af, 1.0 - af) if n else math.nan
    nan = math.nan
    if n < 3 or float(np.ptp(g)) == 0.0:
        slope = intercept = stderr = t = p = nes = nan
    else:
        slope, intercept, stderr, t, p = _ols(g, y)
        nes = _ols(g, inverse_normal_transform(y), p_value=False)[0]
    return DyneqtlStats(
        slope=slope,
        intercept=intercept,
        stderr=stderr,
        tStatistic=t,
        pValue=p,
        nes=nes,
        homoRefCount=counts[0],
        hetCount=counts[1],
        homoAltCount=counts[2],
        maf=maf,
        n=n,
        mask=mask,
    )


# --- cis scan ----------------------------------------------------------------------------


@dataclass(frozen=True)
class NominalScan:
    """tensorQTL's nominal columns for each (phenotype, variant) pair, in ``pairs`` order."""

    phenotype_index: np.ndarray
    variant_index: np.ndarray
    slope: np.ndarray
    slope_se: np.ndarray
    tstat: np.ndarray
    pval_nominal: np.ndarray
    af: np.ndarray  # ALT allele frequency of the variant (after mean imputation)
    dof: int


def impute_mean(genotypes: np.ndarray) -> np.ndarray:
    """Copy of a (V x N) dosage matrix with NaN replaced by the variant's mean dosage (0 when
    a variant has no called sample)."""
    g = np.array(genotypes, dtype=np.float64)
    missing = np.isnan(g)
    if missing.any():
        called = (~missing).sum(axis=1)
        sums = np.where(missing, 0.0, g).sum(axis=1)
        means = np.divide(sums, called, out=np.zeros_like(sums), where=called > 0)
        g[missing] = np.broadcast_to(means[:, None], g.shape)[missing]
    return g


def _residualize(m: np.ndarray, covariates: np.ndarray | None) -> np.ndarray:
    """Rows of m minus their projection on [1, covariates] (centred when no covariates)."""
    centred = m - m.mean(axis=1, keepdims=True)
    if covariates is None or covariates.shape[1] == 0:
        return centred
    c = covariates - covariates.mean(axis=0, keepdims=True)
    q, _ = np.linalg.qr(c)
    return centred - (centred @ q) @ q.T


def _scale(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.sqrt(np.einsum("ij,ij->i", m, m))
    with np.errstate(divide="ignore", invalid="ignore"):
        return m / norm[:, None], norm


def _t_from_r(r: np.ndarray, dof: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return r * np.sqrt(dof / ((1.0 - r) * (1.0 + r)))


def nominal_scan(
    phenotypes: np.ndarray,
    genotypes: np.ndarray,
    pairs: np.ndarray | None = None,
    covariates: np.ndarray | None = None,
    block: int = 1 << 20,
) -> NominalScan:
    """Nominal association of every pair: phenotypes (P x N), genotypes (V x N, NaN missing),
    pairs an (M x 2) array of (phenotype row, variant row), or every P x V pair when None;
    covariates (N x K) or None. tensorQTL's ``calculate_corr`` algebra (see module doc).

    Monomorphic variants and constant phenotypes give NaN statistics."""
    p_mat = np.asarray(phenotypes, dtype=np.float64)
    g_mat = impute_mean(np.asarray(genotypes, dtype=np.float64))
    if p_mat.ndim != 2 or g_mat.ndim != 2 or p_mat.shape[1] != g_mat.shape[1]:
        raise ValueError(f"phenotypes {p_mat.shape} and genotypes {g_mat.shape} do not match")
    n = p_mat.shape[1]
    cov = None if covariates is None else np.asarray(covariates, dtype=np.float64)
    if cov is not None and cov.shape[0] != n:
        raise ValueError(f"covariates {cov.shape} for {n} samples")
    dof = n - 2 - (0 if cov is None else cov.shape[1])
    if dof < 1:
        raise ValueError(f"{n} samples leave {dof} degrees of freedom")
    if pairs is None:
        pi, vi = np.meshgrid(np.arange(p_mat.shape[0]), np.arange(g_mat.shape[0]), indexing="ij")
        pairs_ = np.column_stack([pi.ravel(), vi.ravel()])
    else:
        pairs_ = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    af = g_mat.mean(axis=1) / 2.0
    p_norm, p_scale = _scale(_residualize(p_mat, cov))
    g_norm, g_scale = _scale(_residualize(g_mat, cov))
    r = np.empty(len(pairs_), dtype=np.float64)
    step = max(1, block // max(n, 1))
    for start in range(0, len(pairs_), step):
        chunk = pairs_[start : start + step]
        r[start : start + step] = np.einsum("ij,ij->i", p_norm[chunk[:, 0]], g_norm[chunk[:, 1]])
    r = np.clip(r, -1.0, 1.0)
    tstat = _t_from_r(r, dof)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = r * p_scale[pairs_[:, 0]] / g_scale[pairs_[:, 1]]
        slope_se = np.abs(slope / tstat)
    # r == 0: slope and t are 0, the standard error is the residual one.
    zero = r == 0.0
    if zero.any():
        slope_se[zero] = (p_scale[pairs_[zero, 0]] / g_scale[pairs_[zero, 1]]) / math.sqrt(dof)
    pval = np.full(r.shape, np.nan)
    finite = np.isfinite(tstat)
    pval[finite] = t_sf_two_sided(tstat[finite], dof)
    pval[np.isinf(tstat)] = 0.0
    return NominalScan(
        phenotype_index=pairs_[:, 0],
        variant_index=pairs_[:, 1],
        slope=slope,
        slope_se=slope_se,
        tstat=tstat,
        pval_nominal=pval,
        af=af[pairs_[:, 1]],
        dof=dof,
    )


def cis_pairs(
    phenotype_chrom: Sequence[str],
    phenotype_pos: np.ndarray | Sequence[int],
    variant_chrom: Sequence[str],
    variant_pos: np.ndarray | Sequence[int],
    window: int = 1_000_000,
) -> np.ndarray:
    """(M x 2) pairs of (phenotype, variant) on the same chromosome with
    |variant pos - phenotype pos| <= window (tensorQTL's default window is 1 Mb around the
    TSS)."""
    v_chrom = np.asarray(variant_chrom, dtype=object)
    v_pos = np.asarray(variant_pos, dtype=np.int64)
    out: list[np.ndarray] = []
    for i, (chrom, pos) in enumerate(zip(phenotype_chrom, phenotype_pos, strict=True)):
        hits = np.flatnonzero((v_chrom == chrom) & (np.abs(v_pos - int(pos)) <= window))
        out.append(np.column_stack([np.full(hits.size, i, dtype=np.int64), hits]))
    if not out:
        return np.empty((0, 2), dtype=np.int64)
    return np.vstack(out)


def permutation_min_pvalues(
    phenotype: np.ndarray,
    genotypes: np.ndarray,
    n_permutations: int,
    rng: np.random.Generator,
    covariates: np.ndarray | None = None,
) -> np.ndarray:
    """Minimum nominal p-value over a phenotype's cis variants (V x N) for each of
    ``n_permutations`` permutations of its samples (the residualised phenotype is permuted,
    as FastQTL does). Monomorphic variants are ignored; all NaN when none is left or the
    phenotype is constant."""
    y = np.asarray(phenotype, dtype=np.float64).reshape(1, -1)
    g_mat = impute_mean(np.asarray(genotypes, dtype=np.float64))
    n = y.shape[1]
    cov = None if covariates is None else np.asarray(covariates, dtype=np.float64)
    dof = n - 2 - (0 if cov is None else cov.shape[1])
    y_norm, _ = _scale(_residualize(y, cov))
    g_norm, g_scale = _scale(_residualize(g_mat, cov))
    g_norm = g_norm[g_scale > 0]
    if g_norm.shape[0] == 0 or not np.isfinite(y_norm).all():
        return np.full(n_permutations, np.nan)  # nothing to test: no polymorphic variant
    perms = np.stack([rng.permutation(n) for _ in range(n_permutations)])
    r = y_norm[0][perms] @ g_norm.T  # (n_permutations x V)
    r_max = np.clip(np.max(np.abs(r), axis=1), 0.0, 1.0)
    out = np.zeros(n_permutations)
    below_one = r_max < 1.0
    out[below_one] = t_sf_two_sided(_t_from_r(r_max[below_one], dof), dof)
    return out


# --- beta approximation ------------------------------------------------------------------


def _digamma(x: np.ndarray) -> np.ndarray:
    """psi(x) for x > 0: recurrence up to x >= 10, then the asymptotic series."""
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    while np.any(small := x < 10.0):
        out -= np.where(small, 1.0 / np.where(small, x, 1.0), 0.0)
        x = np.where(small, x + 1.0, x)
    inv2 = 1.0 / (x * x)
    series = inv2 * (
        1 / 12 - inv2 * (1 / 120 - inv2 * (1 / 252 - inv2 * (1 / 240 - inv2 * (1 / 132))))
    )
    return out + np.log(x) - 0.5 / x - series


def _trigamma(x: np.ndarray) -> np.ndarray:
    """psi'(x) for x > 0: recurrence up to x >= 10, then the asymptotic series."""
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    while np.any(small := x < 10.0):
        out += np.where(small, 1.0 / np.square(np.where(small, x, 1.0)), 0.0)
        x = np.where(small, x + 1.0, x)
    inv = 1.0 / x
    inv2 = inv * inv
    series = inv * (
        1.0
        + inv / 2.0
        + inv2 * (1 / 6 - inv2 * (1 / 30 - inv2 * (1 / 42 - inv2 * (1 / 30 - inv2 * 5 / 66))))
    )
    return out + series


def fit_beta(
    samples: np.ndarray | Sequence[float], max_iterations: int = 200
) -> tuple[float, float]:
    """Maximum likelihood Beta(a, b) on [0, 1] (scipy's ``beta.fit(x, floc=0, fscale=1)``):
    method-of-moments start, then Newton's method on the score equations
    psi(a) - psi(a + b) = mean(log x), psi(b) - psi(a + b) = mean(log(1 - x)),
    halving steps that would leave a or b non-positive. Samples must be in (0, 1)."""
    x = np.asarray(samples, dtype=np.float64)
    if x.size < 2 or np.any((x <= 0) | (x >= 1)):
        raise ValueError("need at least two samples in (0, 1)")
    mean = float(x.mean())
    var = float(x.var())
    common = mean * (1.0 - mean) / var - 1.0 if var > 0 else 1.0
    a = max(mean * common, 1e-3)
    b = max((1.0 - mean) * common, 1e-3)
    s1 = float(np.mean(np.log(x)))
    s2 = float(np.mean(np.log1p(-x)))
    for _ in range(max_iterations):
        psi_ab = float(_digamma(np.array(a + b)))
        g1 = float(_digamma(np.array(a))) - psi_ab - s1
        g2 = float(_digamma(np.array(b))) - psi_ab - s2
        t_ab = float(_trigamma(np.array(a + b)))
        j11 = float(_trigamma(np.array(a))) - t_ab
        j22 = float(_trigamma(np.array(b))) - t_ab
        j12 = -t_ab
        det = j11 * j22 - j12 * j12
        da = (j22 * g1 - j12 * g2) / det
        db = (j11 * g2 - j12 * g1) / det
        step = 1.0
        while a - step * da <= 0 or b - step * db <= 0:
            step /= 2.0
        a_new, b_new = a - step * da, b - step * db
        done = abs(a_new - a) <= 1e-12 * a and abs(b_new - b) <= 1e-12 * b
        a, b = a_new, b_new
        if done:
            break
    return a, b


@dataclass(frozen=True)
class BetaApproximation:
    """tensorQTL's permutation columns for one phenotype."""

    pval_beta: float
    pval_perm: float
    beta_shape1: float
    beta_shape2: float


def beta_approx_pvalue(
    pval_nominal_min: float, permuted_min_pvalues: np.ndarray | Sequence[float]
) -> BetaApproximation:
    """tensorQTL's ``pval_beta``: fit Beta(a, b) to the permutations' minimum p-values and
    take its CDF at the observed minimum; ``pval_perm`` = (1 + #{perm <= observed}) /
    (1 + n_permutations), the empirical p-value tensorQTL also reports."""
    perm = np.asarray(permuted_min_pvalues, dtype=np.float64)
    a, b = fit_beta(np.clip(perm, 1e-300, 1.0 - 1e-16))
    pval_beta = float(beta_cdf(pval_nominal_min, a, b))
    pval_perm = (1.0 + float(np.count_nonzero(perm <= pval_nominal_min))) / (1.0 + perm.size)
    return BetaApproximation(pval_beta=pval_beta, pval_perm=pval_perm, beta_shape1=a, beta_shape2=b)


def pval_nominal_threshold(a: object, b: object, fdr_threshold_p: float) -> np.ndarray:
    """tensorQTL's per-gene ``pval_nominal_threshold``: ``beta.ppf(p_t, a, b)`` where p_t is
    the gene-level ``pval_beta`` threshold at the chosen FDR (see ``pval_beta_threshold``)."""
    return beta_ppf(fdr_threshold_p, a, b)


def bh_qvalues(pvalues: np.ndarray | Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg q-values (Storey's q-values with pi0 = 1: tensorQTL estimates pi0,
    this conservative simplification does not)."""
    p = np.asarray(pvalues, dtype=np.float64)
    m = p.size
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    q_sorted = np.minimum.accumulate(scaled[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.minimum(q_sorted, 1.0)
    return q


def pval_beta_threshold(pval_beta: np.ndarray, qval: np.ndarray, fdr: float = 0.05) -> float:
    """tensorQTL's ``calculate_qvalues`` threshold: midway between the largest ``pval_beta``
    with q <= fdr and the smallest with q > fdr (NaN when no gene passes)."""
    pb = np.asarray(pval_beta, dtype=np.float64)
    qv = np.asarray(qval, dtype=np.float64)
    passing = pb[qv <= fdr]
    if passing.size == 0:
        return math.nan
    lb = float(passing.max())
    failing = pb[qv > fdr]
    ub = float(failing.min()) if failing.size else lb
    return (lb + ub) / 2.0


# --- allelic fold change -----------------------------------------------------------------


def _afc_between_sse(
    s: np.ndarray, levels: np.ndarray, weight: np.ndarray, level_mean: np.ndarray, n: np.ndarray
) -> np.ndarray:
    """The part of the aFC model's residual sum of squares that depends on s, for each row
    (``s`` of shape (rows,) or (rows, k) for k values of s per row): with c profiled out,
    sum_i (y_i - c - f(g_i, s))^2 = within-level SS (constant in s) +
    sum_j w_j (d_j - mean_w d)^2 over the distinct dosages (levels) j, where
    d_j = mean y of level j - f(level_j, s) and w_j the samples at that level."""
    s_ = s[..., None]  # (rows[, k], 1)
    f = np.log2(2.0 - levels + levels * np.exp2(s_))  # (rows[, k], U)
    w = weight if s.ndim == 1 else weight[:, None, :]
    d = (level_mean if s.ndim == 1 else level_mean[:, None, :]) - f
    mean = np.sum(w * d, axis=-1, keepdims=True) / (n if s.ndim == 1 else n[:, None])[..., None]
    return np.sum(w * np.square(d - mean), axis=-1)


def log2_afc_rows(
    log2_expression: np.ndarray | Sequence[Sequence[float]],
    dosage: np.ndarray | Sequence[Sequence[float]],
    missing: float = MISSING_DOSAGE,
    cap: float = AFC_CAP,
    block: int = 1 << 21,
) -> np.ndarray:
    """:func:`log2_afc` of every row of two (rows x samples) matrices at once: the same grid
    of 401 values of s, then golden-section search in each row's bracket, in lockstep.

    Vectorised through sufficient statistics: the model only depends on a sample's dosage
    level, so each row is reduced to its distinct dosages (3 for hard calls), their sample
    counts and mean log expression (see ``_afc_between_sse``); a search step then costs
    O(levels) per row instead of O(samples). ``block`` bounds the grid's working set."""
    y_all = np.atleast_2d(np.asarray(log2_expression, dtype=np.float64))
    g_all = np.atleast_2d(np.asarray(dosage, dtype=np.float64))
    if y_all.shape != g_all.shape or y_all.ndim != 2:
        raise ValueError(f"expression {y_all.shape} and dosage {g_all.shape} must be 2-D, equal")
    rows_total = y_all.shape[0]
    out = np.full(rows_total, np.nan)
    grid = np.linspace(-cap, cap, 401)
    ratio = (math.sqrt(5.0) - 1.0) / 2.0
    # Rows per chunk: its distinct dosages (at most rows x samples) times rows <= block.
    chunk = max(1, math.isqrt(block // max(1, y_all.shape[1])))
    for first in range(0, rows_total, chunk):
        y = y_all[first : first + chunk]
        g = g_all[first : first + chunk]
        mask = (g != missing) & ~np.isnan(g) & np.isfinite(y)
        levels = np.unique(g[mask])
        rows, u = y.shape[0], levels.size
        if u == 0:
            continue
        if levels[0] < 0 or levels[-1] > 2:
            raise ValueError("dosages must be in [0, 2] or the missing code")
        level = np.searchsorted(levels, np.where(mask, g, levels[0]))
        key = (np.arange(rows)[:, None] * u + level)[mask]
        weight = np.bincount(key, minlength=rows * u).astype(np.float64).reshape(rows, u)
        sums = np.bincount(key, weights=y[mask], minlength=rows * u).reshape(rows, u)
        level_mean = np.divide(sums, weight, out=np.zeros_like(sums), where=weight > 0)
        n = weight.sum(axis=1)
        usable = (n >= 3) & (np.count_nonzero(weight, axis=1) >= 2)
        if not usable.any():
            continue
        weight, level_mean, n = weight[usable], level_mean[usable], n[usable]
        count = weight.shape[0]
        sse = np.empty((count, grid.size))
        step = max(1, block // max(1, count * u))
        for g0 in range(0, grid.size, step):
            s_block = np.broadcast_to(grid[g0 : g0 + step], (count, len(grid[g0 : g0 + step])))
            sse[:, g0 : g0 + step] = _afc_between_sse(s_block, levels, weight, level_mean, n)
        k = np.argmin(sse, axis=1)
        lo = grid[np.maximum(k - 1, 0)]
        hi = grid[np.minimum(k + 1, grid.size - 1)]
        x1 = hi - ratio * (hi - lo)
        x2 = lo + ratio * (hi - lo)
        f1 = _afc_between_sse(x1, levels, weight, level_mean, n)
        f2 = _afc_between_sse(x2, levels, weight, level_mean, n)
        for _ in range(200):
            active = np.flatnonzero(hi - lo >= 1e-12)
            if active.size == 0:
                break
            left = f1[active] <= f2[active]  # the minimum is in [lo, x2]
            a_left, a_right = active[left], active[~left]
            hi[a_left], x2[a_left], f2[a_left] = x2[a_left], x1[a_left], f1[a_left]
            lo[a_right], x1[a_right], f1[a_right] = x1[a_right], x2[a_right], f2[a_right]
            x1[a_left] = hi[a_left] - ratio * (hi[a_left] - lo[a_left])
            x2[a_right] = lo[a_right] + ratio * (hi[a_right] - lo[a_right])
            x_new = np.where(left, x1[active], x2[active])
            f_new = _afc_between_sse(x_new, levels, weight[active], level_mean[active], n[active])
            f1[a_left] = f_new[left]
            f2[a_right] = f_new[~left]
        index = first + np.flatnonzero(usable)
        out[index] = np.clip((lo + hi) / 2.0, -cap, cap)
    return out


def log2_afc(
    log2_expression: np.ndarray | Sequence[float],
    dosage: np.ndarray | Sequence[float],
    missing: float = MISSING_DOSAGE,
    cap: float = AFC_CAP,
) -> float:
    """log2 allelic fold change (Mohammadi et al. 2017; see module doc) from
    log2(expression + 1) and ALT dosages: the s in [-cap, cap] minimising
    sum (y - c - log2(2 - g + g 2^s))^2. NaN with fewer than 3 usable samples or a
    monomorphic variant. One row of :func:`log2_afc_rows`."""
    y = np.asarray(log2_expression, dtype=np.float64)
    g = np.asarray(dosage, dtype=np.float64)
    if y.shape != g.shape or y.ndim != 1:
        raise ValueError(f"expression {y.shape} and dosage {g.shape} must be 1-D, equal")
    return float(log2_afc_rows(y[None, :], g[None, :], missing, cap)[0])
