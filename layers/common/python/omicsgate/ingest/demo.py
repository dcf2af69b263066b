"""A deterministic demo data set in the standard formats the ingest CLI reads.

13 RatGTEx v4 tissues, a few thousand rat-like genes with transcripts and exons on
several chromosomes (GTF), variant sites (VCF) and per-tissue gene status (TSV).
"""

from __future__ import annotations

import gzip
import io
import os
import random
from dataclasses import dataclass

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


def _write_gtf(path: str, rng: random.Random, genes: int) -> list[tuple[str, str, int, int]]:
    placed: list[tuple[str, str, int, int]] = []
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
                placed.append(
                    _write_gene(out, rng, chromosome, position, strand, gene_id, name, description)
                )
    return placed


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


def _write_vcf(path: str, rng: random.Random, genes: list[tuple[str, str, int, int]]) -> None:
    sites = set()
    for _, chromosome, start, end in genes:
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


def _write_tissues(path: str, rng: random.Random, counts: dict[str, tuple[int, int]]) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("\t".join(TISSUE_FIELDS) + "\n")
        for tissue_id, detail, site, colour in TISSUES:
            rgb = ",".join(str(int(colour[i : i + 2], 16)) for i in (0, 2, 4))
            samples = rng.randint(80, 420)
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
            out.write("\t".join(map(str, row)) + "\n")


def write_demo(directory: str, genes: int = 3000, seed: int = 4) -> DemoFiles:
    """Write the demo files into ``directory``; the same seed gives the same bytes."""
    os.makedirs(directory, exist_ok=True)
    rng = random.Random(seed)
    files = DemoFiles(
        *(
            os.path.join(directory, name)
            for name in ("tissues.tsv", "genes.gtf.gz", "variants.vcf.gz", "gene_status.tsv")
        )
    )
    placed = _write_gtf(files.annotation, rng, genes)
    _write_vcf(files.variants, rng, placed)
    counts = _write_status(files.gene_status, rng, [name for name, *_ in placed])
    _write_tissues(files.tissues, rng, counts)
    return files
