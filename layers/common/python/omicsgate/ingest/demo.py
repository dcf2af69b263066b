"""A deterministic demo data set in the standard formats the ingest CLI reads.

13 RatGTEx v4 tissues, a few thousand rat-like genes with transcripts and exons on
several chromosomes (GTF, with the 13 mitochondrial protein-coding genes on chrM), variant
sites (VCF), per-tissue gene status (TSV) and GTEx-style expression: a gzipped GCT of TPMs
with its sample attributes and subject phenotypes.
"""

from __future__ import annotations

import gzip
import io
import os
import random
from dataclasses import dataclass

import numpy as np

from omicsgate.portal.reference import TISSUE_FIELDS

DEMO_RELEASE = "ratgtex_v4_demo"
# (ID, detail, site, colour) as RatGTEx v4 lists them.
TISSUES = [
    ("Adipose", "Adipose", "Adipose", "e41a1c"),
    ("BLA", "Basolateral amygdala", "Brain", "377eb8"),
    ("Brain", "Brain hemisphere", "Brain", "4daf4a"),
    ("Eye", "Eye", "Eye", "984ea3"),
    ("IC", "Insular cortex", "Brain", "ff7f00"),
    ("IL", "Infralimbic cortex", "Brain", "a65628"),
    ("LHb", "Lateral habenula", "Brain", "f781bf"),
    ("Liver", "Liver", "Liver", "999999"),
    ("NAcc", "Nucleus accumbens core", "Brain", "66c2a5"),
    ("OFC", "Orbitofrontal cortex", "Brain", "fc8d62"),
    ("PL", "Prelimbic cortex", "Brain", "8da0cb"),
    ("pVTA", "Posterior ventral tegmental area", "Brain", "e78ac3"),
    ("RMTg", "Rostromedial tegmental nucleus", "Brain", "a6d854"),
]
CHROMOSOMES = [
    ("chr1", 260_000_000),
    ("chr2", 249_000_000),
    ("chr3", 169_000_000),
    ("chr10", 107_000_000),
    ("chrX", 152_000_000),
]
# Real rat genes first, so that README examples and tests have familiar names.
KNOWN_GENES = [
    ("Cd300lf", "CD300 molecule like family member F"),
    ("Eno1", "enolase 1"),
    ("Rtel1", "regulator of telomere elongation helicase 1"),
    ("Polr3k", "RNA polymerase III subunit K"),
    ("Actb", "actin beta"),
    ("Gapdh", "glyceraldehyde-3-phosphate dehydrogenase"),
]
# Rat mitochondrial protein-coding genes (chrM, mRatBN7.2-like coordinates).
MT_GENES = [
    ("Mt-nd1", 2740, 3694, "+", "NADH dehydrogenase subunit 1"),
    ("Mt-nd2", 3913, 4950, "+", "NADH dehydrogenase subunit 2"),
    ("Mt-co1", 5328, 6872, "+", "cytochrome c oxidase subunit I"),
    ("Mt-co2", 7013, 7696, "+", "cytochrome c oxidase subunit II"),
    ("Mt-atp8", 7766, 7969, "+", "ATP synthase F0 subunit 8"),
    ("Mt-atp6", 7927, 8607, "+", "ATP synthase F0 subunit 6"),
    ("Mt-co3", 8607, 9390, "+", "cytochrome c oxidase subunit III"),
    ("Mt-nd3", 9460, 9807, "+", "NADH dehydrogenase subunit 3"),
    ("Mt-nd4l", 9877, 10173, "+", "NADH dehydrogenase subunit 4L"),
    ("Mt-nd4", 10167, 11544, "+", "NADH dehydrogenase subunit 4"),
    ("Mt-nd5", 11742, 13568, "+", "NADH dehydrogenase subunit 5"),
    ("Mt-nd6", 13552, 14077, "-", "NADH dehydrogenase subunit 6"),
    ("Mt-cyb", 14149, 15291, "+", "cytochrome b"),
]
# Housekeeping genes, highly expressed everywhere (log10 TPM).
HOUSEKEEPING = {"Actb": 3.3, "Gapdh": 3.1, "Eno1": 2.6}
_SYLLABLES = [
    "ab",
    "ac",
    "ad",
    "al",
    "an",
    "ap",
    "ar",
    "at",
    "ca",
    "cd",
    "ch",
    "co",
    "cy",
    "el",
    "en",
    "fa",
    "ga",
    "gl",
    "ho",
    "ka",
    "kc",
    "la",
    "ly",
    "ma",
    "my",
    "ne",
    "no",
    "pa",
    "pl",
    "po",
    "ra",
    "rb",
    "sl",
    "sm",
    "sp",
    "ta",
    "tm",
    "tr",
    "ub",
    "zn",
]


