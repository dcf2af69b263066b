"""Linkage disequilibrium in numpy only, with PLINK 1.9's semantics: r, r2, clumping, proxies.

Input convention: genotype matrices ``G`` are (n_snps, n_samples) float arrays of A1 counts
(0, 1, 2), NaN when missing, as ``omicsgate.ingest.plink.read_plink(prefix).dosage``. Every
pairwise statistic uses the samples typed at both SNPs of the pair.

Choices:

- ``haplotype_r`` is the r of PLINK 1.9's ``--clump`` and ``--r2`` (``em_phase_hethet`` in
  ``plink_ld.c``): haplotype frequencies by maximum likelihood from the 3x3 genotype table.
  Only the double heterozygotes' phase is unknown. At the maximum both allele frequencies
  equal their sample frequencies (every EM step keeps them there), so the likelihood is a
  function of one number, the frequency ``y`` of AB haplotypes carried by double
  heterozygotes, in ``[0, c]`` (c: their share of all haplotypes); its stationary points
  are the roots of a cubic (the EM fixed-point equation), solved in closed form and polished
  by Newton. One root in the interval is the maximum (a maximum at an end is a root too);
  two or three are scored by log-likelihood with both ends, and the best is kept: a
  single-start EM can stop at the wrong one of two local maxima. On the EUR panel this is
  within 4e-15 of 50-digit mpmath roots. ``r = D / sqrt(pA (1 - pA) pB (1 - pB))``; as in
  PLINK, ``|D| < 2^-44`` counts as exactly 0.
- The 3x3 tables are counted on bitsets: each SNP is three packed masks (genotype 0, 1, 2;
  a missing sample is in none), and a table cell is the popcount of an AND: 9 x 8 words per
  pair at 500 samples instead of 9 x 500 multiplications.
- ``clump`` is PLINK 1.9 ``--clump`` reduced to its index list (see its docstring). Two
  things make 10^4 SNPs take about a second: candidates go in batches (one vectorised call
  per batch, exact, see ``_ClumpState``), and ``r2 > threshold`` is mostly decided without
  the cubic, since D is linear in y and so bounded by its values at y = 0 and y = c.
- ``dosage_r_matrix`` and ``ld_scores`` use Pearson r of the allele counts (PLINK
  ``--r square``), from masked sums: six matrix products over the centred values and the
  0/1 typed masks give every pair's complete-sample sums at once.
"""

from __future__ import annotations

import numpy as np

# PLINK 1.9's SMALL_EPSILON: |D| below it is reported as r = 0.
_SMALL_EPSILON = 2.0**-44
# Variance (sum of squares about the pair's mean) below this fraction of the raw sum of
# squares is rounding of a constant column: the SNP is monomorphic in those samples.
_MONOMORPHIC = 1e-9
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
_NUCLEOTIDES = frozenset("ACGTN")


# --- haplotype r -----------------------------------------------------------------------------


