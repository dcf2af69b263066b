"""Genotype ingestion: VCFs (plain, gzip, BGZF) streamed into TileDB, locally and on moto S3,
read back and checked against a by-hand parse of the text; malformed files stop the part
with file:line:field; the demo simulator's LD blocks; real 1000 Genomes EUR genotypes."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
import tiledb

from omicsgate.ingest import genotypes as gt
from omicsgate.ingest.demo_genotypes import BgzfWriter, block_ids, simulate_genotypes, write_vcf
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.genotypes import GenotypeInputs, write_genotypes
from omicsgate.portal import qtl_schema as qs
from omicsgate.storage import DataStore
from omicsgate.storage._tables import read_all
from omicsgate.storage.writer import PartWriter, draft_parts
from tests.conftest import SHARED

pytestmark = pytest.mark.integration
MISSING = qs.MISSING_DOSAGE
SAMPLES = ["GTEX-1117F", "GTEX-111CU", "GTEX-111FC", "GTEX-111VG", "GTEX-111YS"]
HEADER = (
    "##fileformat=VCFv4.2\n"
    "##contig=<ID=chr1>\n##contig=<ID=chr2>\n##contig=<ID=chrX>\n"
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">\n'
    '##FORMAT=<ID=DS,Number=1,Type=Float,Description="Dosage">\n'
    "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(SAMPLES) + "\n"
)
HEADER_LINES = HEADER.count("\n")
RECORDS = [
    "chr1\t100\trs1\tA\tG\t.\tPASS\t.\tGT\t0/0\t0/1\t1/1\t1|0\t./.",
    "chr1\t150\trs2\tC\tT,G\t50\tPASS\tAF=0.1\tGT:DS\t1/2:1\t0/2:1\t2/2:2\t./1:.\t0|1:1",
    "chr1\t150\trs3\tC\tCA\t.\t.\t.\tGT\t0/1\t0/0\t.\t0/0\t1/1",
    "chr1\t200\trs4\tG\t.\t.\t.\t.\tGT\t0/0\t0/0\t0/0\t0/0\t0/0",  # no ALT: skipped
    "chr2\t5\trs5\tT\tA,C,G\t.\t.\t.\tGT\t0/3\t3|3\t1/2\t0/0\t2/1",
    "chrX\t10\trs6\tA\tT\t.\t.\t.\tGT\t0\t1\t0/1\t.\t1/1",  # haploid males
]


def hand_parse(text: str) -> list[tuple[str, int, str, str, list[int]]]:
    """(chromosome, pos, ref, alt, dosages) per ALT allele, read from the text by hand."""
    rows = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        cells = line.split("\t")
        at = cells[8].split(":").index("GT")
        alts = [] if cells[4] == "." else cells[4].split(",")
        for k, alt in enumerate(alts, start=1):
            values = []
            for cell in cells[9:]:
                alleles = cell.split(":")[at].replace("|", "/").split("/")
                if "." in alleles:
                    values.append(MISSING)
                elif len(alleles) == 1:
                    values.append(2 * (alleles[0] == str(k)))
                else:
                    values.append(sum(a == str(k) for a in alleles))
            rows.append((cells[0], int(cells[1]), cells[3], alt, values))
    return rows


def write_text(path: Path, text: str, compression: str) -> str:
    if compression == "gzip":
        path = path.with_suffix(".vcf.gz")
        with gzip.open(path, "wt") as out:
            out.write(text)
    elif compression == "bgzf":
        path = path.with_suffix(".vcf.bgz")
        with open(path, "wb") as handle:
            writer = BgzfWriter(handle)
            writer.write(text.encode())
            writer.close()
    else:
        path.write_text(text)
    return str(path)


def ingest(store: DataStore, vcf: str, release: str = "r1") -> PartWriter:
    with PartWriter(store, release, "genotypes") as writer:
        write_genotypes(writer, GenotypeInputs(vcf), progress=False)
        writer.commit()
    return writer


def read_dosages(store: DataStore, writer: PartWriter, rows: int) -> np.ndarray:
    with tiledb.open(writer.table_uri(qs.GENOTYPES), ctx=store.ctx) as array:
        return np.asarray(array[0:rows, :]["dosage"])


def read_variants(store: DataStore, writer: PartWriter) -> dict[str, np.ndarray]:
    with tiledb.open(writer.table_uri(qs.GENOTYPE_VARIANTS), ctx=store.ctx) as array:
        columns = read_all(array)
    order = np.argsort(columns["variant_row"])
    return {name: values[order] for name, values in columns.items()}


def one_variant_tiles(store: DataStore, uri: str, row: int) -> dict[str, int]:
    with tiledb.open(uri, ctx=store.ctx) as array:
        tiledb.stats_reset()
        tiledb.stats_enable()
        try:
            array[row : row + 1, :]
            counters = json.loads(tiledb.stats_dump(json=True, print_out=False))["counters"]
        finally:
            tiledb.stats_disable()
    return {
        "tiles": counters["Context.Query.Reader.num_tiles_read"],
        "fragments": counters["Context.subSubarray.precompute_tile_overlap.relevant_fragment_num"],
    }


# Ingestion ----------------------------------------------------------------------------------


@pytest.mark.parametrize("compression", ["plain", "gzip", "bgzf"])
def test_vcf_ingest_matches_hand_parse(
    store: DataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compression: str
) -> None:
    text = HEADER + "\n".join(RECORDS) + "\n"
    vcf = write_text(tmp_path / "calls.vcf", text, compression)
    monkeypatch.setattr(gt, "BATCH_BYTES", 3 * len(SAMPLES))  # 3 variant rows a fragment
    writer = ingest(store, vcf)
    expected = hand_parse(text)
    rows = len(expected)
    assert rows == 8  # 1 + 2 + 1 + 3 + 1: one row per ALT allele, the ALT=. site skipped

    dosages = read_dosages(store, writer, rows)
    assert dosages.dtype == np.int8
    assert dosages.tolist() == [values for *_, values in expected]
    # Spelled out: multi-allelic split, partial missing, haploid chrX counted 0/2.
    assert dosages[1].tolist() == [1, 0, 0, MISSING, 1]  # ALT T of C>T,G
    assert dosages[2].tolist() == [1, 1, 2, MISSING, 0]  # ALT G
    assert dosages[7].tolist() == [0, 2, 1, MISSING, 2]  # chrX

    variants = read_variants(store, writer)
    assert variants["variant_row"].tolist() == list(range(rows))
    assert variants["chromosome"].tolist() == [c for c, *_ in expected]
    assert variants["pos"].tolist() == [p for _, p, *_ in expected]
    assert variants["ref"].tolist() == [r for _, _, r, _, _ in expected]
    assert variants["alt"].tolist() == [a for _, _, _, a, _ in expected]
    assert variants["variantId"].tolist() == [f"{c}:{p}" for c, p, *_ in expected]

    with tiledb.open(writer.table_uri(qs.GENOTYPE_SAMPLES), ctx=store.ctx) as array:
        samples = read_all(array)
    order = np.argsort(samples["genotype_sample"])
    assert samples["sampleId"][order].tolist() == SAMPLES

    record = draft_parts(store, "r1")["genotypes"]
    assert record["tables"][qs.GENOTYPES]["rows"] == rows
    assert record["tables"][qs.GENOTYPE_VARIANTS]["rows"] == rows
    assert record["packed"]["tables"] == [qs.GENOTYPE_SAMPLES]

    # One fragment per batch of whole variant rows; one variant is one tile, one fragment.
    uri = writer.table_uri(qs.GENOTYPES)
    with tiledb.open(uri, ctx=store.ctx) as array:
        schema = array.schema
        assert [schema.domain.dim(i).tile for i in range(2)] == [1, len(SAMPLES)]
        assert schema.attr("dosage").dtype == np.int8
        assert isinstance(schema.attr("dosage").filters[0], tiledb.ZstdFilter)
        assert array.nonempty_domain() == ((0, rows - 1), (0, len(SAMPLES) - 1))
    fragments = tiledb.array_fragments(uri, ctx=store.ctx)
    assert sorted(f.nonempty_domain for f in fragments) == [
        ((r, min(r + 2, rows - 1)), (0, len(SAMPLES) - 1)) for r in range(0, rows, 3)
    ]
    assert one_variant_tiles(store, uri, 4) == {"tiles": 1, "fragments": 1}


def test_blank_lines_are_counted_and_skipped(local_store: DataStore, tmp_path: Path) -> None:
    text = (
        HEADER
        + RECORDS[0]
        + "\n\n"
        + RECORDS[1]
        + "\nchr1\t90\t.\tA\tG\t.\t.\t.\tGT"
        + ("\t0/0" * len(SAMPLES))
    )
    vcf = write_text(tmp_path / "blank.vcf", text + "\n", "plain")
    with pytest.raises(InputError) as caught:
        ingest(local_store, vcf)
    # The header, record, blank line, record: the unsorted record is on the next line.
    assert (caught.value.line, caught.value.field) == (HEADER_LINES + 4, "POS")


# Malformed input ----------------------------------------------------------------------------

GOOD = "chr1\t100\t.\tA\tG\t.\t.\t.\tGT\t0/0\t0/1\t1/1\t0/0\t0/0"


def record(chrom: str = "chr1", pos: str = "100", fmt: str = "GT", *calls: str) -> str:
    cells = list(calls) or ["0/1"] * len(SAMPLES)
    return "\t".join([chrom, pos, ".", "A", "G", ".", ".", ".", fmt, *cells])


MALFORMED = {
    "no GT field": ([GOOD, record("chr1", "120", "DS", *["1"] * 5)], 2, "GT"),
    "unparseable GT": (
        [GOOD, record("chr1", "120", "GT", "0/1", "0/1", "0/x", "0/0", "0/0")],
        2,
        SAMPLES[2],
    ),
    "triploid GT": (
        [GOOD, record("chr1", "120", "GT", "0/1", "0/1/1", "0/1", "0/0", "0/0")],
        2,
        SAMPLES[1],
    ),
    "haploid on an autosome": (
        [record("chr2", "120", "GT", "0/1", "0/1", "0/1", "1", "0/0")],
        1,
        SAMPLES[3],
    ),
    "allele index beyond ALT": (
        [record("chr1", "120", "GT", "0/1", "0/2", "0/1", "0/0", "0/0")],
        1,
        SAMPLES[1],
    ),
    "unsorted positions": ([GOOD, record(pos="99")], 2, "POS"),
    "chromosome comes back": ([GOOD, record("chr2", "5"), record("chr1", "300")], 3, "CHROM"),
    "bad POS": ([GOOD, record(pos="1x")], 2, "POS"),
    "too few columns": ([GOOD, "\t".join(GOOD.split("\t")[:-1])], 2, "columns"),
    "no records": ([], 1, "records"),
    "only ALT=. sites": ([GOOD.replace("\tG\t", "\t.\t")], 2, "records"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("compression", ["plain", "bgzf"])
def test_malformed_vcf_names_file_line_and_field(
    local_store: DataStore, tmp_path: Path, case: str, compression: str
) -> None:
    records, offset, field = MALFORMED[case]
    text = HEADER + "".join(r + "\n" for r in records)
    vcf = write_text(tmp_path / "bad.vcf", text, compression)
    with pytest.raises(InputError) as caught:
        ingest(local_store, vcf)
    assert (caught.value.path, caught.value.line, caught.value.field) == (
        vcf,
        HEADER_LINES + offset,
        field,
    )
    assert str(caught.value).startswith(f"{vcf}:{HEADER_LINES + offset}: field {field}:")
    # No part, no attempt left behind.
    assert draft_parts(local_store, "r1") == {}
    attempts = Path(local_store.root) / "releases" / "r1" / "attempts"
    assert not attempts.exists() or list(attempts.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("", 1, "header"),
        ("##fileformat=VCFv4.2\n", 1, "header"),
        ("##fileformat=VCFv4.2\nchr1\t1\n", 2, "#CHROM"),
        ("##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n", 2, "#CHROM"),
        (HEADER.replace(SAMPLES[3], SAMPLES[1]) + GOOD + "\n", HEADER_LINES, SAMPLES[1]),
    ],
    ids=["empty file", "no #CHROM", "record before #CHROM", "no samples", "duplicate sample"],
)
def test_malformed_header(
    local_store: DataStore, tmp_path: Path, text: str, line: int, field: str
) -> None:
    vcf = write_text(tmp_path / "bad.vcf", text, "plain")
    with pytest.raises(InputError) as caught:
        ingest(local_store, vcf)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert draft_parts(local_store, "r1") == {}


def test_missing_file(local_store: DataStore, tmp_path: Path) -> None:
    with pytest.raises(InputError) as caught:
        ingest(local_store, str(tmp_path / "absent.vcf.gz"))
    assert (caught.value.line, caught.value.field) == (0, "file")


# Demo simulator -------------------------------------------------------------------------------


def r2_by_block(dosages: np.ndarray, blocks: np.ndarray) -> tuple[float, float]:
    keep = dosages.std(axis=1) > 0
    r2 = np.corrcoef(dosages[keep].astype(float)) ** 2
    blocks = blocks[keep]
    same = blocks[:, None] == blocks[None, :]
    off_diagonal = ~np.eye(len(blocks), dtype=bool)
    return float(r2[same & off_diagonal].mean()), float(r2[~same].mean())


def test_simulated_genotypes_have_ld_blocks() -> None:
    rng = np.random.default_rng(8)
    positions = {
        "chr1": np.arange(10_000, 10_000 + 240 * 500, 500),
        "chr2": np.arange(2_000, 2_000 + 160 * 300, 300),
    }
    dosages = simulate_genotypes(rng, positions, 400, block_size=20)
    assert dosages.shape == (400, 400) and dosages.dtype == np.int8
    assert set(np.unique(dosages).tolist()) <= {0, 1, 2}
    blocks = block_ids(positions, 20)
    assert blocks.tolist() == [k // 20 for k in range(400)]  # 240 and 160: whole blocks
    within, between = r2_by_block(dosages, blocks)
    assert within > 0.5
    assert between < 0.02
    assert within > 20 * between
    # Adjacent blocks are as unlinked as distant ones (free recombination between blocks).
    r2 = np.corrcoef(dosages.astype(float)) ** 2
    assert float(r2[0:20, 20:40].mean()) < 0.05


def test_simulated_vcf_round_trips_through_ingestion(
    local_store: DataStore, tmp_path: Path
) -> None:
    rng = np.random.default_rng(3)
    positions = {"chr7": np.arange(1_000, 1_000 + 50 * 37, 37), "chr9": np.arange(5, 905, 30)}
    dosages = simulate_genotypes(rng, positions, 60, block_size=10)
    dosages[3, 7] = -1  # a missing call
    subjects = [f"RAT{k:03d}" for k in range(60)]
    vcf = tmp_path / "demo.vcf.gz"
    write_vcf(str(vcf), dosages, positions, subjects)
    with gzip.open(vcf, "rt") as handle:  # BGZF is gzip
        text = handle.read()
    assert text.startswith("##fileformat=VCFv4.2\n")
    assert vcf.read_bytes()[-28:] == bytes.fromhex(
        "1f8b08040000000000ff0600424302001b0003000000000000000000"
    )
    writer = ingest(local_store, str(vcf))
    stored = read_dosages(local_store, writer, len(dosages))
    assert np.array_equal(stored, dosages)
    assert stored[3, 7] == MISSING
    assert [values for *_, values in hand_parse(text)] == stored.tolist()


# Real data: 1000 Genomes EUR (../shared/data/gwasvcf) -----------------------------------------

GWASVCF = SHARED / "data" / "gwasvcf"
needs_gwasvcf = pytest.mark.skipif(
    not (GWASVCF / "eur.bed").is_file(), reason="../shared/data/gwasvcf is not available"
)


def read_plink(prefix: Path, snps: int) -> tuple[list[list[str]], list[str], np.ndarray]:
    """The first ``snps`` SNPs of a PLINK 1 fileset: bim rows, sample IDs, and A1 counts
    (SNP-major .bed: 2 bits a sample, 00 = A1/A1, 10 = het, 11 = A2/A2, 01 = missing)."""
    bim = [line.split() for line in prefix.with_suffix(".bim").read_text().splitlines()][:snps]
    samples = [line.split()[1] for line in prefix.with_suffix(".fam").read_text().splitlines()]
    raw = np.fromfile(prefix.with_suffix(".bed"), dtype=np.uint8)
    assert raw[:3].tolist() == [0x6C, 0x1B, 0x01]  # SNP-major
    width = (len(samples) + 3) // 4
    packed = raw[3 : 3 + snps * width].reshape(snps, width)
    codes = (packed[:, :, None] >> np.array([0, 2, 4, 6], dtype=np.uint8)) & 3
    codes = codes.reshape(snps, -1)[:, : len(samples)]
    a1 = np.array([2, MISSING, 1, 0], dtype=np.int8)[codes]
    return bim, samples, a1


@needs_gwasvcf
def test_real_eur_genotypes_as_vcf(store: DataStore, tmp_path: Path) -> None:
    """502 EUR samples x 300 SNPs from the PLINK panel, written as a BGZF VCF (REF = A2,
    ALT = A1), ingested and compared with the .bed decoded by hand and the VCF's text."""
    bim, samples, a1 = read_plink(GWASVCF / "eur", 300)
    calls = np.array(["1/1", "./.", "0/1", "0/0"], dtype=object)
    index = np.where(a1 == MISSING, 1, np.where(a1 == 2, 0, np.where(a1 == 1, 2, 3)))
    lines = [
        "##fileformat=VCFv4.2",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
        "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT"])
        + "\t"
        + "\t".join(samples),
    ]
    for k, (chrom, rsid, _, pos, allele1, allele2) in enumerate(bim):
        fixed = [chrom, pos, rsid, allele2, allele1, ".", ".", ".", "GT"]
        lines.append("\t".join(fixed + calls[index[k]].tolist()))
    text = "\n".join(lines) + "\n"
    vcf = write_text(tmp_path / "eur.vcf", text, "bgzf")
    writer = ingest(store, vcf)
    stored = read_dosages(store, writer, 300)
    assert np.array_equal(stored, a1)
    parsed = hand_parse(text)
    for k in (0, 1, 57, 299):
        assert stored[k].tolist() == parsed[k][4]
    variants = read_variants(store, writer)
    assert variants["pos"].tolist() == [int(row[3]) for row in bim]
    assert variants["variantId"][:2].tolist() == ["1:10177", "1:10352"]
    assert variants["ref"][0] == "A" and variants["alt"][0] == "AC"


@needs_gwasvcf
def test_real_gwas_vcf_has_no_gt(local_store: DataStore) -> None:
    """The shared GWAS-VCF holds summary statistics (ES:SE:LP...), not calls: refused at its
    first record, field GT."""
    vcf = str(GWASVCF / "data.vcf.gz")
    with gzip.open(vcf, "rt") as handle:
        header = sum(1 for line in handle if line.startswith("#"))
    with pytest.raises(InputError) as caught:
        ingest(local_store, vcf)
    assert (caught.value.path, caught.value.line, caught.value.field) == (vcf, header + 1, "GT")
    assert draft_parts(local_store, "r1") == {}