@dataclass(frozen=True)
class DemoFiles:
    tissues: str
    annotation: str
    variants: str
    gene_status: str
    # GTEx-style expression (None when write_demo was asked for no expression).
    expression: str | None = None
    sample_attributes: str | None = None
    subject_phenotypes: str | None = None
    # Genotypes of every demo subject at the variant sites (BGZF VCF), the directory of the
    # tensorQTL-format cis-eQTL files computed from them and the expression, and the
    # planted eQTLs (TSV: gene, causal variant, log2 aFC); None without expression.
    genotypes: str | None = None
    qtl: str | None = None
    planted: str | None = None


def _gzip_text(path: str) -> io.TextIOWrapper:
    """gzip without a timestamp, so that the demo files are the same bytes every time."""
    return io.TextIOWrapper(gzip.GzipFile(path, "wb", mtime=0), encoding="utf-8")


def _gene_names(rng: random.Random, count: int) -> list[tuple[str, str]]:
    names = dict(KNOWN_GENES)
    while len(names) < count:
        stem = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 2)))
        name = f"{stem.capitalize()}{rng.randint(1, 40)}{rng.choice(['', '', 'a', 'b', 'l'])}"
        names.setdefault(name, f"{stem} family member {name[-1]}")
    return list(names.items())[:count]


@dataclass(frozen=True)
class _Gene:
    name: str
    chromosome: str
    start: int
    end: int
    gene_id: str
    strand: str

    @property
    def tss(self) -> int:
        return self.start if self.strand == "+" else self.end


