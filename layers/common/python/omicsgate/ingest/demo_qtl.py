"""The demo's genotypes, planted cis-eQTLs and the tensorQTL-format tables computed from them.

Genotypes: every demo subject (rat ``RAT-xxxx``) at the sites of ``variants.vcf.gz`` (same
positions, REF and the first ALT: the demo VCF's rare multi-allelic sites become
biallelic), simulated with LD blocks by :func:`omicsgate.ingest.demo_genotypes.
simulate_genotypes` and written as ``genotypes.vcf.gz`` (BGZF).

Planted eQTLs (the truth, ``planted_eqtls.tsv``): every :data:`PLANT_EVERY`-th nuclear gene
plus :data:`PLANT_NAMES`, each with one causal variant drawn among the variants within
:data:`PLANT_DISTANCE` of its TSS with a minor allele frequency >= :data:`MIN_MAF` (a gene
without one has no eQTL) and a log2 allelic fold change s, |s| uniform in
:data:`LOG2_AFC`, random sign. Expression follows the aFC model (Mohammadi et al. 2017):
TPM * (2 - d + d 2^s) / 2 for ALT dosage d, in every tissue.

QTL tables, per tissue, as tensorQTL writes them (see :mod:`omicsgate.ingest.qtl`), from
the GCT's TPMs (the printed values) and the genotypes, no covariates:

- Phenotypes: genes with TPM >= 0.1 in >= 20 % of the tissue's samples (GTEx's rule) and
  at least one polymorphic variant within :data:`WINDOW` of the TSS; rank-based inverse
  normal transform of the TPMs per gene (GTEx; ties get their average rank).
- ``<tissue>.cis_qtl_pairs.<chr>.parquet``: :func:`omicsgate.science.qtl.nominal_scan` of
  every cis pair (tensorQTL's ``map_nominal``); ``start_distance = end_distance`` = variant
  position - TSS.
- ``<tissue>.cis_qtl.txt.gz``: the top pair per gene, ``pval_perm``/``pval_beta`` from
  :data:`PERMUTATIONS` permutations (tensorQTL's default is 10,000: a simplification for
  speed, so ``pval_perm`` is coarse while ``pval_beta`` extrapolates) of the phenotypes,
  the same permutations for every gene of a tissue as tensorQTL, Beta fitted to the
  permutation minimum p-values (``fit_beta``'s maximum likelihood, vectorised here over
  genes); ``true_df`` is the plain degrees of freedom (tensorQTL fits an effective one) and
  ``pval_true_df`` the nominal p-value; ``qval`` Benjamini-Hochberg (``bh_qvalues``, pi0 =
  1); ``pval_nominal_threshold`` from ``pval_beta_threshold`` at FDR :data:`FDR`.
- ``<tissue>.cis_independent_qtl.txt.gz``: a forward-only simplification of
  ``map_independent``: rank 1 is the top variant of each gene with qval <= FDR; rank k+1 is
  the best variant of a scan conditioned on ranks 1..k (their dosages as covariates), kept
  while its conditional p-value <= the gene's ``pval_nominal_threshold`` and the variant is
  itself a significant pair (so every independent eQTL is a stored pair); at most
  :data:`MAX_RANK` ranks; no backward pass; ``pval_beta`` of rank k+1 is the gene's Beta CDF
  at the conditional p-value (no new permutations). ``log2_aFC``: tensorQTL does not
  write it (GTEx and RatGTEx add it with the aFC tool, ``aFC.py``, Mohammadi et al. 2017);
  here :func:`omicsgate.science.qtl.log2_afc_rows` fits the same model to
  log2(TPM + 1) against each independent eQTL's dosages, every eQTL of a tissue at once
  (simplification: one variant at a time, without the other ranks or covariates).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from omicsgate.ingest.demo_genotypes import simulate_genotypes, write_vcf
from omicsgate.science import qtl as sq

if TYPE_CHECKING:
    from omicsgate.ingest.demo import _Gene, _Site
    from omicsgate.ingest.qtl import QtlInputs

WINDOW = 1_000_000
PERMUTATIONS = 50
FDR = 0.05
MAX_RANK = 3
PLANT_EVERY = 10
PLANT_NAMES = ("Cd300lf", "Eno1")
PLANT_DISTANCE = 100_000
MIN_MAF = 0.15
LOG2_AFC = (1.5, 3.0)
_BLOCK = 16  # genes per permutation matrix product

CIS_HEADER = [
    "phenotype_id", "num_var", "beta_shape1", "beta_shape2", "true_df", "pval_true_df",
    "variant_id", "start_distance", "end_distance", "ma_samples", "ma_count", "af",
    "pval_nominal", "slope", "slope_se", "pval_perm", "pval_beta",
]  # fmt: skip


@dataclass
class DemoStudy:
    genes: list[_Gene]
    chromosome: np.ndarray  # per variant row (object)
    pos: np.ndarray  # per variant row (int64)
    dosage: np.ndarray  # variants x subjects (int8)
    planted: dict[int, tuple[int, float]]  # gene row -> (causal variant row, log2 aFC)

    def variant_id(self, row: int) -> str:
        return f"{self.chromosome[row]}:{int(self.pos[row])}"

    def shifts(self, columns: np.ndarray) -> dict[int, np.ndarray]:
        """Gene row -> log10 expression shift per GCT column (``columns``: its subject)."""
        out = {}
        for gene, (variant, s) in self.planted.items():
            d = self.dosage[variant, columns].astype(np.float64)
            out[gene] = np.log10((2.0 - d + d * 2.0**s) / 2.0)
        return out

    def windows(self, window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
        """Per gene, the variant rows [lo, hi) within ``window`` of its TSS."""
        lo = np.zeros(len(self.genes), dtype=np.int64)
        hi = np.zeros(len(self.genes), dtype=np.int64)
        for chromosome in dict.fromkeys(self.chromosome.tolist()):
            rows = np.flatnonzero(self.chromosome == chromosome)
            first, positions = int(rows[0]), self.pos[rows]
            genes = [g for g, gene in enumerate(self.genes) if gene.chromosome == chromosome]
            tss = np.array([self.genes[g].tss for g in genes], dtype=np.int64)
            lo[genes] = first + np.searchsorted(positions, tss - window, "left")
            hi[genes] = first + np.searchsorted(positions, tss + window, "right")
        return lo, hi


def genotypes_and_planted(
    seed: int,
    sites: Sequence[_Site],
    genes: list[_Gene],
    subjects: list[str],
    vcf_path: str,
    planted_path: str,
    nuclear: int,
) -> DemoStudy:
    """Simulate and write the genotypes, choose and write the planted eQTLs."""
    rng = np.random.default_rng([seed, 8])
    by_chromosome: dict[str, list[_Site]] = {}
    for site in sites:
        by_chromosome.setdefault(site[0], []).append(site)
    positions = {c: np.array([s[1] for s in v], dtype=np.int64) for c, v in by_chromosome.items()}
    alleles = {c: ([s[2] for s in v], [s[3] for s in v]) for c, v in by_chromosome.items()}
    dosage = simulate_genotypes(rng, positions, len(subjects))
    write_vcf(vcf_path, dosage, positions, subjects, "omicsgate demo", alleles)
    chromosome = np.array([s[0] for s in sites], dtype=object)
    pos = np.array([s[1] for s in sites], dtype=np.int64)
    af = dosage.mean(axis=1) / 2.0
    maf = np.minimum(af, 1.0 - af)
    study = DemoStudy(genes, chromosome, pos, dosage, {})
    lo, hi = study.windows(PLANT_DISTANCE)
    for g in range(min(nuclear, len(genes))):
        if g % PLANT_EVERY and genes[g].name not in PLANT_NAMES:
            continue
        candidates = [v for v in range(lo[g], hi[g]) if maf[v] >= MIN_MAF]
        if candidates:
            variant = int(rng.choice(candidates))
            s = float(rng.uniform(*LOG2_AFC)) * (1.0 if rng.random() < 0.5 else -1.0)
            study.planted[g] = (variant, s)
    with open(planted_path, "w", encoding="utf-8") as out:
        out.write("gene_id\tgene_name\tvariant_id\tlog2_aFC\n")
        for g, (variant, s) in study.planted.items():
            gene = genes[g]
            out.write(f"{gene.gene_id}\t{gene.name}\t{study.variant_id(variant)}\t{s:.4f}\n")
    return study


# Statistics -----------------------------------------------------------------------------


def inverse_normal_rows(values: np.ndarray) -> np.ndarray:
    """:func:`omicsgate.science.qtl.inverse_normal_transform` of every row, vectorised
    (average ranks take n*2 values: one ``normal_ppf`` per possible rank)."""
    p, n = values.shape
    _, dense = np.unique(values, return_inverse=True)
    dense = dense.reshape(p, n).astype(np.int64)
    offset = (np.arange(p, dtype=np.int64) * (int(dense.max()) + 1))[:, None]
    keys = dense + offset
    ordered = np.sort(keys, axis=None)
    base = (np.arange(p, dtype=np.int64) * n)[:, None]
    less = np.searchsorted(ordered, keys, "left") - base
    not_more = np.searchsorted(ordered, keys, "right") - base
    table = sq.normal_ppf(np.arange(2 * n + 2) / (2.0 * (n + 1)))
    return table[less + not_more + 1]


def _normalised(m: np.ndarray) -> np.ndarray:
    centred = m - m.mean(axis=1, keepdims=True)
    norm = np.sqrt(np.einsum("ij,ij->i", centred, centred))
    return np.divide(centred, norm[:, None], out=np.zeros_like(centred), where=norm[:, None] > 0)


def permuted_min_pvalues(
    phenotypes: np.ndarray,
    genotypes: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    perms: np.ndarray,
) -> np.ndarray:
    """(P x K) minimum p-value over each phenotype's cis variant rows [lo, hi) for each of
    the K permutations of the samples (rows of ``perms``): ``permutation_min_pvalues`` for
    many phenotypes at once, a few phenotypes per matrix product. Monomorphic variants have
    a zero normalised row, so they never give the minimum."""
    y, g = _normalised(phenotypes), _normalised(genotypes)
    count, k, n = len(y), len(perms), y.shape[1]
    r_max = np.zeros((count, k))
    for first in range(0, count, _BLOCK):
        rows = slice(first, min(count, first + _BLOCK))
        vlo, vhi = int(lo[rows].min()), int(hi[rows].max())
        permuted = y[rows][:, perms].reshape(-1, n)  # (B*K, n)
        r = np.abs(permuted @ g[vlo:vhi].T).reshape(-1, k, vhi - vlo)
        column = np.arange(vlo, vhi)[None, :]
        inside = (column >= lo[rows, None]) & (column < hi[rows, None])
        r_max[rows] = np.where(inside[:, None, :], r, 0.0).max(axis=2)
    r_max = np.clip(r_max, 0.0, 1.0)
    dof = n - 2
    with np.errstate(divide="ignore", invalid="ignore"):
        t = r_max * np.sqrt(dof / ((1.0 - r_max) * (1.0 + r_max)))
    out = np.zeros_like(r_max)
    finite = np.isfinite(t)
    out[finite] = sq.t_sf_two_sided(t[finite], dof)
    return out


def fit_beta_rows(samples: np.ndarray, max_iterations: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """:func:`omicsgate.science.qtl.fit_beta` of every row at once (same start, Newton
    steps, step halving and stopping rule per row)."""
    x = np.clip(np.asarray(samples, dtype=np.float64), 1e-300, 1.0 - 1e-16)
    mean, var = x.mean(axis=1), x.var(axis=1)
    safe = np.where(var > 0, var, 1.0)
    common = np.where(var > 0, mean * (1.0 - mean) / safe - 1.0, 1.0)
    a = np.maximum(mean * common, 1e-3)
    b = np.maximum((1.0 - mean) * common, 1e-3)
    s1, s2 = np.log(x).mean(axis=1), np.log1p(-x).mean(axis=1)
    active = np.ones(len(a), dtype=bool)
    for _ in range(max_iterations):
        if not active.any():
            break
        aa, bb = a[active], b[active]
        psi_ab, t_ab = sq._digamma(aa + bb), sq._trigamma(aa + bb)
        g1 = sq._digamma(aa) - psi_ab - s1[active]
        g2 = sq._digamma(bb) - psi_ab - s2[active]
        j11, j22, j12 = sq._trigamma(aa) - t_ab, sq._trigamma(bb) - t_ab, -t_ab
        det = j11 * j22 - j12 * j12
        da, db = (j22 * g1 - j12 * g2) / det, (j11 * g2 - j12 * g1) / det
        step = np.ones_like(aa)
        while np.any(bad := (aa - step * da <= 0) | (bb - step * db <= 0)):
            step = np.where(bad, step / 2.0, step)
        a_new, b_new = aa - step * da, bb - step * db
        done = (np.abs(a_new - aa) <= 1e-12 * aa) & (np.abs(b_new - bb) <= 1e-12 * bb)
        a[active], b[active] = a_new, b_new
        index = np.flatnonzero(active)
        active[index[done]] = False
    return a, b


# Writing --------------------------------------------------------------------------------


def _g6(value: float) -> str:
    return "nan" if not np.isfinite(value) else f"{value:.6g}"


def _write_table(path: str, header: list[str], rows: list[list[Any]]) -> None:
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=6) as out:
        out.write("\t".join(header) + "\n")
        for row in rows:
            cells = [_g6(v) if isinstance(v, float) else str(v) for v in row]
            out.write("\t".join(cells) + "\n")


def write_qtl_tables(
    directory: str,
    tissues: list[str],
    study: DemoStudy,
    tpm: np.ndarray,
    sample_tissue: np.ndarray,
    columns: np.ndarray,
) -> None:
    """The three tensorQTL outputs of every tissue (see the module docstring). ``tpm``:
    nuclear genes x GCT columns; ``sample_tissue``/``columns``: tissue index and genotype
    column (subject) of every GCT column."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng([len(tissues), tpm.shape[0], 16])
    lo, hi = study.windows()
    for t, tissue in enumerate(tissues):
        samples = np.flatnonzero(sample_tissue == t)
        n = len(samples)
        values = tpm[:, samples]
        g_all = study.dosage[:, columns[samples]].astype(np.float64)
        total = g_all.sum(axis=1)
        af = total / (2.0 * n)
        minor = af <= 0.5
        ma_count = np.where(minor, total, 2.0 * n - total).astype(np.int64)
        ma_samples = np.where(minor, (g_all > 0).sum(axis=1), (g_all < 2).sum(axis=1))
        polymorphic = np.ptp(g_all, axis=1) > 0
        cum = np.concatenate([[0], np.cumsum(polymorphic)])
        tested = np.flatnonzero(((values >= 0.1).mean(axis=1) >= 0.2) & (cum[hi] > cum[lo]))
        if tested.size == 0:
            continue
        phen = inverse_normal_rows(values[tested])
        counts = hi[tested] - lo[tested]
        pair_gene = np.repeat(np.arange(tested.size), counts)
        starts = np.repeat(lo[tested] - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        pair_variant = starts + np.arange(int(counts.sum()))
        keep = polymorphic[pair_variant]
        pair_gene, pair_variant = pair_gene[keep], pair_variant[keep]
        scan = sq.nominal_scan(phen, g_all, np.column_stack([pair_gene, pair_variant]))
        order = np.lexsort((scan.pval_nominal, pair_gene))
        firsts = np.r_[True, pair_gene[order][1:] != pair_gene[order][:-1]]
        top = order[firsts]  # one pair per tested gene, in gene order
        num_var = np.bincount(pair_gene, minlength=tested.size)
        perms = np.stack([rng.permutation(n) for _ in range(PERMUTATIONS)])
        permuted = permuted_min_pvalues(
            phen, g_all * polymorphic[:, None], lo[tested], hi[tested], perms
        )
        a, b = fit_beta_rows(permuted)
        p_min = scan.pval_nominal[top]
        pval_beta = sq.beta_cdf(p_min, a, b)
        pval_perm = (1.0 + (permuted <= p_min[:, None]).sum(axis=1)) / (1.0 + PERMUTATIONS)
        qval = sq.bh_qvalues(pval_beta)
        threshold = sq.pval_beta_threshold(pval_beta, qval, FDR)
        nominal_threshold = (
            sq.pval_nominal_threshold(a, b, threshold)
            if np.isfinite(threshold)
            else np.full(tested.size, np.nan)
        )

        common = (tested, num_var, a, b, scan, ma_samples, ma_count, af)

        def pair_row(gene: int, pair: int, variant: int, c: tuple[Any, ...] = common) -> list[Any]:
            tested_, num_var_, a_, b_, scan_, ma_samples_, ma_count_, af_ = c
            distance = int(study.pos[variant]) - study.genes[tested_[gene]].tss
            return [
                study.genes[tested_[gene]].gene_id,
                int(num_var_[gene]),
                float(a_[gene]),
                float(b_[gene]),
                float(scan_.dof),
                float(scan_.pval_nominal[pair]),
                study.variant_id(variant),
                distance,
                distance,
                int(ma_samples_[variant]),
                int(ma_count_[variant]),
                float(af_[variant]),
            ]

        cis_rows = []
        for gene, pair in enumerate(top.tolist()):
            variant = int(pair_variant[pair])
            cis_rows.append(
                [
                    *pair_row(gene, pair, variant),
                    float(scan.pval_nominal[pair]),
                    float(scan.slope[pair]),
                    float(scan.slope_se[pair]),
                    float(pval_perm[gene]),
                    float(pval_beta[gene]),
                    float(qval[gene]),
                    float(nominal_threshold[gene]),
                ]
            )
        prefix = os.path.join(directory, tissue)
        header = [*CIS_HEADER, "qval", "pval_nominal_threshold"]
        _write_table(f"{prefix}.cis_qtl.txt.gz", header, cis_rows)

        independent = []
        afc_genes: list[int] = []  # row of ``values`` and of ``g_all`` per independent eQTL
        afc_variants: list[int] = []
        pair_gene_sig = scan.pval_nominal <= nominal_threshold[pair_gene]
        for gene in np.flatnonzero(qval <= FDR).tolist():
            pairs = np.flatnonzero(pair_gene == gene)
            pair = int(top[gene])
            chosen = [int(pair_variant[pair])]
            stats = [(float(scan.pval_nominal[pair]), float(scan.slope[pair]),
                      float(scan.slope_se[pair]), pair)]  # fmt: skip
            cis = pair_variant[pairs]
            allowed = pair_gene_sig[pairs]
            while len(chosen) < MAX_RANK:
                conditional = sq.nominal_scan(
                    phen[gene : gene + 1], g_all[cis], covariates=g_all[chosen].T
                )
                p = np.where(allowed & ~np.isin(cis, chosen), conditional.pval_nominal, np.inf)
                p = np.where(np.isnan(p), np.inf, p)
                best = int(np.argmin(p))
                if not p[best] <= nominal_threshold[gene]:
                    break
                chosen.append(int(cis[best]))
                stats.append((float(p[best]), float(conditional.slope[best]),
                              float(conditional.slope_se[best]), int(pairs[best])))  # fmt: skip
            for rank, (variant, (p_nominal, slope, se, pair_k)) in enumerate(
                zip(chosen, stats, strict=True), start=1
            ):
                beta_p = (
                    float(pval_beta[gene])
                    if rank == 1
                    else float(sq.beta_cdf(p_nominal, a[gene], b[gene]))
                )
                independent.append(
                    [
                        *pair_row(gene, pair_k, variant),
                        p_nominal,
                        slope,
                        se,
                        float(pval_perm[gene]),
                        beta_p,
                        rank,
                    ]
                )
                afc_genes.append(int(tested[gene]))
                afc_variants.append(variant)
        # What aFC.py adds to tensorQTL's table (GTEx/RatGTEx): log2 aFC of every eQTL.
        afc = sq.log2_afc_rows(np.log2(values[afc_genes] + 1.0), g_all[afc_variants])
        for row, value in zip(independent, afc.tolist(), strict=True):
            row.append(float(value))
        header = [*CIS_HEADER, "rank", "log2_aFC"]
        _write_table(f"{prefix}.cis_independent_qtl.txt.gz", header, independent)

        variant_chrom = study.chromosome[pair_variant]
        distance = (
            study.pos[pair_variant]
            - np.array([study.genes[g].tss for g in tested], dtype=np.int64)[pair_gene]
        )
        phenotype_ids = np.array([study.genes[g].gene_id for g in tested], dtype=object)
        variant_ids = np.array(
            [
                f"{c}:{p}"
                for c, p in zip(
                    variant_chrom.tolist(), study.pos[pair_variant].tolist(), strict=True
                )
            ],
            dtype=object,
        )
        for chromosome in dict.fromkeys(variant_chrom.tolist()):
            rows = np.flatnonzero(variant_chrom == chromosome)
            v = pair_variant[rows]
            table = pa.table(
                {
                    "phenotype_id": pa.array(phenotype_ids[pair_gene[rows]].tolist(), pa.string()),
                    "variant_id": pa.array(variant_ids[rows].tolist(), pa.string()),
                    "start_distance": pa.array(distance[rows], pa.int32()),
                    "end_distance": pa.array(distance[rows], pa.int32()),
                    "af": pa.array(af[v], pa.float32()),
                    "ma_samples": pa.array(ma_samples[v], pa.int32()),
                    "ma_count": pa.array(ma_count[v], pa.int32()),
                    "pval_nominal": pa.array(scan.pval_nominal[rows], pa.float64()),
                    "slope": pa.array(scan.slope[rows], pa.float32()),
                    "slope_se": pa.array(scan.slope_se[rows], pa.float32()),
                }
            )
            pq.write_table(table, f"{prefix}.cis_qtl_pairs.{chromosome}.parquet")


def qtl_inputs(directory: str) -> QtlInputs:
    """The :class:`QtlInputs` of a directory :func:`write_qtl_tables` wrote."""
    from omicsgate.ingest.qtl import QtlInputs

    inputs = QtlInputs()
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        tissue, _, rest = name.partition(".")
        if rest == "cis_qtl.txt.gz":
            inputs.cis[tissue] = path
        elif rest == "cis_independent_qtl.txt.gz":
            inputs.independent[("expression", tissue)] = path
        elif rest.startswith("cis_qtl_pairs.") and rest.endswith(".parquet"):
            inputs.pairs.setdefault(tissue, []).append(path)
    return inputs
