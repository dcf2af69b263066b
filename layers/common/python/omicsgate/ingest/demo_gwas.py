"""The demo GWAS catalogue: one real study read in place, synthetic ones with planted signals.

- ``ieu-a-2`` (body mass index, GIANT): ``../shared/data/gwasvcf/data.vcf.gz`` as
  OpenGWAS distributes it, ingested where it lies (never copied into the project).
- ``demo-a-1`` .. ``demo-a-4`` (public) and ``demo-a-5`` (restricted to ``cohort-a``):
  summary statistics at the variants of the EUR LD panel in the same folder
  (chr1:10,177-1,208,195), with 1-3 planted causal variants per study. Marginal z-scores
  follow the panel's LD: z = sqrt(N) R b + e with e ~ N(0, R), so signals spread to the
  causal variants' LD partners as in a real GWAS (what clumping will have to undo). The
  causal variants are listed in ``planted_gwas.tsv``. The studies are written as GWAS-VCF
  files and ingested through the normal path. Without the panel, positions and alleles are
  synthetic and variants independent.
- The EUR LD reference panel: the real one beside the study (``eur.bed/bim/fam``, read in
  place), or a synthetic one of the synthetic variants without ``../shared``.
- Genes for ``/variants/gene``: a few human genes of the region, with approximate GRCh37
  coordinates (the demo has no human annotation file).
"""

from __future__ import annotations

import gzip
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from omicsgate.gwas import chrom_code
from omicsgate.ingest.gwas import StudyInput, ingest_study, read_metadata, study_metadata
from omicsgate.storage import DataStore

REAL_STUDY = "ieu-a-2"
RESTRICTED_STUDY = "demo-a-5"
RESTRICTED_GROUP = "cohort-a"
REAL_METADATA = {
    "trait": "Body mass index",
    "group_name": "public",
    "category": "Risk factor",
    "subcategory": "Anthropometric",
    "population": "Mixed",
    "sex": "Males and Females",
    "author": "Locke AE",
    "consortium": "GIANT",
    "year": 2015,
    "pmid": 25673413,
    "sample_size": 339224,
    "unit": "SD (kg/m2)",
    "ontology": "EFO:0004340",
    "study_design": "meta-analysis",
    "build": "HG19/GRCh37",
    "note": "a 92-variant excerpt of the study's GWAS-VCF",
}
SYNTHETIC = [  # (ID, trait, category, sample size, cases or None)
    ("demo-a-1", "Standing height (synthetic)", "Continuous", 250_000, None),
    ("demo-a-2", "LDL cholesterol (synthetic)", "Continuous", 90_000, None),
    ("demo-a-3", "Type 2 diabetes (synthetic)", "Binary", 160_000, 40_000),
    ("demo-a-4", "Coronary artery disease (synthetic)", "Binary", 180_000, 60_000),
    ("demo-a-5", "Rare disease cohort A (synthetic, restricted)", "Binary", 30_000, 5_000),
]
# (symbol, Ensembl ID, start, end) on chr1, approximately GRCh37.
GENES = [
    ("SAMD11", "ENSG00000187634", 860_260, 879_955),
    ("NOC2L", "ENSG00000188976", 879_584, 894_689),
    ("KLHL17", "ENSG00000187961", 895_967, 901_095),
    ("PLEKHN1", "ENSG00000187583", 901_877, 911_245),
    ("HES4", "ENSG00000188290", 934_342, 935_552),
    ("ISG15", "ENSG00000187608", 948_847, 949_919),
    ("AGRN", "ENSG00000188157", 955_503, 991_499),
    ("TNFRSF18", "ENSG00000186891", 1_138_888, 1_142_071),
    ("TNFRSF4", "ENSG00000186827", 1_146_706, 1_149_518),
    ("SDF4", "ENSG00000078808", 1_152_288, 1_167_447),
    ("B3GALT6", "ENSG00000176022", 1_167_629, 1_170_421),
]


def shared_data_dir() -> str | None:
    """``../shared/data`` beside the checkout (``$OMICSGATE_SHARED_DATA`` overrides)."""
    configured = os.environ.get("OMICSGATE_SHARED_DATA")
    candidates = [Path(configured)] if configured else []
    here = Path.cwd().resolve()
    candidates += [p / "shared" / "data" for p in (here.parent, *here.parents)]
    candidates.append(Path(__file__).resolve().parents[5] / "shared" / "data")
    for candidate in candidates:
        if (candidate / "gwasvcf" / "data.vcf.gz").is_file():
            return str(candidate)
    return None


