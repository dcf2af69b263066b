"""QTL statistics (numpy only) checked against scipy, and against mpmath where scipy is the
less accurate of the two.

scipy's ``t.sf`` loses precision for df = 1 very near t = 0 (2 * t.sf(1e-8, 1) is off by
3e-9 relative from 1 - 2 atan(t) / pi), and its ``logsf`` underflows to -inf below 1e-308;
those points are checked against mpmath (50 digits) instead.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from omicsgate.science import qtl

pytestmark = pytest.mark.unit

DFS = [1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100, 200, 500, 1000, 2000, 5000, 10_000]
TS = [0.0, 1e-4, 0.01, 0.1, 0.3, 0.5, 0.8, 1.0, 1.5, 1.7, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0]
TS += [10.0, 15.0, 20.0, 25.0, 30.0, 35.0, 40.0, 45.0, 50.0]


# --- special functions ---------------------------------------------------------------------


def test_t_sf_two_sided_matches_scipy() -> None:
    t, df = np.meshgrid(np.array(TS), np.array(DFS, dtype=float))
    sign = np.where(np.arange(t.size).reshape(t.shape) % 2, -1.0, 1.0)
    ours = qtl.t_sf_two_sided(sign * t, df)
    ref = 2.0 * stats.t.sf(t, df)
    normal = ref > np.finfo(float).tiny
    assert normal.sum() > 0.8 * ref.size
    np.testing.assert_allclose(ours[normal], ref[normal], rtol=1e-9, atol=0)
    # Subnormal or underflowed in scipy: ours is no larger than the smallest normal double.
    assert np.all(ours[~normal] <= np.finfo(float).tiny * 1.0001)


def test_t_sf_random_points_match_scipy() -> None:
    rng = np.random.default_rng(1)
    df = np.floor(10 ** rng.uniform(0, 4, 2000))
    t = rng.uniform(-50, 50, 2000)
    ours = qtl.t_sf_two_sided(t, df)
    ref = 2.0 * stats.t.sf(np.abs(t), df)
    normal = ref > 1e-300
    np.testing.assert_allclose(ours[normal], ref[normal], rtol=1e-9, atol=0)


def test_tiny_p_values_in_log_space_match_mpmath() -> None:
    mpmath = pytest.importorskip("mpmath")
    mpmath.mp.dps = 50
    for df in [1, 10, 100, 1000, 5000, 10_000]:
        for t in [1e-8, 3.0, 20.0, 35.0, 50.0]:
            x = mpmath.mpf(df) / (df + mpmath.mpf(t) ** 2)
            exact = mpmath.log(mpmath.betainc(df / 2.0, 0.5, 0, x, regularized=True))
            ours = float(qtl.t_logsf_two_sided(t, df))
            assert ours == pytest.approx(float(exact), rel=1e-11, abs=1e-15), (df, t)
            # and the linear scale where it is representable
            p = float(mpmath.exp(exact))
            if p > 1e-300:
                assert float(qtl.t_sf_two_sided(t, df)) == pytest.approx(p, rel=1e-9)
    # p far below the double range keeps its exponent: df = 10000, t = 50 is about 1e-486.
    assert float(qtl.t_logsf_two_sided(50.0, 10_000)) / math.log(10) == pytest.approx(-486.3, abs=1)


def test_t_sf_edges() -> None:
    assert float(qtl.t_sf_two_sided(0.0, 5)) == 1.0
    assert float(qtl.t_sf_two_sided(np.inf, 5)) == 0.0
    assert np.isnan(qtl.t_sf_two_sided(np.nan, 5))
    with pytest.raises(ValueError):
        qtl.t_sf_two_sided(1.0, 0)


@pytest.mark.parametrize(
    ("a", "b"),
    [(0.5, 0.5), (1.0, 1.0), (0.9, 250.0), (1.1, 5000.0), (2.0, 3.0), (30.0, 0.5), (500.0, 2.0)],
)
def test_betainc_and_ppf_match_scipy(a: float, b: float) -> None:
    x = np.array([1e-12, 1e-8, 1e-5, 1e-3, 0.01, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999999])
    ref = special.betainc(a, b, x)
    ok = ref > 1e-300
    np.testing.assert_allclose(qtl.betainc(a, b, x)[ok], ref[ok], rtol=1e-9)
    np.testing.assert_allclose(qtl.beta_cdf(x, a, b)[ok], stats.beta.cdf(x, a, b)[ok], rtol=1e-9)
    q = np.array([1e-10, 1e-6, 1e-3, 0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.999])
    np.testing.assert_allclose(qtl.beta_ppf(q, a, b), stats.beta.ppf(q, a, b), rtol=1e-9)


def test_betainc_edges_and_errors() -> None:
    assert float(qtl.betainc(2.0, 3.0, 0.0)) == 0.0
    assert float(qtl.betainc(2.0, 3.0, 1.0)) == 1.0
    assert float(qtl.beta_ppf(0.0, 2.0, 3.0)) == 0.0
    assert float(qtl.beta_ppf(1.0, 2.0, 3.0)) == 1.0
    with pytest.raises(ValueError):
        qtl.betainc(0.0, 1.0, 0.5)
    with pytest.raises(ValueError):
        qtl.betainc(1.0, 1.0, 1.5)
    with pytest.raises(ValueError):
        qtl.beta_ppf(1.5, 1.0, 1.0)


def test_normal_ppf_and_inverse_normal_transform() -> None:
    p = np.array([1e-300, 1e-20, 1e-5, 0.01, 0.02425, 0.3, 0.5, 0.8, 0.97575, 0.999, 1 - 1e-12])
    np.testing.assert_allclose(qtl.normal_ppf(p), stats.norm.ppf(p), rtol=1e-12, atol=1e-15)
    values = np.array([3.0, 1.0, 2.0, 2.0, 10.0, -1.0, 2.0])
    np.testing.assert_array_equal(qtl.average_ranks(values), stats.rankdata(values))
    expected = stats.norm.ppf(stats.rankdata(values) / (values.size + 1))
    np.testing.assert_allclose(qtl.inverse_normal_transform(values), expected, rtol=1e-12)


# --- dyneqtl -------------------------------------------------------------------------------


def _simulated_pair(n: int, seed: int, missing: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    dosage = rng.binomial(2, 0.3, n).astype(float)
    expression = 5.0 + 0.4 * dosage + rng.normal(size=n)
    if missing:
        dosage[rng.choice(n, missing, replace=False)] = -1
    return expression, dosage


@pytest.mark.parametrize(("n", "seed", "missing"), [(10, 0, 0), (50, 1, 5), (400, 2, 37)])
def test_dyneqtl_matches_linregress_and_hand_counts(n: int, seed: int, missing: int) -> None:
    expression, dosage = _simulated_pair(n, seed, missing)
    expression[3] = np.nan  # dropped too
    out = qtl.dyneqtl_stats(expression, dosage)
    keep = (dosage != -1) & ~np.isnan(expression)
    ref = stats.linregress(dosage[keep], expression[keep])
    assert out.n == int(keep.sum())
    np.testing.assert_array_equal(out.mask, keep)
    assert out.slope == pytest.approx(ref.slope, rel=1e-6)
    assert out.intercept == pytest.approx(ref.intercept, rel=1e-6)
    assert out.stderr == pytest.approx(ref.stderr, rel=1e-6)
    t_ref = ref.slope / ref.stderr
    assert out.tStatistic == pytest.approx(t_ref, rel=1e-6)
    assert out.pValue == pytest.approx(ref.pvalue, rel=1e-6)
    used = dosage[keep].tolist()
    assert (out.homoRefCount, out.hetCount, out.homoAltCount) == (
        used.count(0.0),
        used.count(1.0),
        used.count(2.0),
    )
    alt_alleles = used.count(1.0) + 2 * used.count(2.0)
    assert out.maf == pytest.approx(min(alt_alleles, 2 * len(used) - alt_alleles) / (2 * len(used)))
    # nes: the slope on GTEx's inverse-normal-transformed expression of the same samples
    y = expression[keep]
    int_y = stats.norm.ppf(stats.rankdata(y) / (y.size + 1))
    assert out.nes == pytest.approx(stats.linregress(dosage[keep], int_y).slope, rel=1e-9)


def test_dyneqtl_maf_is_of_the_minor_allele() -> None:
    dosage = np.array([2, 2, 2, 1, 2, 0, 2, -1])
    out = qtl.dyneqtl_stats(np.arange(8.0), dosage)
    assert (out.homoRefCount, out.hetCount, out.homoAltCount, out.n) == (1, 1, 5, 7)
    assert out.maf == pytest.approx(3 / 14)


def test_dyneqtl_degenerate_inputs_give_nan_not_errors() -> None:
    few = qtl.dyneqtl_stats([1.0, 2.0, 3.0], [0, 1, -1])
    assert few.n == 2 and math.isnan(few.pValue) and math.isnan(few.slope)
    assert (few.homoRefCount, few.hetCount) == (1, 1)
    mono = qtl.dyneqtl_stats([1.0, 2.0, 3.0, 4.0], [1, 1, 1, 1])
    assert mono.n == 4 and mono.maf == 0.5 and math.isnan(mono.tStatistic)
    assert math.isnan(mono.nes)
    empty = qtl.dyneqtl_stats([1.0, 2.0], [-1, -1])
    assert empty.n == 0 and math.isnan(empty.maf)
    flat = qtl.dyneqtl_stats([2.0, 2.0, 2.0, 2.0], [0, 1, 2, 1])
    assert (flat.slope, flat.tStatistic, flat.pValue) == (0.0, 0.0, 1.0)
    perfect = qtl.dyneqtl_stats([0.0, 1.0, 2.0, 1.0], [0, 1, 2, 1])
    assert perfect.pValue == 0.0 and perfect.tStatistic == math.inf
    with pytest.raises(ValueError):
        qtl.dyneqtl_stats([1.0, 2.0, 3.0], [0, 3, 1])
    with pytest.raises(ValueError):
        qtl.dyneqtl_stats([1.0, 2.0], [0, 1, 1])


# --- cis scan ------------------------------------------------------------------------------


def _scan_data(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n, p, v = 60, 4, 25
    genotypes = rng.binomial(2, rng.uniform(0.2, 0.5, (v, 1)), (v, n)).astype(float)
    genotypes[rng.random((v, n)) < 0.05] = np.nan
    phenotypes = rng.normal(size=(p, n))
    phenotypes[0] += 1.2 * np.nan_to_num(genotypes[4], nan=1.0)
    phenotypes[2] -= 1.0 * np.nan_to_num(genotypes[17], nan=1.0)
    return phenotypes, genotypes


def test_nominal_scan_matches_linregress_loop() -> None:
    phenotypes, genotypes = _scan_data()
    scan = qtl.nominal_scan(phenotypes, genotypes)
    assert scan.dof == phenotypes.shape[1] - 2
    imputed = genotypes.copy()
    for row in imputed:
        row[np.isnan(row)] = np.nanmean(row)
    k = 0
    for i in range(phenotypes.shape[0]):
        for j in range(genotypes.shape[0]):
            ref = stats.linregress(imputed[j], phenotypes[i])
            assert (scan.phenotype_index[k], scan.variant_index[k]) == (i, j)
            assert scan.slope[k] == pytest.approx(ref.slope, rel=1e-9)
            assert scan.slope_se[k] == pytest.approx(ref.stderr, rel=1e-9)
            assert scan.tstat[k] == pytest.approx(ref.slope / ref.stderr, rel=1e-9)
            assert scan.pval_nominal[k] == pytest.approx(ref.pvalue, rel=1e-7)
            assert scan.af[k] == pytest.approx(imputed[j].mean() / 2)
            k += 1
    best = scan.pval_nominal.reshape(4, 25).argmin(axis=1)
    assert best[0] == 4 and best[2] == 17


def test_nominal_scan_pairs_and_covariates_match_least_squares() -> None:
    phenotypes, genotypes = _scan_data(4)
    rng = np.random.default_rng(5)
    covariates = rng.normal(size=(phenotypes.shape[1], 3))
    pairs = np.array([[0, 4], [2, 17], [3, 0], [1, 24], [0, 4]])
    scan = qtl.nominal_scan(phenotypes, genotypes, pairs, covariates=covariates)
    n = phenotypes.shape[1]
    assert scan.dof == n - 2 - 3
    imputed = qtl.impute_mean(genotypes)
    for k, (i, j) in enumerate(pairs):
        design = np.column_stack([np.ones(n), imputed[j], covariates])
        coef, rss, *_ = np.linalg.lstsq(design, phenotypes[i], rcond=None)
        sigma2 = rss[0] / (n - design.shape[1])
        se = math.sqrt(sigma2 * np.linalg.inv(design.T @ design)[1, 1])
        t = coef[1] / se
        assert scan.slope[k] == pytest.approx(coef[1], rel=1e-9)
        assert scan.slope_se[k] == pytest.approx(se, rel=1e-9)
        assert scan.tstat[k] == pytest.approx(t, rel=1e-9)
        assert scan.pval_nominal[k] == pytest.approx(2 * stats.t.sf(abs(t), n - 5), rel=1e-7)


def test_nominal_scan_monomorphic_and_errors() -> None:
    phenotypes = np.random.default_rng(0).normal(size=(1, 10))
    genotypes = np.vstack([np.ones(10), np.r_[np.zeros(5), np.ones(5)]])
    scan = qtl.nominal_scan(phenotypes, genotypes)
    assert np.isnan(scan.pval_nominal[0]) and np.isfinite(scan.pval_nominal[1])
    with pytest.raises(ValueError):
        qtl.nominal_scan(phenotypes, genotypes[:, :9])
    with pytest.raises(ValueError):
        qtl.nominal_scan(phenotypes[:, :2], genotypes[:, :2])


def test_cis_pairs_window() -> None:
    pairs = qtl.cis_pairs(
        ["1", "2"], [1_000_000, 50], ["1", "1", "2", "1"], [0, 2_000_001, 900_000, 1_500_000]
    )
    assert pairs.tolist() == [[0, 0], [0, 3], [1, 2]]
    assert qtl.cis_pairs([], [], ["1"], [0]).shape == (0, 2)


# --- beta approximation --------------------------------------------------------------------


def test_digamma_trigamma_match_scipy() -> None:
    x = np.array([1e-3, 0.1, 0.5, 1.0, 2.5, 5.9, 6.0, 10.0, 123.4, 1e5])
    np.testing.assert_allclose(qtl._digamma(x), special.digamma(x), rtol=1e-12)
    np.testing.assert_allclose(qtl._trigamma(x), special.polygamma(1, x), rtol=1e-12)


@pytest.mark.parametrize(("a", "b"), [(1.0, 300.0), (0.9, 1500.0), (2.0, 5.0), (0.5, 0.7)])
def test_fit_beta_matches_scipy_mle(a: float, b: float) -> None:
    samples = stats.beta.rvs(a, b, size=2000, random_state=np.random.default_rng(7))
    ours = qtl.fit_beta(samples)
    ref_a, ref_b, _, _ = stats.beta.fit(samples, floc=0, fscale=1)
    # scipy's optimiser stops at ~1e-5: compare log-likelihoods and parameters loosely
    ll = np.sum(stats.beta.logpdf(samples, *ours))
    ll_ref = np.sum(stats.beta.logpdf(samples, ref_a, ref_b))
    assert ll >= ll_ref - 1e-6
    assert ours == pytest.approx((ref_a, ref_b), rel=1e-3)
    with pytest.raises(ValueError):
        qtl.fit_beta([0.1, 1.0])


def test_permutations_and_beta_approximation() -> None:
    rng = np.random.default_rng(11)
    n, v = 80, 40
    genotypes = rng.binomial(2, 0.3, (v, n)).astype(float)
    phenotype = 0.6 * genotypes[7] + rng.normal(size=n)
    perm = qtl.permutation_min_pvalues(phenotype, genotypes, 1000, rng)
    assert perm.shape == (1000,) and np.all((perm > 0) & (perm <= 1))
    # brute force: one permutation by hand with linregress
    check_rng = np.random.default_rng(99)
    one = qtl.permutation_min_pvalues(phenotype, genotypes, 1, np.random.default_rng(99))[0]
    permuted = (phenotype - phenotype.mean())[check_rng.permutation(n)]
    by_hand = min(stats.linregress(g, permuted).pvalue for g in genotypes)
    assert one == pytest.approx(by_hand, rel=1e-7)

    nominal_min = float(qtl.nominal_scan(phenotype[None, :], genotypes).pval_nominal.min())
    approx = qtl.beta_approx_pvalue(nominal_min, perm)
    ref_a, ref_b, _, _ = stats.beta.fit(perm, floc=0, fscale=1)
    assert (approx.beta_shape1, approx.beta_shape2) == pytest.approx((ref_a, ref_b), rel=1e-3)
    expected = stats.beta.cdf(nominal_min, approx.beta_shape1, approx.beta_shape2)
    assert approx.pval_beta == pytest.approx(expected, rel=1e-9)
    assert approx.pval_beta < 1e-4  # the planted effect
    assert approx.pval_perm == pytest.approx(1 / 1001)
    # the null: a phenotype with no effect gets an unremarkable pval_beta
    null = rng.normal(size=n)
    null_min = float(qtl.nominal_scan(null[None, :], genotypes).pval_nominal.min())
    null_perm = qtl.permutation_min_pvalues(null, genotypes, 1000, rng)
    assert qtl.beta_approx_pvalue(null_min, null_perm).pval_beta > 0.01
    flat = qtl.permutation_min_pvalues(null, np.ones((3, n)), 5, rng)
    assert flat.shape == (5,) and np.all(np.isnan(flat))


def test_pval_nominal_threshold_and_qvalues() -> None:
    a = np.array([1.0, 0.95, 1.05])
    b = np.array([300.0, 1200.0, 80.0])
    np.testing.assert_allclose(
        qtl.pval_nominal_threshold(a, b, 0.0123), stats.beta.ppf(0.0123, a, b), rtol=1e-9
    )
    p = np.random.default_rng(2).uniform(size=200) ** 3
    expected = stats.false_discovery_control(p, method="bh")
    np.testing.assert_allclose(qtl.bh_qvalues(p), expected, rtol=1e-12)
    pb = np.array([1e-6, 1e-3, 0.02, 0.3])
    qv = np.array([0.001, 0.02, 0.07, 0.4])
    assert qtl.pval_beta_threshold(pb, qv, 0.05) == pytest.approx((1e-3 + 0.02) / 2)
    assert math.isnan(qtl.pval_beta_threshold(pb, qv, 1e-4))
    assert qtl.pval_beta_threshold(pb, qv, 0.5) == pytest.approx(0.3)


# --- aFC -----------------------------------------------------------------------------------


def test_log2_afc_recovers_noise_free_fold_change() -> None:
    dosage = np.array([0, 0, 1, 1, 1, 2, 2, 0, 1, 2], dtype=float)
    for s in [-3.0, -0.5, 0.0, 1.0, 2.5]:
        e_ref = 40.0
        expression = e_ref * (2 - dosage + dosage * 2.0**s)
        assert qtl.log2_afc(np.log2(expression), dosage) == pytest.approx(s, abs=1e-8)
    capped = np.log2(1.0 * (2 - dosage + dosage * 2.0**9))
    assert qtl.log2_afc(capped, dosage) == pytest.approx(qtl.AFC_CAP, abs=1e-8)


def test_log2_afc_matches_scipy_minimiser_on_noisy_data() -> None:
    from scipy.optimize import minimize_scalar

    rng = np.random.default_rng(8)
    dosage = rng.binomial(2, 0.4, 300).astype(float)
    dosage[:5] = -1
    y = np.log2(30 * (2 - dosage + dosage * 2**0.7)) + rng.normal(0, 0.3, 300)
    ours = qtl.log2_afc(y, dosage)
    keep = dosage >= 0

    def sse(s: float) -> float:
        f = np.log2(2 - dosage[keep] + dosage[keep] * 2.0**s)
        r = y[keep] - f
        return float(np.sum((r - r.mean()) ** 2))

    ref = minimize_scalar(sse, bounds=(-qtl.AFC_CAP, qtl.AFC_CAP), method="bounded",
                          options={"xatol": 1e-10})  # fmt: skip
    assert ours == pytest.approx(ref.x, abs=1e-6)
    assert ours == pytest.approx(0.7, abs=0.15)
    assert math.isnan(qtl.log2_afc([1.0, 2.0, 3.0], [1, 1, 1]))
    assert math.isnan(qtl.log2_afc([1.0, 2.0], [0, 1]))


def test_log2_afc_rows_equals_log2_afc_row_by_row() -> None:
    """The vectorised fit (what the demo writes) answers as log2_afc on each row: hard calls,
    missing dosages, fractional dosages, capped and not computable rows mixed in one batch."""
    rng = np.random.default_rng(21)
    n = 60
    dosage = rng.binomial(2, rng.uniform(0.1, 0.5, (8, 1)), (8, n)).astype(float)
    dosage[1, :7] = -1
    dosage[2, 10:20] = np.nan
    dosage[3] = np.clip(dosage[3] + rng.normal(0, 0.2, n), 0, 2)  # imputed dosages
    dosage[4] = 1.0  # monomorphic: NaN
    s = np.array([0.8, -2.2, 1.7, -0.4, 1.0, 9.0, -9.0, 0.0])[:, None]
    y = np.log2(20 * (2 - np.clip(dosage, 0, 2) + np.clip(dosage, 0, 2) * 2.0**s))
    y += rng.normal(0, 0.3, y.shape)
    y[5, 3] = np.nan  # left out
    batch = qtl.log2_afc_rows(y, dosage)
    single = np.array([qtl.log2_afc(y[i], dosage[i]) for i in range(len(y))])
    assert np.array_equal(np.isnan(batch), np.isnan(single))
    assert np.isnan(batch[4]) and np.count_nonzero(np.isnan(batch)) == 1
    np.testing.assert_allclose(batch[~np.isnan(batch)], single[~np.isnan(single)], atol=1e-9)
    assert batch[5] == pytest.approx(qtl.AFC_CAP, abs=1e-8)
    assert batch[6] == pytest.approx(-qtl.AFC_CAP, abs=1e-8)
    # Each row is the minimiser of the model's full residual sum of squares.
    for i in (0, 1, 3):
        keep = ~np.isnan(dosage[i]) & (dosage[i] >= 0)
        g, yi = dosage[i][keep], y[i][keep]

        def sse(v: float, g: np.ndarray = g, yi: np.ndarray = yi) -> float:
            r = yi - np.log2(2 - g + g * 2.0**v)
            return float(np.sum((r - r.mean()) ** 2))

        grid = np.linspace(batch[i] - 1e-3, batch[i] + 1e-3, 41)
        assert sse(batch[i]) <= min(sse(v) for v in grid) + 1e-12
    with pytest.raises(ValueError):
        qtl.log2_afc_rows([[1.0, 2.0, 3.0]], [[0.0, 1.0, 3.0]])