def _write_gtf(path: str, rng: random.Random, genes: int) -> list[_Gene]:
    placed: list[_Gene] = []
    with _gzip_text(path) as out:
        out.write("#!genome-build mRatBN7.2 (demo)\n")
        names = _gene_names(rng, genes)
        per_chrom = -(-len(names) // len(CHROMOSOMES))
        for c, (chromosome, length) in enumerate(CHROMOSOMES):
            position = 1_000_000
            for index, (name, description) in enumerate(names[c * per_chrom :][:per_chrom]):
                position += rng.randint(5_000, length // (per_chrom + 2))
                strand = rng.choice("+-")
                gene_id = f"ENSRNOG{c:02d}{index:09d}"
                _, _, start, end = _write_gene(
                    out, rng, chromosome, position, strand, gene_id, name, description
                )
                placed.append(_Gene(name, chromosome, start, end, gene_id, strand))
        _write_mt_genes(out)
    return placed


def _write_mt_genes(out) -> None:
    """chrM genes: one transcript, one exon each; no random draws, so that the VCF and the
    gene status (drawn from the nuclear genes) stay what they were."""
    for index, (name, start, end, strand, description) in enumerate(MT_GENES):
        gene_id = f"ENSRNOG99{index:09d}"
        transcript_id = f"ENSRNOT99{index:09d}0"
        attrs = f'gene_id "{gene_id}"; gene_name "{name}"; description "{description}";'
        base = f'gene_id "{gene_id}"; transcript_id "{transcript_id}"; gene_name "{name}";'
        out.write(f"chrM\tdemo\tgene\t{start}\t{end}\t.\t{strand}\t.\t{attrs}\n")
        out.write(f"chrM\tdemo\ttranscript\t{start}\t{end}\t.\t{strand}\t.\t{base}\n")
        out.write(
            f"chrM\tdemo\texon\t{start}\t{end}\t.\t{strand}\t.\t{base} "
            f'exon_number "1"; exon_id "{transcript_id}.1";\n'
        )


def _write_gene(
    out,
    rng: random.Random,
    chromosome: str,
    start: int,
    strand: str,
    gene_id: str,
    name: str,
    description: str,
) -> tuple[str, str, int, int]:
    exon_count = rng.randint(1, 12)
    exons, cursor = [], start
    for _ in range(exon_count):
        length = rng.randint(80, 400)
        exons.append((cursor, cursor + length))
        cursor += length + rng.randint(200, 6_000)
    end = exons[-1][1]
    gene_attrs = f'gene_id "{gene_id}"; gene_name "{name}"; description "{description}";'
    out.write(f"{chromosome}\tdemo\tgene\t{start}\t{end}\t.\t{strand}\t.\t{gene_attrs}\n")
    for t in range(rng.randint(1, 3)):
        transcript_id = f"ENSRNOT{gene_id[7:]}{t}"
        chosen = exons if t == 0 else sorted(rng.sample(exons, max(1, len(exons) - t)))
        ordered = chosen if strand == "+" else chosen[::-1]
        base = f'gene_id "{gene_id}"; transcript_id "{transcript_id}"; gene_name "{name}";'
        out.write(
            f"{chromosome}\tdemo\ttranscript\t{chosen[0][0]}\t{chosen[-1][1]}\t.\t"
            f"{strand}\t.\t{base}\n"
        )
        for number, (s, e) in enumerate(ordered, start=1):
            out.write(
                f"{chromosome}\tdemo\texon\t{s}\t{e}\t.\t{strand}\t.\t{base} "
                f'exon_number "{number}"; exon_id "{transcript_id}.{number}";\n'
            )
    return (name, chromosome, start, end)


_Site = tuple[str, int, str, str]  # chromosome, pos, REF, first ALT


def _write_vcf(path: str, rng: random.Random, genes: list[_Gene]) -> list[_Site]:
    """Variant sites near the genes; returns them (the first ALT of each) in file order."""
    sites = set()
    written: list[_Site] = []
    for chromosome, start, end in ((g.chromosome, g.start, g.end) for g in genes):
        for _ in range(rng.randint(2, 8)):
            sites.add((chromosome, rng.randint(max(1, start - 50_000), end + 50_000)))
    order = {c: i for i, (c, _) in enumerate(CHROMOSOMES)}
    with _gzip_text(path) as out:
        out.write("##fileformat=VCFv4.2\n##source=omicsgate-demo\n")
        for chromosome, length in CHROMOSOMES:
            out.write(f"##contig=<ID={chromosome},length={length}>\n")
        out.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for chromosome, pos in sorted(sites, key=lambda s: (order[s[0]], s[1])):
            ref = rng.choice("ACGT")
            alts = [rng.choice([b for b in "ACGT" if b != ref])]
            if rng.random() < 0.02:
                alts.append(rng.choice([b for b in "ACGT" if b not in (ref, alts[0])]))
            out.write(f"{chromosome}\t{pos}\t.\t{ref}\t{','.join(alts)}\t.\tPASS\t.\n")
            written.append((chromosome, pos, ref, alts[0]))
    return written


def _write_status(path: str, rng: random.Random, genes: list[str]) -> dict[str, tuple[int, int]]:
    counts = {t[0]: [0, 0] for t in TISSUES}
    with open(path, "w", encoding="utf-8") as out:
        out.write("geneId\ttissueSiteDetailId\texpressed\ttestedEqtl\teqtl\n")
        for gene in genes:
            for tissue, *_ in TISSUES:
                expressed = rng.random() < 0.75
                eqtl = expressed and rng.random() < 0.3
                counts[tissue][0] += expressed
                counts[tissue][1] += eqtl
                flags = "\t".join("true" if f else "false" for f in (expressed, expressed, eqtl))
                out.write(f"{gene}\t{tissue}\t{flags}\n")
    return {t: (c[0], c[1]) for t, c in counts.items()}


# Computed at publish from the expression part: a demo with expression does not type them.
DERIVED_TISSUE_FIELDS = ("rnaSeqSampleCount", "expressedGeneCount")


def _write_tissues(
    path: str,
    rng: random.Random,
    counts: dict[str, tuple[int, int]],
    sample_counts: list[int] | None,
) -> None:
    """``sample_counts``: the expression matrix's samples per tissue, when there is one."""
    derived = {TISSUE_FIELDS.index(f) for f in DERIVED_TISSUE_FIELDS} if sample_counts else set()
    with open(path, "w", encoding="utf-8") as out:
        out.write("\t".join(f for i, f in enumerate(TISSUE_FIELDS) if i not in derived) + "\n")
        for t, (tissue_id, detail, site, colour) in enumerate(TISSUES):
            rgb = ",".join(str(int(colour[i : i + 2], 16)) for i in (0, 2, 4))
            samples = rng.randint(80, 420)
            if sample_counts:
                samples = sample_counts[t]
            expressed, egenes = counts[tissue_id]
            row = [
                tissue_id,
                detail,
                site,
                tissue_id,
                colour,
                rgb,
                f"{DEMO_RELEASE}_round1",
                DEMO_RELEASE,  # tissueInfo's datasetId is what ?datasetId= takes
                samples,
                samples - rng.randint(0, 5),
                expressed,
                egenes,
                "true" if egenes else "false",
            ]
            out.write("\t".join(str(v) for i, v in enumerate(row) if i not in derived) + "\n")


# Expression: log10 TPM levels printed from a table of pre-formatted tokens (GTEx prints
# about 4 significant digits), so a row is one bytes.join and no cell is formatted alone.
_LOG10_MIN, _LOG10_MAX, _LEVELS = -2.0, 5.0, 4096
_BLOCK_ROWS = 256
_AGES = ["20-29", "30-39", "40-49", "50-59", "60-69", "70-79"]


def _tpm_tokens() -> np.ndarray:
    levels = 10 ** np.linspace(_LOG10_MIN, _LOG10_MAX, _LEVELS - 1)
    return np.array([b"0"] + [f"{v:.4g}".encode() for v in levels], dtype=object)


@dataclass(frozen=True)
class _Samples:
    ids: list[str]  # in GCT column order (sorted, as GTEx orders them)
    tissue: np.ndarray  # tissue index per GCT column
    subjects: list[str]


def _demo_samples(rng: np.random.Generator) -> _Samples:
    """120-300 samples per tissue from a pool of rats; one sample per rat and tissue."""
    counts = rng.integers(120, 301, size=len(TISSUES))
    pool = [f"RAT-{k:04d}" for k in range(int(counts.max()) + 40)]
    rows: list[tuple[str, int, str]] = []
    for t, count in enumerate(counts.tolist()):
        for subject in rng.choice(len(pool), size=count, replace=False).tolist():
            aliquot = int(rng.integers(1, 10_000))
            rows.append((f"{pool[subject]}-{aliquot:04d}-SM-{len(rows):05X}", t, pool[subject]))
    rows.sort()
    return _Samples(
        [r[0] for r in rows], np.array([r[1] for r in rows]), sorted({r[2] for r in rows})
    )


def _write_expression(
    files: DemoFiles,
    rng: np.random.Generator,
    names: list[str],
    samples: _Samples,
    planted: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """Log-normal TPMs: a level per gene, per-tissue effects (brain regions alike, ~6 % of
    genes strongly up in one tissue), per-sample noise, dropouts of lowly expressed genes,
    housekeeping genes high and mitochondrial genes highest. ``planted``: gene row -> log10
    shift per GCT column (the cis-eQTL effects), added before dropouts; the other genes'
    values are what they were without it (no random draw depends on it). Returns the
    genes x samples indexes into :func:`_tpm_tokens` (what the GCT holds)."""
    genes, tissues = len(names), len(TISSUES)
    brain = np.array([site == "Brain" for _, _, site, _ in TISSUES])
    base = rng.normal(0.6, 1.3, genes)
    effect = rng.normal(0.0, 0.25, (genes, tissues)) + np.outer(rng.normal(0, 0.35, genes), brain)
    specific = np.flatnonzero(rng.random(genes) < 0.06)
    effect[specific] -= 1.0
    effect[specific, rng.integers(0, tissues, len(specific))] += 3.0
    for g, name in enumerate(names):
        if name.lower().startswith("mt-"):
            base[g], effect[g] = rng.uniform(3.6, 4.4), rng.normal(0.0, 0.1, tissues)
        elif name in HOUSEKEEPING:
            base[g], effect[g] = HOUSEKEEPING[name], rng.normal(0.0, 0.1, tissues)
    mean = base[:, None] + effect
    nuclear = np.array([not name.lower().startswith("mt-") for name in names])
    mean[nuclear] = np.minimum(mean[nuclear], 3.3)  # about 2,000 TPM: mt- genes stay on top
    spread = rng.uniform(0.08, 0.35, genes)
    library = rng.normal(0.0, 0.05, len(samples.ids))
    tokens = _tpm_tokens()
    scale = (_LEVELS - 2) / (_LOG10_MAX - _LOG10_MIN)
    assert files.expression is not None
    written = np.zeros((genes, len(samples.ids)), dtype=np.int16)
    with gzip.GzipFile(files.expression, "wb", mtime=0, compresslevel=1) as out:
        out.write(f"#1.2\n{genes}\t{len(samples.ids)}\n".encode())
        out.write("\t".join(["Name", "Description", *samples.ids]).encode() + b"\n")
        for first in range(0, genes, _BLOCK_ROWS):
            rows = slice(first, min(genes, first + _BLOCK_ROWS))
            level = (
                mean[rows][:, samples.tissue]
                + spread[rows, None] * rng.standard_normal((len(spread[rows]), len(samples.ids)))
                + library[None, :]
            )
            for g in range(rows.start, rows.stop):
                if planted and g in planted:
                    level[g - first] += planted[g]
            dropout = rng.random(level.shape) < 1 / (1 + np.exp(4 * (level + 0.7)))
            index = np.clip(np.rint((level - _LOG10_MIN) * scale) + 1, 1, _LEVELS - 1)
            index[(level < _LOG10_MIN) | dropout] = 0
            written[rows] = index
            for name, row in zip(names[rows], tokens[index.astype(np.intp)], strict=True):
                label = name.encode()
                out.write(label + b"\t" + label + b"\t" + b"\t".join(row.tolist()) + b"\n")
    return written


def _write_sample_tables(files: DemoFiles, rng: np.random.Generator, samples: _Samples) -> None:
    """GTEx's sample attributes (a few DNA-only samples without a tissue, as GTEx lists
    them) and subject phenotypes (SEX 1 = male, 2 = female; AGE in decades)."""
    assert files.sample_attributes is not None and files.subject_phenotypes is not None
    with open(files.sample_attributes, "w", encoding="utf-8") as out:
        out.write("SAMPID\tSMTS\tSMTSD\tSUBJID\tSMRIN\n")
        for sample, tissue in zip(samples.ids, samples.tissue.tolist(), strict=True):
            tissue_id, _, site, _ = TISSUES[tissue]
            subject = sample.rsplit("-", 3)[0]
            rin = rng.uniform(6.0, 10.0)
            out.write(f"{sample}\t{site}\t{tissue_id}\t{subject}\t{rin:.1f}\n")
        for subject in samples.subjects[:3]:
            out.write(f"{subject}-0001-SM-DNA01\t\t\t{subject}\t\n")
    with open(files.subject_phenotypes, "w", encoding="utf-8") as out:
        out.write("SUBJID\tSEX\tAGE\tDTHHRDY\n")
        for subject in samples.subjects:
            sex = int(rng.integers(1, 3))
            age = _AGES[int(rng.integers(0, len(_AGES)))]
            out.write(f"{subject}\t{sex}\t{age}\t\n")


def write_demo(
    directory: str, genes: int = 3000, seed: int = 4, expression: bool = True
) -> DemoFiles:
    """Write the demo files into ``directory``; the same seed gives the same bytes.
    ``genes`` nuclear genes plus the 13 mitochondrial ones; ``expression=False`` skips the
    GCT and its sample tables (fields None) for tests that need the reference only."""
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(seed)
    names = ["tissues.tsv", "genes.gtf.gz", "variants.vcf.gz", "gene_status.tsv"]
    if expression:
        names += ["expression.gct.gz", "sample_attributes.tsv", "subject_phenotypes.tsv"]
        names += ["genotypes.vcf.gz", "qtl", "planted_eqtls.tsv"]
    files = DemoFiles(*(os.path.join(directory, name) for name in names))
    placed = _write_gtf(files.annotation, rng, genes)
    sites = _write_vcf(files.variants, rng, placed)
    counts = _write_status(files.gene_status, rng, [gene.name for gene in placed])
    generator = np.random.default_rng(seed)
    samples = _demo_samples(generator) if expression else None
    sample_counts = None
    if samples is not None:
        sample_counts = np.bincount(samples.tissue, minlength=len(TISSUES)).tolist()
    _write_tissues(files.tissues, rng, counts, sample_counts)
    if samples is not None:
        from omicsgate.ingest import demo_qtl

        gene_names = [gene.name for gene in placed] + [name for name, *_ in MT_GENES]
        subject_of = {s: k for k, s in enumerate(samples.subjects)}
        columns = np.array([subject_of[sample.rsplit("-", 3)[0]] for sample in samples.ids])
        assert files.genotypes is not None and files.planted is not None
        study = demo_qtl.genotypes_and_planted(
            seed, sites, placed, samples.subjects, files.genotypes, files.planted, genes
        )
        expressed = _write_expression(files, generator, gene_names, samples, study.shifts(columns))
        _write_sample_tables(files, generator, samples)
        assert files.qtl is not None
        tpm = np.array([0.0] + [float(t) for t in _tpm_tokens()[1:]])
        demo_qtl.write_qtl_tables(
            files.qtl,
            [t[0] for t in TISSUES],
            study,
            tpm[expressed[: len(placed)]],
            samples.tissue,
            columns,
        )
    return files