@dataclass(frozen=True)
class _Panel:
    rsid: list[str]
    position: np.ndarray
    a1: list[str]
    a2: list[str]
    frequency: np.ndarray  # of A1
    ld: np.ndarray  # Pearson r between dosages, 1 on the diagonal
    root: np.ndarray  # root @ root.T == ld, so root @ standard normal ~ N(0, ld)


def _panel(shared: str | None, rng: np.random.Generator) -> _Panel:
    if shared is None:
        count = 800
        position = np.sort(rng.choice(np.arange(10_177, 1_208_195), count, replace=False))
        bases = np.array(list("ACGT"))
        a1 = list(bases[rng.integers(0, 4, count)])
        a2 = [bases[(list(bases).index(a) + 1) % 4] for a in a1]
        frequency = rng.uniform(0.05, 0.5, count)
        rsid = [f"rs{900_000_000 + i}" for i in range(count)]
        return _Panel(rsid, position, a1, a2, frequency, np.eye(count), np.eye(count))
    from omicsgate.ingest.plink import read_plink

    plink = read_plink(os.path.join(shared, "gwasvcf", "eur"))
    dosage = plink.dosage
    means = np.nanmean(dosage, axis=1)
    filled = np.where(np.isnan(dosage), means[:, None], dosage)
    with np.errstate(invalid="ignore", divide="ignore"):
        ld = np.nan_to_num(np.corrcoef(filled))
    np.fill_diagonal(ld, 1.0)
    # Standardised dosages over sqrt(samples): their outer product is ld itself.
    spread = filled.std(axis=1)
    safe = np.where(spread > 0, spread, 1.0)
    root = (filled - means[:, None]) / safe[:, None] / math.sqrt(filled.shape[1])
    root[spread == 0] = 0.0
    return _Panel(plink.rsid, plink.position, plink.a1, plink.a2, means / 2, ld, root)


def _log10_p(z: np.ndarray) -> np.ndarray:
    """-log10 of the two-sided normal p-value; asymptotic where erfc underflows."""
    absolute = np.abs(z)
    out = np.empty_like(absolute)
    for i, value in enumerate(absolute):
        if value < 37:
            out[i] = -math.log10(math.erfc(value / math.sqrt(2)))
        else:
            log_p = -value * value / 2 - math.log(value * math.sqrt(math.pi / 2))
            out[i] = -log_p / math.log(10)
    return out


def _simulate(
    panel: _Panel, rng: np.random.Generator, n: int
) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """(beta, se) per panel variant and the causal indices."""
    count = len(panel.rsid)
    informative = np.flatnonzero((panel.frequency > 0.05) & (panel.frequency < 0.95))
    causal = sorted(rng.choice(informative, int(rng.integers(1, 4)), replace=False).tolist())
    # Causal z-scores of 7-14 whatever the sample size: genome-wide significant signals.
    effects = np.zeros(count)
    signs = rng.choice([-1, 1], len(causal))
    effects[causal] = signs * rng.uniform(7, 14, len(causal)) / math.sqrt(n)
    noise = panel.root @ rng.standard_normal(panel.root.shape[1])
    z = math.sqrt(n) * panel.ld @ effects + noise
    frequency = np.clip(panel.frequency, 0.005, 0.995)
    se = 1 / np.sqrt(2 * frequency * (1 - frequency) * n)
    return z * se, se, causal


def write_demo_studies(directory: str, seed: int = 7) -> tuple[list[StudyInput], str]:
    """The synthetic studies as GWAS-VCF files and metadata in ``directory``, plus the real
    study when ``../shared`` is there; and the planted-signal table's path."""
    rng = np.random.default_rng(seed)
    shared = shared_data_dir()
    panel = _panel(shared, rng)
    planted = os.path.join(directory, "planted_gwas.tsv")
    studies: list[StudyInput] = []
    if shared is not None:
        vcf = os.path.join(shared, "gwasvcf", "data.vcf.gz")
        meta = os.path.join(directory, f"{REAL_STUDY}.json")
        Path(meta).write_text(json.dumps(REAL_METADATA))
        info = study_metadata(read_metadata(meta), REAL_STUDY, meta, vcf)
        studies.append(StudyInput(REAL_STUDY, [vcf], info))
    with open(planted, "w") as table:
        table.write("study\trsid\tchr\tposition\tbeta\n")
        for study_id, trait, kind, n, cases in SYNTHETIC:
            beta, se, causal = _simulate(panel, rng, n)
            path = os.path.join(directory, f"{study_id}.vcf.gz")
            _write_gwas_vcf(path, study_id, panel, beta, se, n)
            for index in causal:
                position = int(panel.position[index])
                table.write(f"{study_id}\t{panel.rsid[index]}\t1\t{position}\t{beta[index]:.5g}\n")
            info = {
                "trait": trait,
                "group_name": RESTRICTED_GROUP if study_id == RESTRICTED_STUDY else "public",
                "category": kind,
                "population": "European",
                "sex": "Males and Females",
                "author": "OmicsGate demo",
                "year": 2026,
                "sample_size": n,
                "build": "HG19/GRCh37",
                "note": "synthetic: planted signals at panel variants, LD from the EUR panel",
            }
            if cases:
                info.update(ncase=cases, ncontrol=n - cases)
            studies.append(StudyInput(study_id, [path], info))
    return studies, planted