def haplotype_r(index: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Signed haplotype r between one SNP (n_samples,) and each row of ``others`` (m, n).

    Positive when A1 of ``index`` travels with A1 of the other SNP. NaN when either SNP is
    monomorphic in the samples typed at both (or none are).
    """
    index = np.asarray(index, dtype=np.float64)
    others = np.atleast_2d(np.asarray(others, dtype=np.float64))
    if index.ndim != 1 or others.shape[1] != index.shape[0]:
        raise ValueError(f"index {index.shape} and others {others.shape} differ in samples")
    _check_hard_calls(index)
    _check_hard_calls(others)
    return _r_from_tables(_tables(_genotype_bits(index[None, :])[0], _genotype_bits(others)))


def haplotype_r2(index: np.ndarray, others: np.ndarray) -> np.ndarray:
    """PLINK 1.9 haplotype r2 of ``index`` with each row of ``others``: ``haplotype_r**2``."""
    return np.asarray(haplotype_r(index, others) ** 2)


def haplotype_r2_matrix(G: np.ndarray) -> np.ndarray:
    """(m, m) haplotype r2 between every pair of rows of ``G``."""
    G = np.asarray(G, dtype=np.float64)
    _check_hard_calls(G)
    bits = _genotype_bits(G)
    out = np.empty((G.shape[0], G.shape[0]))
    for i in range(G.shape[0]):
        # r is symmetric (swapping the SNPs transposes the table): the upper half suffices.
        out[i, i:] = out[i:, i] = _r_from_tables(_tables(bits[i], bits[i:])) ** 2
    return out


def _check_hard_calls(G: np.ndarray) -> None:
    typed = G[~np.isnan(G)]
    if np.any((typed != 0) & (typed != 1) & (typed != 2)):
        raise ValueError("haplotype r needs hard calls: dosages 0, 1, 2 or NaN")


def _genotype_bits(G: np.ndarray) -> np.ndarray:
    """(m, 3, words) uint64: bit s of [i, g] is set when sample s has genotype g at SNP i."""
    onehot = G[:, None, :] == np.arange(3.0)[None, :, None]  # NaN matches no genotype
    packed = np.packbits(onehot, axis=2, bitorder="little")
    words = max(1, -(-G.shape[1] // 64))
    padded = np.zeros((G.shape[0], 3, words * 8), dtype=np.uint8)
    padded[:, :, : packed.shape[2]] = packed
    return padded.view(np.uint64)


def _tables(left_bits: np.ndarray, right_bits: np.ndarray) -> np.ndarray:
    """(m, 3, 3) genotype counts of pairs: [j, a, b] = samples with genotype a in row j of
    ``left_bits`` and b in row j of ``right_bits`` (a single left SNP broadcasts)."""
    left = left_bits if left_bits.ndim == 3 else left_bits[None]
    both = left[:, :, None, :] & right_bits[:, None, :, :]
    return np.bitwise_count(both).sum(axis=3, dtype=np.int64)


def _phase_free(tables: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the tables fix without phasing: known haplotype frequencies k (11, 12, 21, 22;
    first the left SNP's allele, 1 = A1), the double heterozygotes' share c, and pA, pB."""
    t = tables.astype(np.float64)
    known = np.stack(
        [
            2 * t[:, 2, 2] + t[:, 2, 1] + t[:, 1, 2],
            2 * t[:, 2, 0] + t[:, 2, 1] + t[:, 1, 0],
            2 * t[:, 0, 2] + t[:, 1, 2] + t[:, 0, 1],
            2 * t[:, 0, 0] + t[:, 0, 1] + t[:, 1, 0],
        ]
    )
    hethet = t[:, 1, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        total = known.sum(axis=0) + 2 * hethet
        k, c = known / total, hethet / total
    return k, c, k[0] + k[1] + c, k[0] + k[2] + c


def _r_from_tables(tables: np.ndarray) -> np.ndarray:
    """Signed haplotype r from (m, 3, 3) genotype tables (rows: left SNP's A1 count)."""
    k, c, p_a, p_b = _phase_free(tables)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = k[0] + _best_hethet_share(k, c) - p_a * p_b
        d = np.where(np.abs(d) < _SMALL_EPSILON, 0.0, d)
        denominator = p_a * (1 - p_a) * p_b * (1 - p_b)
        r = np.where(denominator > 0, d / np.sqrt(denominator), np.nan)
    return np.clip(r, -1.0, 1.0)


def _r2_above(tables: np.ndarray, threshold: float) -> np.ndarray:
    """``haplotype r2 > threshold`` per table, solving the cubic only where it matters.

    D = k11 + y - pA pB is linear in y in [0, c], so D at the two ends bounds r2 from both
    sides; most pairs are decided by the bounds (with a margin for rounding).
    """
    k, c, p_a, p_b = _phase_free(tables)
    with np.errstate(divide="ignore", invalid="ignore"):
        low_end = k[0] - p_a * p_b
        high_end = low_end + c
        denominator = p_a * (1 - p_a) * p_b * (1 - p_b)
        upper = np.maximum(low_end**2, high_end**2) / denominator
        lower = np.where(low_end * high_end > 0, np.minimum(low_end**2, high_end**2), 0.0)
        lower = lower / denominator
    margin = 1e-9 * abs(threshold) + 1e-12
    above = lower > threshold + margin
    unsure = np.flatnonzero(~above & ~(upper < threshold - margin) & (denominator > 0))
    if len(unsure):
        above[unsure] = _r_from_tables(tables[unsure]) ** 2 > threshold
    return above


def _best_hethet_share(k: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Maximum-likelihood y in [0, c]: the frequency of AB haplotypes from double hets.

    Haplotype frequencies are (k11 + y, k12 + c - y, k21 + c - y, k22 + y). The EM fixed
    point ``y = c p11 p22 / (p11 p22 + p12 p21)`` is PLINK's monic cubic below.
    """
    k11, k12, k21, k22 = k
    a = 0.5 * (k11 + k22 - k12 - k21 - 3 * c)
    b = 0.5 * (k11 * k22 + k12 * k21 + c * (k12 + k21 - k11 - k22 + c))
    d = -0.5 * c * k11 * k22
    roots = _polish(_cubic_real_roots(a, b, d), a, b, d)
    tolerance = 1e-9 * np.maximum(c, 1e-300)
    inside = (roots >= -tolerance[:, None]) & (roots <= (c + tolerance)[:, None])
    roots = np.where(inside, np.clip(roots, 0.0, c[:, None]), np.nan)
    best = np.fmax.reduce(roots, axis=1)
    # One stationary point in [0, c] is the maximum (a maximum at an end is a root too);
    # otherwise score them, and the ends in case rounding lost a double root there.
    ambiguous = np.flatnonzero(inside.sum(axis=1) != 1)
    if len(ambiguous):
        sub_c = c[ambiguous]
        candidates = np.concatenate(
            [roots[ambiguous], np.zeros_like(sub_c)[:, None], sub_c[:, None]], axis=1
        )
        score = _log_likelihood(k[:, ambiguous], sub_c, candidates)
        score = np.where(np.isnan(score), -np.inf, score)
        best[ambiguous] = candidates[np.arange(len(sub_c)), np.argmax(score, axis=1)]
    return best


def _cubic_real_roots(a: np.ndarray, b: np.ndarray, d: np.ndarray) -> np.ndarray:
    """(m, 3) real roots of y^3 + a y^2 + b y + d (NaN where fewer than three are real)."""
    p = b - a * a / 3
    q = 2 * a**3 / 27 - a * b / 3 + d
    disc = (q / 2) ** 2 + (p / 3) ** 3
    shift = -a / 3
    # One real root (Cardano; the larger-magnitude cube root first avoids cancellation).
    u = np.cbrt(-q / 2 - np.copysign(np.sqrt(np.maximum(disc, 0.0)), q))
    single = np.where(u != 0, u - p / (3 * np.where(u != 0, u, 1.0)), 0.0) + shift
    # Three real roots (trigonometric form, needs p < 0).
    neg_p = np.maximum(-p, 1e-300)
    cosine = np.clip(1.5 * q / p * np.sqrt(3 / neg_p), -1.0, 1.0)
    theta = np.arccos(np.where(p < 0, cosine, 0.0)) / 3
    scale = 2 * np.sqrt(neg_p / 3)
    turns = 2 * np.pi * np.arange(3) / 3
    three = scale[:, None] * np.cos(theta[:, None] - turns[None, :]) + shift[:, None]
    one = np.stack([single, np.full_like(single, np.nan), np.full_like(single, np.nan)], 1)
    return np.where(((disc <= 0) & (p < 0))[:, None], three, one)


def _polish(roots: np.ndarray, a: np.ndarray, b: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Two Newton steps on the cubic: the closed forms lose digits near repeated roots."""
    a, b, d = a[:, None], b[:, None], d[:, None]
    for _ in range(2):
        value = ((roots + a) * roots + b) * roots + d
        slope = (3 * roots + 2 * a) * roots + b
        step = np.where(np.abs(slope) > 1e-300, value / np.where(slope == 0, 1.0, slope), 0.0)
        roots = np.where(np.isfinite(step), roots - step, roots)
    return roots


def _log_likelihood(k: np.ndarray, c: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Log-likelihood per haplotype (up to a constant) at candidate shares y (m, n)."""
    k11, k12, k21, k22 = (kk[:, None] for kk in k)
    c = c[:, None]
    freqs = [(k11, k11 + y), (k12, k12 + c - y), (k21, k21 + c - y), (k22, k22 + y)]
    freqs.append((c, (k11 + y) * (k22 + y) + (k12 + c - y) * (k21 + c - y)))
    total = np.zeros_like(y)
    for weight, freq in freqs:
        # 0 log 0 = 0; a positive count on a zero frequency is impossible (-inf).
        total = total + np.where(weight > 0, weight * np.log(np.maximum(freq, 0.0)), 0.0)
    return total


# --- Pearson r of allele counts --------------------------------------------------------------


def dosage_r_matrix(G: np.ndarray) -> np.ndarray:
    """(m, m) signed Pearson r of allele counts over samples typed at both SNPs (PLINK
    ``--r square``); NaN where a SNP is monomorphic in those samples."""
    G = np.asarray(G, dtype=np.float64)
    r = _pairwise_r(G, G)
    diagonal = np.diag(r).copy()
    np.fill_diagonal(r, np.where(np.isnan(diagonal), np.nan, 1.0))
    return r


def _pairwise_r(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """(m1, m2) Pearson r between rows of A and rows of B over pairwise-complete samples."""
    xa, ma = _centred(A)
    xb, mb = _centred(B)
    n = ma @ mb.T
    with np.errstate(divide="ignore", invalid="ignore"):
        sum_a = xa @ mb.T
        sum_b = ma @ xb.T
        raw_aa = (xa * xa) @ mb.T
        raw_bb = ma @ (xb * xb).T
        var_a = raw_aa - sum_a * sum_a / n
        var_b = raw_bb - sum_b * sum_b / n
        cov = xa @ xb.T - sum_a * sum_b / n
        flat = (var_a <= _MONOMORPHIC * raw_aa) | (var_b <= _MONOMORPHIC * raw_bb) | (n < 2)
        r = np.where(flat, np.nan, cov / np.sqrt(var_a * var_b))
    return np.clip(r, -1.0, 1.0)


def _centred(G: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Values minus the SNP's mean (0 where missing) and the typed mask, both float."""
    typed = ~np.isnan(G)
    count = typed.sum(axis=1, keepdims=True)
    mean = np.where(typed, G, 0.0).sum(axis=1, keepdims=True) / np.maximum(count, 1)
    # Centring first keeps the sums of squares small: less cancellation in var = S2 - S1^2/n.
    return np.where(typed, G - mean, 0.0), typed.astype(np.float64)


def ld_scores(G: np.ndarray, pos: np.ndarray, window_bp: float) -> np.ndarray:
    """Per SNP: sum of dosage r2 with every SNP at ``|pos_j - pos_i| <= window_bp`` (itself
    included), LDSC's L2 without its bias correction. Rows are one chromosome.

    Pairs whose r is NaN (the other SNP monomorphic in the shared samples) add nothing; a SNP
    that is monomorphic itself gets NaN.
    """
    G = np.asarray(G, dtype=np.float64)
    pos = np.asarray(pos)
    if pos.shape != (G.shape[0],):
        raise ValueError(f"{pos.shape[0]} positions for {G.shape[0]} SNPs")
    order = np.argsort(pos, kind="stable")
    sorted_pos, sorted_g = pos[order], G[order]
    scores = np.empty(len(pos))
    chunk = 256
    for start in range(0, len(pos), chunk):
        stop = min(start + chunk, len(pos))
        lo = np.searchsorted(sorted_pos, sorted_pos[start] - window_bp, side="left")
        hi = np.searchsorted(sorted_pos, sorted_pos[stop - 1] + window_bp, side="right")
        r = _pairwise_r(sorted_g[start:stop], sorted_g[lo:hi])
        near = np.abs(sorted_pos[start:stop, None] - sorted_pos[None, lo:hi]) <= window_bp
        scores[start:stop] = np.where(near & ~np.isnan(r), r * r, 0.0).sum(axis=1)
        self_r = r[np.arange(stop - start), np.arange(start, stop) - lo]
        scores[start:stop][np.isnan(self_r)] = np.nan
    out = np.empty_like(scores)
    out[order] = scores
    return out


# --- clumping --------------------------------------------------------------------------------


def clump(
    chrom: np.ndarray,
    pos: np.ndarray,
    p: np.ndarray,
    G: np.ndarray,
    p1: float,
    r2: float,
    kb: float,
    *,
    p2: float | None = None,
) -> np.ndarray:
    """Indices (into the inputs) of PLINK 1.9 ``--clump`` index SNPs, in ascending p order.

    Rows of ``G`` align with ``chrom``, ``pos`` and ``p``. Candidates are the SNPs with
    ``p <= p1``, taken by ascending p (ties keep input order). Each candidate not yet
    clumped becomes an index SNP and clumps every not-yet-clumped SNP that

    - is on the same chromosome, within the window ``|pos - pos_index| <= R`` where
      ``R = int(kb * 1000 - 1)`` (PLINK's ``bp_radius``; ``kb * 1000 - 1`` bp for whole
      ``kb * 1000``, so a SNP exactly ``kb * 1000`` bp away is outside),
    - has ``p <= max(p1, p2)``: ``p2=None`` means ``p2 = p1`` (OpenGWAS). PLINK reads
      every SNP with p up to that bound and marks all of them clumped, even those with p2 < p
      that it leaves out of the clump's report,
    - has haplotype r2 with the index strictly greater than ``r2``; NaN r2 never clumps.

    SNPs with NaN p take no part.
    """
    chrom, pos, p = np.asarray(chrom), np.asarray(pos), np.asarray(p, dtype=np.float64)
    G = np.asarray(G, dtype=np.float64)
    if not (chrom.shape == pos.shape == p.shape == (G.shape[0],)):
        raise ValueError("chrom, pos, p and the rows of G must have the same length")
    if kb < 0.001:
        raise ValueError(f"kb {kb} is below PLINK's smallest window, 0.001 (1 bp)")
    eligible = np.flatnonzero(p <= max(p1, p1 if p2 is None else p2))
    _check_hard_calls(G[eligible])
    # Work on the eligible SNPs sorted by (chromosome, position): one key per SNP, chromosomes
    # 2^40 bp apart, so a window search never crosses into the next chromosome.
    chrom_code = np.unique(chrom[eligible], return_inverse=True)[1]
    key = chrom_code.astype(np.int64) * 2**40 + pos[eligible].astype(np.int64)
    order = np.argsort(key, kind="stable")
    sorted_key, sorted_rows = key[order], eligible[order]
    bits = _genotype_bits(G[sorted_rows])
    radius = min(int(kb * 1000 * (1 + _SMALL_EPSILON) - 1), 2**39)
    where = np.empty(len(p), dtype=np.int64)
    where[sorted_rows] = np.arange(len(sorted_rows))  # input row -> sorted slot
    ranked = eligible[np.argsort(p[eligible], kind="stable")]
    slots = where[ranked[p[ranked] <= p1]]
    clumped = np.zeros(len(sorted_rows), dtype=bool)
    windows = np.stack(
        [
            np.searchsorted(sorted_key, sorted_key[slots] - radius, side="left"),
            np.searchsorted(sorted_key, sorted_key[slots] + radius, side="right"),
        ],
        axis=1,
    )
    state = _ClumpState(bits, sorted_key, radius, r2, clumped)
    indices: list[np.ndarray] = []
    start = 0
    while start < len(slots):
        start, batch = _next_batch(slots, windows, clumped, start)
        indices.append(state.run_batch(slots[batch], windows[batch]))
    found = np.concatenate(indices) if indices else np.empty(0, dtype=np.int64)
    return np.asarray(sorted_rows[found], dtype=np.int64)


# Candidates are taken in batches of at most this many, or fewer when their windows together
# hold more SNPs than _BATCH_PAIRS: one vectorised r computation per batch instead of per
# index SNP (numpy's per-call cost dominated small windows).
_BATCH_CANDIDATES = 256
_BATCH_PAIRS = 32_768


def _next_batch(
    slots: np.ndarray, windows: np.ndarray, clumped: np.ndarray, start: int
) -> tuple[int, np.ndarray]:
    """Positions in ``slots`` of the next unclumped candidates, and where to continue."""
    batch: list[int] = []
    pairs, i = 0, start
    while i < len(slots) and len(batch) < _BATCH_CANDIDATES and pairs < _BATCH_PAIRS:
        if not clumped[slots[i]]:
            batch.append(i)
            pairs += int(windows[i, 1] - windows[i, 0])
        i += 1
    return i, np.array(batch, dtype=np.int64)


class _ClumpState:
    """Clumping over SNPs sorted by (chromosome, position); ``clumped`` is updated in place.

    A batch of candidates (ascending p, all unclumped when the batch starts) is exact: one
    only depends on the batch members before it through whether one of them clumps it, so
    first the r2 among the batch members decides which are index SNPs, then every index SNP
    is paired with its window's unclumped SNPs. Absorbing the same SNP twice is harmless.
    """

    def __init__(
        self, bits: np.ndarray, key: np.ndarray, radius: int, r2: float, clumped: np.ndarray
    ) -> None:
        self.bits, self.key, self.radius, self.r2, self.clumped = bits, key, radius, r2, clumped

    def run_batch(self, batch: np.ndarray, windows: np.ndarray) -> np.ndarray:
        """Index SNPs (sorted slots) among ``batch``, in batch order; marks what they clump."""
        absorbs = self._mutual_absorbs(batch)
        is_index = np.zeros(len(batch), dtype=bool)
        taken = np.zeros(len(batch), dtype=bool)
        for j in range(len(batch)):
            if not taken[j]:
                is_index[j] = True
                taken |= absorbs[j]
        self.clumped[batch] = True
        self._absorb_windows(batch[is_index], windows[is_index])
        return batch[is_index]

    def _mutual_absorbs(self, batch: np.ndarray) -> np.ndarray:
        """[j, l]: batch member j would clump the later member l (same window, r2 above)."""
        near = np.abs(self.key[batch][:, None] - self.key[batch][None, :]) <= self.radius
        first, second = np.nonzero(np.triu(near, k=1))
        absorbs = np.zeros((len(batch), len(batch)), dtype=bool)
        if len(first):
            tables = _tables(self.bits[batch[first]], self.bits[batch[second]])
            absorbs[first, second] = _r2_above(tables, self.r2)
        return absorbs

    def _absorb_windows(self, index: np.ndarray, windows: np.ndarray) -> None:
        members = [lo + np.flatnonzero(~self.clumped[lo:hi]) for lo, hi in windows]
        sizes = np.array([len(m) for m in members], dtype=np.int64)
        if not sizes.sum():
            return
        left = np.repeat(index, sizes)
        right = np.concatenate(members)
        tables = _tables(self.bits[left], self.bits[right])
        self.clumped[right[_r2_above(tables, self.r2)]] = True


# --- allele alignment for proxies ------------------------------------------------------------


def complement(allele: str) -> str:
    """Base-by-base complement (A<->T, C<->G, N stays N), uppercase."""
    upper = allele.upper()
    if not upper or not set(upper) <= _NUCLEOTIDES:
        raise ValueError(f"not a nucleotide allele: {allele!r}")
    return upper.translate(_COMPLEMENT)


def is_palindromic(a1: str, a2: str) -> bool:
    """True when the two alleles are each other's complement (A/T, C/G): a strand flip of
    the SNP reads the same pair, so the strand cannot be told from the alleles."""
    return _maybe_complement(a1) == a2.upper()


def _maybe_complement(allele: str) -> str | None:
    try:
        return complement(allele)
    except ValueError:
        return None


def align_proxy(
    target_a1: str,
    target_a2: str,
    proxy_a1: str,
    proxy_a2: str,
    r_sign: float,
    study_ea: str,
    study_nea: str,
    proxy_maf: float,
    allow_palindromes: bool,
    maf_threshold: float,
) -> tuple[str, str] | None:
    """The study's (effect, other) allele at a proxy, expressed in the target's alleles.

    Rules, in order (all allele comparisons ignore case; the answer is uppercase):

    1. ``r_sign`` is the sign of the haplotype r between target A1 and proxy A1: positive
       means target_a1 travels with proxy_a1 (and target_a2 with proxy_a2), negative means
       target_a1 travels with proxy_a2. Zero or NaN: no phase, None.
    2. A palindromic proxy (A/T, C/G) is used only when ``allow_palindromes`` and
       ``proxy_maf < maf_threshold``; the study's alleles are then taken as given (no strand
       flip inferred) and must be the proxy's two alleles in either order. Otherwise None.
    3. Any other proxy: the study's (ea, nea) must be the proxy's (a1, a2) in either order,
       directly or after complementing both (the study on the other strand). Otherwise None.
    4. The study's effect allele is proxy A1 or A2 by rule 2 or 3; it maps to the target
       allele on the same haplotype by rule 1.
    """
    if not r_sign or np.isnan(r_sign):
        return None
    pa1, pa2, ea, nea = (a.upper() for a in (proxy_a1, proxy_a2, study_ea, study_nea))
    if is_palindromic(pa1, pa2):
        if not (allow_palindromes and proxy_maf < maf_threshold):
            return None
        strands: list[tuple[str | None, str | None]] = [(ea, nea)]
    else:
        strands = [(ea, nea), (_maybe_complement(ea), _maybe_complement(nea))]
    for effect, other in strands:
        if (effect, other) in ((pa1, pa2), (pa2, pa1)):
            effect_is_a1 = effect == pa1
            target = (target_a1.upper(), target_a2.upper())
            same_side = effect_is_a1 == (r_sign > 0)
            return target if same_side else (target[1], target[0])
    return None
