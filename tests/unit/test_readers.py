"""Input readers: real files parse, malformed ones name file, line and field."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from omicsgate.ingest.annotation import read_annotation
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.tables import TISSUE_COLUMNS, read_table
from omicsgate.ingest.variants import read_vcf
from tests.conftest import SHARED

pytestmark = pytest.mark.unit
GWAS_VCF = SHARED / "data" / "gwasvcf" / "data.vcf.gz"

GFF3 = """##gff-version 3
1\tensembl\tgene\t100\t900\t.\t-\t.\tID=gene:ENSRNOG1;Name=Abc1;\
description=ABC one [Source:RGD Symbol%3BAcc:1]
1\tensembl\tmRNA\t100\t900\t.\t-\t.\tID=transcript:ENSRNOT1;Parent=gene:ENSRNOG1
1\tensembl\texon\t700\t900\t.\t-\t.\tParent=transcript:ENSRNOT1;exon_id=E1;rank=1
1\tensembl\texon\t100\t300\t.\t-\t.\tParent=transcript:ENSRNOT1;exon_id=E2;rank=2
"""
GTF = """chr2\tx\tgene\t10\t50\t.\t+\t.\tgene_id "G1"; gene_name "Foo";
chr2\tx\texon\t10\t20\t.\t+\t.\tgene_id "G1"; transcript_id "T1";
chr2\tx\texon\t30\t50\t.\t+\t.\tgene_id "G1"; transcript_id "T1";
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_real_gwas_vcf_sites_match_a_plain_reading() -> None:
    sites = [s for batch in read_vcf(str(GWAS_VCF), batch=10) for s in batch]
    with gzip.open(GWAS_VCF, "rt") as handle:
        records = [line.split("\t")[:5] for line in handle if not line.startswith("#")]
    expected = [(c, int(p), r, a) for c, p, _, r, alts in records for a in alts.split(",")]
    assert [(s.chromosome, s.pos, s.ref, s.alt) for s in sites] == expected
    assert len(records) == 92


def test_gff3_genes_exons_and_descriptions(tmp_path: Path) -> None:
    (gene,) = read_annotation(write(tmp_path, "a.gff3", GFF3))
    assert (gene.gene_id, gene.strand, gene.tss) == ("Abc1", "-", 900)
    assert gene.description == "ABC one"
    assert [(e.exon_id, e.exon_number, e.transcript_id) for e in gene.exons] == [
        ("E1", 1, "ENSRNOT1"),
        ("E2", 2, "ENSRNOT1"),
    ]


def test_gtf_without_exon_numbers_counts_them(tmp_path: Path) -> None:
    (gene,) = read_annotation(write(tmp_path, "a.gtf", GTF))
    assert gene.tss == 10
    assert [(e.exon_id, e.exon_number) for e in gene.exons] == [("T1_1", 1), ("T1_2", 2)]


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        (GTF.replace("\t10\t50", "\tten\t50"), 1, "start"),
        (GTF.replace("\t30\t50", "\t30\t5"), 3, "end"),
        (
            GTF.replace(
                '+\t.\tgene_id "G1"; transcript_id', '?\t.\tgene_id "G1"; transcript_id', 1
            ),
            2,
            "strand",
        ),
        (
            GTF.replace('gene_id "G1"; transcript_id "T1";\nchr2', 'transcript_id "T1";\nchr2', 1),
            2,
            "gene_id",
        ),
        (
            GTF + GTF.splitlines(keepends=True)[0].replace("G1", "G2").replace("Foo", "FOO"),
            4,
            "gene_name",
        ),
        (GTF.replace("\t.\t+", "\t+", 1), 1, "columns"),
    ],
)
def test_malformed_annotation_names_line_and_field(
    tmp_path: Path, text: str, line: int, field: str
) -> None:
    path = write(tmp_path, "bad.gtf", text)
    with pytest.raises(InputError) as caught:
        read_annotation(path)
    assert (caught.value.path, caught.value.line, caught.value.field) == (path, line, field)
    assert str(caught.value).startswith(f"{path}:{line}: field {field}:")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("chr1\tx\t.\tA\tG\t.\t.\t.", "POS"),
        ("chr1\t5\t.\tQ\tG\t.\t.\t.", "REF"),
        ("chr1\t5\t.\tA\tG,!\t.\t.\t.", "ALT"),
        ("chr1\t5\t.\tA", "columns"),
    ],
)
def test_malformed_vcf_names_line_and_field(tmp_path: Path, body: str, field: str) -> None:
    path = write(
        tmp_path,
        "bad.vcf",
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\t"
        f"FILTER\tINFO\nchr1\t1\t.\tA\tC\t.\t.\t.\n{body}\n",
    )
    with pytest.raises(InputError) as caught:
        list(read_vcf(path))
    assert (caught.value.line, caught.value.field) == (4, field)


def test_tissue_table_missing_column_and_bad_count(tmp_path: Path) -> None:
    header = "\t".join(TISSUE_COLUMNS)
    path = write(tmp_path, "t.tsv", header.replace("eGeneCount", "eGenes") + "\n")
    with pytest.raises(InputError, match="field eGeneCount: column missing"):
        list(read_table(path, TISSUE_COLUMNS))
    row = [
        "IL",
        "Infralimbic",
        "Brain",
        "IL",
        "377eb8",
        "55,126,184",
        "d",
        "di",
        "-3",
        "1",
        "1",
        "1",
        "true",
    ]
    path = write(tmp_path, "t.tsv", header + "\n" + "\t".join(row) + "\n")
    with pytest.raises(InputError, match=r":2: field rnaSeqSampleCount: -3 is negative"):
        list(read_table(path, TISSUE_COLUMNS))