def _write_gwas_vcf(
    path: str, study_id: str, panel: _Panel, beta: np.ndarray, se: np.ndarray, n: int
) -> None:
    lp = _log10_p(beta / se)
    with gzip.open(path, "wt") as out:
        out.write("##fileformat=VCFv4.2\n")
        for key, description in (
            ("ES", "Effect size estimate relative to the alternative allele"),
            ("SE", "Standard error of effect size estimate"),
            ("LP", "-log10 p-value for effect estimate"),
            ("AF", "Alternate allele frequency in the association study"),
            ("SS", "Sample size used to estimate genetic effect"),
        ):
            out.write(f'##FORMAT=<ID={key},Number=A,Type=Float,Description="{description}">\n')
        out.write('##FORMAT=<ID=ID,Number=1,Type=String,Description="Study variant identifier">\n')
        out.write(f"##SAMPLE=<ID={study_id},TotalVariants={len(beta)}>\n")
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + study_id + "\n")
        for i, rsid in enumerate(panel.rsid):
            # ALT (the effect allele) is the panel's A1, whose frequency the panel gives.
            sample = f"{beta[i]:.6g}:{se[i]:.6g}:{lp[i]:.6g}:{panel.frequency[i]:.5g}:{n}:{rsid}"
            out.write(
                f"1\t{panel.position[i]}\t{rsid}\t{panel.a2[i]}\t{panel.a1[i]}\t.\tPASS\t.\t"
                f"ES:SE:LP:AF:SS:ID\t{sample}\n"
            )


def build_demo_gwas(store: DataStore, directory: str, seed: int = 7) -> list[str]:
    """Ingest the demo studies and genes into the store; the IDs written."""
    from omicsgate.gwas.writer import consolidate, write_genes

    studies, _ = write_demo_studies(directory, seed)
    build_demo_panel(store, seed)  # first: studies are preclumped as they are ingested
    for study in studies:
        restricted = study.study_id == RESTRICTED_STUDY
        ingest_study(store, study, frozenset({RESTRICTED_GROUP}) if restricted else frozenset())
    write_genes(store, [(s, i, chrom_code("1"), a, b) for s, i, a, b in GENES])
    consolidate(store)
    return [study.study_id for study in studies]


def build_demo_panel(store: DataStore, seed: int = 7) -> None:
    """The EUR LD panel: the real 1000 Genomes one read in place when ``../shared`` is
    there; otherwise 400 synthetic samples of the synthetic variants (independent SNPs,
    as the synthetic studies assume)."""
    from omicsgate.gwas.panel_writer import PanelData, write_panel
    from omicsgate.ingest.ld_panel import ingest_panel

    shared = shared_data_dir()
    if shared is not None:
        ingest_panel(store, "EUR", os.path.join(shared, "gwasvcf", "eur"))
        return
    panel = _panel(None, np.random.default_rng(seed))
    rng = np.random.default_rng(seed + 1)
    dosage = rng.binomial(2, panel.frequency[:, None], (len(panel.rsid), 400)).astype(float)
    data = PanelData(
        chrom=np.full(len(panel.rsid), chrom_code("1"), dtype=np.uint8),
        pos=panel.position,
        rsid=np.asarray(panel.rsid, dtype=object),
        a1=np.asarray(panel.a1, dtype=object),
        a2=np.asarray(panel.a2, dtype=object),
        dosage=dosage,
        samples=[f"synthetic{i}" for i in range(400)],
    )
    write_panel(store, "EUR", data, source="synthetic")
