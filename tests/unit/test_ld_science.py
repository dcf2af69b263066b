"""LD science (omicsgate.science.ld) against independent brute force on the 1000 Genomes EUR
panel (502 samples x 2,020 SNPs of chr1, read in place from the shared data directory).

The haplotype r2 reference maximises the multinomial likelihood of the 3x3 genotype table
(nine cells, each a product of haplotype frequencies under Hardy-Weinberg) over p_AB, with
both allele frequencies fixed at their sample values (every EM step keeps them there, so the
maximum lies on that line), on a grid and then with scipy's bounded Brent search. Its
argmax is only good to ~1e-8 (the likelihood is flat at its maximum), hence 1e-6 on r2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omicsgate.ingest.plink import read_plink
from omicsgate.science import ld
from tests.ld_reference import brute_clump, brute_corr, brute_haplotype_r

pytestmark = pytest.mark.unit

# ../shared beside the checkout, read in place (CI has it; a missing panel fails, not skips).
PANEL = str(Path(__file__).resolve().parents[3] / "shared" / "data" / "gwasvcf" / "eur")


@pytest.fixture(scope="module")
def panel() -> Any:
    return read_plink(PANEL)


# --- haplotype r2 ----------------------------------------------------------------------------


def test_haplotype_r2_matches_maximum_likelihood_on_random_pairs(panel) -> None:
    G = panel.dosage
    rng = np.random.default_rng(7)
    pairs = rng.integers(0, G.shape[0], size=(300, 2))
    ours = np.array([ld.haplotype_r(G[i], G[j][None, :])[0] for i, j in pairs])
    ref = np.array([brute_haplotype_r(G[i], G[j]) for i, j in pairs])
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours**2, ref**2, rtol=0, atol=1e-6, equal_nan=True)
    clear = np.abs(ref) > 1e-3
    np.testing.assert_array_equal(np.sign(ours[clear]), np.sign(ref[clear]))


def test_haplotype_r2_matrix_matches_maximum_likelihood_for_all_pairs(panel) -> None:
    rows = np.linspace(0, panel.dosage.shape[0] - 1, 50).astype(int)
    rows[:4] = [175, 243, 246, 410]  # very heterozygous SNPs and one with 259 missing
    G = panel.dosage[rows]
    ours = ld.haplotype_r2_matrix(G)
    for i in range(len(rows)):
        for j in range(i, len(rows)):
            ref = brute_haplotype_r(G[i], G[j]) ** 2
            assert ours[i, j] == pytest.approx(ref, abs=1e-6, nan_ok=True), (i, j)
    np.testing.assert_array_equal(ours, ours.T)
    np.testing.assert_allclose(ours[3], ld.haplotype_r2(G[3], G), rtol=0, atol=1e-15)


def test_haplotype_and_dosage_r2_differ_by_more_than_half_on_one_pair(panel) -> None:
    i, j = panel.rsid.index("rs4520358"), panel.rsid.index("rs3131963")
    G = panel.dosage
    haplotype = ld.haplotype_r2(G[i], G[j][None, :])[0]
    dosage = ld.dosage_r_matrix(G[[i, j]])[0, 1] ** 2
    assert haplotype - dosage > 0.6  # 0.634 against 0.010
    assert haplotype == pytest.approx(brute_haplotype_r(G[i], G[j]) ** 2, abs=1e-6)


def test_haplotype_r_sign_and_monomorphic() -> None:
    x = np.array([0, 1, 2, 0, 1, 2, 1, 0], dtype=float)
    assert ld.haplotype_r(x, x[None, :])[0] == pytest.approx(1.0)
    assert ld.haplotype_r(x, (2 - x)[None, :])[0] == pytest.approx(-1.0)
    mono = np.array([[2, 2, 2, 2, 2, 2, 2, 2], [0, 0, 0, 0, 0, 0, 0, np.nan]], dtype=float)
    assert np.isnan(ld.haplotype_r(x, mono)).all()
    # Monomorphic only in the samples typed at both: NaN as well.
    other = np.array([[np.nan, 1, 1, np.nan, 1, 1, 1, np.nan]])
    assert np.isnan(ld.haplotype_r(np.where(x == 1, 2.0, x), other)[0])
    with pytest.raises(ValueError, match="hard calls"):
        ld.haplotype_r(x, (x * 0.5)[None, :])


# --- dosage r --------------------------------------------------------------------------------


def test_dosage_r_matrix_matches_corrcoef_on_pairwise_complete_samples(panel) -> None:
    rows = [410, 643, 721, 815, 849, 981, 1036, 1256, 1733, 1961]  # SNPs with missing calls
    rows += list(range(0, 2000, 50))
    G = panel.dosage[rows].copy()
    G[5] = np.where(np.isnan(G[5]), np.nan, 1.0)  # monomorphic where typed
    ours = ld.dosage_r_matrix(G)
    for i in range(len(rows)):
        for j in range(len(rows)):
            ref = brute_corr(G[i], G[j])
            if np.isnan(ref):
                assert np.isnan(ours[i, j]), (i, j)
            else:
                assert ours[i, j] == pytest.approx(ref, abs=1e-12), (i, j)
    assert np.isnan(ours[5]).all()


# --- clumping --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def clump_inputs(panel) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = np.arange(0, 900)
    G = panel.dosage[rows]
    pos = panel.position[rows]
    chrom = np.array(["1"] * 600 + ["2"] * 300)  # two chromosomes over the same positions
    pos = np.concatenate([pos[:600], pos[:300]])
    return chrom, pos, G, ld.haplotype_r2_matrix(G)


@pytest.mark.parametrize(
    ("p1", "r2", "kb", "p2"),
    [
        (5e-8, 0.001, 10_000, None),
        (1e-4, 0.1, 50, None),
        (0.01, 0.5, 10, None),
        (1e-4, 0.2, 25, 0.01),
        (0.01, 0.8, 5, 1e-4),
        (1.0, 0.05, 1, None),
        (1.0, 0.999, 250, None),
    ],
)
def test_clump_matches_brute_force(clump_inputs, p1, r2, kb, p2) -> None:
    chrom, pos, G, r2_matrix = clump_inputs
    rng = np.random.default_rng(11)
    # log-uniform p down to 1e-12, rounded to 2 significant digits so that ties happen.
    p = np.array([float(f"{v:.2g}") for v in 10 ** rng.uniform(-12, 0, len(pos))])
    ours = ld.clump(chrom, pos, p, G, p1=p1, r2=r2, kb=kb, p2=p2)
    assert ours.tolist() == brute_clump(chrom, pos, p, r2_matrix, p1, r2, kb, p2)
    assert np.all(np.diff(p[ours]) >= 0)


def _copies(n: int) -> np.ndarray:
    """n identical, polymorphic genotype rows: every pair has r2 = 1."""
    row = np.array([0, 1, 2, 1, 0, 2, 1, 1, 0, 2], dtype=float)
    return np.tile(row, (n, 1))


def test_clump_window_boundary() -> None:
    pos = 1_000_000 + np.array([0, 4_999, 5_000, -4_999, -5_000])
    p = np.array([1e-10, 1e-9, 1e-8, 1e-7, 1e-6])
    idx = ld.clump(np.array(["1"] * 5), pos, p, _copies(5), p1=1e-6, r2=0.1, kb=5)
    assert idx.tolist() == [0, 2, 4]  # 4,999 bp either side is in (kb*1000 - 1), 5,000 out


def test_clump_ties_keep_input_order() -> None:
    pos = np.array([100, 200, 300])
    p = np.array([1e-9, 1e-9, 1e-10])
    idx = ld.clump(np.array(["1"] * 3), pos, p, _copies(3), p1=1e-6, r2=0.5, kb=1)
    assert idx.tolist() == [2]
    far = np.array([100, 200_000, 400_000])
    idx = ld.clump(np.array(["1"] * 3), far, p, _copies(3), p1=1e-6, r2=0.5, kb=1)
    assert idx.tolist() == [2, 0, 1]


def test_clump_nan_r2_and_chromosomes_never_clump() -> None:
    G = _copies(4)
    G[1] = 1.0  # monomorphic: r2 with anything is NaN
    chrom = np.array(["1", "1", "2", "1"])
    pos = np.array([500, 600, 500, 700])
    p = np.array([1e-10, 1e-9, 1e-8, 1e-7])
    idx = ld.clump(chrom, pos, p, G, p1=1e-6, r2=0.0, kb=10)
    assert idx.tolist() == [0, 1, 2]  # 3 joins 0's clump; 1 (NaN) and 2 (chr2) stay apart


def test_clump_p2_and_nan_p() -> None:
    pos = np.array([100, 200, 300])
    p = np.array([1e-10, 1e-3, np.nan])
    chrom = np.array(["1"] * 3)
    assert ld.clump(chrom, pos, p, _copies(3), p1=1e-2, r2=0.5, kb=1).tolist() == [0]
    assert ld.clump(chrom, pos, p, _copies(3), p1=1e-4, r2=0.5, kb=1).tolist() == [0]
    assert ld.clump(chrom, pos, p, _copies(3), 1e-4, 0.5, 1, p2=1e-2).tolist() == [0]
    assert ld.clump(chrom, pos, p, _copies(3), p1=1e-12, r2=0.5, kb=1).size == 0


# --- allele alignment ------------------------------------------------------------------------


def test_complement_and_palindromes() -> None:
    assert ld.complement("acgt") == "TGCA"
    assert ld.is_palindromic("A", "t") and ld.is_palindromic("G", "C")
    assert not ld.is_palindromic("A", "G") and not ld.is_palindromic("TA", "T")
    with pytest.raises(ValueError):
        ld.complement("<DEL>")


def align(pa1, pa2, r_sign, ea, nea, maf=0.3, allow=True, threshold=0.3):
    return ld.align_proxy("C", "T", pa1, pa2, r_sign, ea, nea, maf, allow, threshold)


def test_align_proxy_rules() -> None:
    # Proxy A/G; positive r: target C travels with proxy A.
    assert align("A", "G", 0.9, "A", "G") == ("C", "T")
    assert align("A", "G", 0.9, "G", "A") == ("T", "C")  # swapped alleles
    assert align("A", "G", 0.9, "t", "c") == ("C", "T")  # strand flip
    assert align("A", "G", 0.9, "C", "T") == ("T", "C")  # strand flip, swapped
    assert align("A", "G", -0.9, "A", "G") == ("T", "C")  # negative r: C travels with G
    assert align("A", "G", -0.9, "C", "T") == ("C", "T")
    assert align("A", "G", 0.9, "A", "C") is None  # not the proxy's alleles
    assert align("A", "G", 0.9, "A", "A") is None
    assert align("A", "G", 0.0, "A", "G") is None
    assert align("A", "G", float("nan"), "A", "G") is None


def test_align_proxy_palindromes() -> None:
    assert align("A", "T", 0.9, "A", "T", maf=0.2) == ("C", "T")
    assert align("A", "T", 0.9, "T", "A", maf=0.2) == ("T", "C")  # as given, no flip
    assert align("A", "T", -0.9, "A", "T", maf=0.2) == ("T", "C")
    assert align("A", "T", 0.9, "A", "T", maf=0.3) is None  # maf not below threshold
    assert align("A", "T", 0.9, "A", "T", maf=0.2, allow=False) is None
    assert align("C", "G", 0.9, "A", "T", maf=0.2) is None


# --- LD scores -------------------------------------------------------------------------------


def test_ld_scores_match_brute_force(panel) -> None:
    rows = np.arange(0, 2000, 8)
    G = panel.dosage[rows].copy()
    G[7] = np.where(np.isnan(G[7]), np.nan, 2.0)  # monomorphic
    pos = panel.position[rows]
    order = np.random.default_rng(3).permutation(len(rows))  # unsorted input
    G, pos = G[order], pos[order]
    window = 20_000
    ours = ld.ld_scores(G, pos, window)
    for i in range(len(pos)):
        total = 0.0
        for j in range(len(pos)):
            if abs(int(pos[j]) - int(pos[i])) <= window:
                r = brute_corr(G[i], G[j])
                total += 0.0 if np.isnan(r) else r * r
        if np.isnan(brute_corr(G[i], G[i])):
            assert np.isnan(ours[i])
        else:
            assert ours[i] == pytest.approx(total, abs=1e-10)
