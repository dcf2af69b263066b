"""Synthetic GTEx-style expression inputs (GCT 1.2 + sample attributes + subject phenotypes).

Genes and tissues come from a reference (the demo's GTF and tissue table) so the expression
part can be published against it. Values are log-normal TPMs with per-tissue effects, about
a fifth zeros, printed from a table of 2,048 pre-formatted levels: numpy draws a block of
rows at a time and each row is one ``bytes.join``, so 56,200 x 17,382 streams to disk in a
few minutes with memory bounded by the block.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

LEVELS = 2048
LOG10_MIN, LOG10_MAX = -2.0, 4.0  # 0.01 .. 10,000 TPM; below 0.01 prints as 0
BLOCK_ROWS = 256


@dataclass(frozen=True)
class GctFiles:
    gct: str
    sample_attributes: str
    subject_phenotypes: str
    genes: int
    samples: int


def reference_genes(gtf: str) -> tuple[list[str], list[str]]:
    """(gene_id, gene_name) of every ``gene`` line of a (gzipped) GTF, in file order."""
    ids: list[str] = []
    names: list[str] = []
    attr = re.compile(r'(gene_id|gene_name) "([^"]*)"')
    with gzip.open(gtf, "rt") if gtf.endswith(".gz") else open(gtf) as lines:
        for line in lines:
            fields = line.split("\t", 8)
            if len(fields) == 9 and fields[2] == "gene":
                found: dict[str, str] = dict(attr.findall(fields[8]))
                ids.append(found["gene_id"])
                names.append(found.get("gene_name", found["gene_id"]))
    return ids, names


def reference_tissues(tissues_tsv: str) -> list[str]:
    with open(tissues_tsv) as lines:
        header = lines.readline().rstrip("\n").split("\t")
        column = header.index("tissueSiteDetailId")
        return [line.rstrip("\n").split("\t")[column] for line in lines if line.strip()]


def _tokens() -> list[bytes]:
    values = 10 ** np.linspace(LOG10_MIN, LOG10_MAX, LEVELS - 1)
    return [b"0"] + [f"{v:.4g}".encode() for v in values]


def write_gct(
    directory: str,
    gene_ids: list[str],
    symbols: list[str],
    tissues: list[str],
    samples: int,
    seed: int = 7,
    progress: Callable[[int], None] | None = None,
) -> GctFiles:
    """Write ``expression.gct`` (plain text), ``sample_attributes.tsv`` and
    ``subject_phenotypes.tsv`` into ``directory``; samples are spread over the tissues."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(seed)
    genes = len(gene_ids)
    tissue_of = np.sort(rng.integers(0, len(tissues), samples))
    subjects = max(1, samples // 18)  # GTEx v8: 948 donors, 17,382 samples
    subject_of = rng.integers(0, subjects, samples)
    subject_ids = [f"GTEX-{s:05X}" for s in range(subjects)]
    sample_ids = [
        f"{subject_ids[subject_of[i]]}-{i % 10000:04d}-SM-{i:06X}" for i in range(samples)
    ]
    files = GctFiles(
        os.path.join(directory, "expression.gct"),
        os.path.join(directory, "sample_attributes.tsv"),
        os.path.join(directory, "subject_phenotypes.tsv"),
        genes,
        samples,
    )
    with open(files.sample_attributes, "w") as out:
        out.write("SAMPID\tSMTSD\tSUBJID\n")
        for i, sample in enumerate(sample_ids):
            out.write(f"{sample}\t{tissues[tissue_of[i]]}\t{subject_ids[subject_of[i]]}\n")
    ages = ["20-29", "30-39", "40-49", "50-59", "60-69", "70-79"]
    with open(files.subject_phenotypes, "w") as out:
        out.write("SUBJID\tSEX\tAGE\tDTHHRDY\n")
        for s, subject in enumerate(subject_ids):
            out.write(f"{subject}\t{1 + s % 2}\t{ages[s % len(ages)]}\t{s % 5}\n")
    tokens = _tokens()
    scale = (LEVELS - 2) / (LOG10_MAX - LOG10_MIN)
    with open(files.gct, "wb", buffering=1 << 22) as out:
        out.write(f"#1.2\n{genes}\t{samples}\nName\tDescription\t".encode())
        out.write("\t".join(sample_ids).encode() + b"\n")
        for start in range(0, genes, BLOCK_ROWS):
            stop = min(genes, start + BLOCK_ROWS)
            n = stop - start
            base = rng.normal(0.3, 1.2, (n, 1))  # log10 TPM of the gene
            by_tissue = rng.normal(0.0, 0.4, (n, len(tissues)))
            specific = rng.random(n) < 0.05  # tissue-specific genes: high in one tissue
            by_tissue[specific, rng.integers(0, len(tissues), int(specific.sum()))] += 2.0
            log10 = base + by_tissue[:, tissue_of] + rng.normal(0.0, 0.35, (n, samples))
            levels = np.clip(np.rint((log10 - LOG10_MIN) * scale), 0, LEVELS - 2)
            levels = levels.astype(np.int32) + 1
            levels[log10 < LOG10_MIN + 1.0] = 0  # below 0.1 TPM: mostly zeros, as in GTEx
            for row in range(n):
                gene = start + row
                out.write(f"{gene_ids[gene]}\t{symbols[gene]}\t".encode())
                out.write(b"\t".join([tokens[k] for k in levels[row].tolist()]))
                out.write(b"\n")
            if progress:
                progress(n)
    return files


def read_gct(path: str) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """A small GCT in memory: gene IDs, symbols, sample IDs, genes x samples float32."""
    with gzip.open(path, "rt") if path.endswith(".gz") else open(path) as lines:
        lines.readline()
        genes, samples = (int(x) for x in lines.readline().split("\t")[:2])
        sample_ids = lines.readline().rstrip("\n").split("\t")[2:]
        matrix = np.empty((genes, samples), dtype=np.float32)
        ids, symbols = [], []
        for row, line in enumerate(lines):
            fields = line.rstrip("\n").split("\t")
            ids.append(fields[0])
            symbols.append(fields[1])
            matrix[row] = np.asarray(fields[2:], dtype=np.float32)
    return ids, symbols, sample_ids, matrix
