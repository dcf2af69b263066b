"""Expression inputs: GCT header, TPM rows, sample tables, grouping and summaries."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from omicsgate.ingest.demo import MT_GENES, TISSUES, write_demo
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.expression import (
    group_columns,
    is_mitochondrial,
    parse_sex,
    parse_values,
    read_gct_header,
    read_sample_attributes,
    read_subject_phenotypes,
    scan_bed,
    subject_of,
    summarize,
    top_genes,
)
from omicsgate.ingest.textfile import numbered_lines

pytestmark = pytest.mark.unit
SAMPLES = ["S1", "S2", "S3"]
BED_HEADER = "#chr\tstart\tend\tphenotype_id\tR1\n"


def write(path: Path, text: str, gz: bool = False) -> str:
    if gz:
        with gzip.open(path, "wt") as out:
            out.write(text)
    else:
        path.write_text(text)
    return str(path)


def error(call: Callable[[], object]) -> InputError:
    with pytest.raises(InputError) as caught:
        call()
    return caught.value


# GCT header --------------------------------------------------------------------------


def header(path: str) -> tuple[int, list[str]]:
    return read_gct_header(path, numbered_lines(path))


def test_gct_header_gives_rows_and_samples(tmp_path: Path) -> None:
    text = "#1.2\n2\t3\nName\tDescription\tS1\tS2\tS3\nG1\tg1\t1\t2\t3\n"
    path = write(tmp_path / "a.gct.gz", text, gz=True)
    assert header(path) == (2, SAMPLES)


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("", 1, "header"),
        ("#1.3\n1\t1\nName\tDescription\tS1\n", 1, "header"),
        ("Name\tDescription\tS1\n", 1, "header"),
        ("#1.2\n", 2, "dimensions"),
        ("#1.2\n1 x 2\nName\tDescription\tS1\n", 2, "dimensions"),
        ("#1.2\n1\t2\n", 3, "header"),
        ("#1.2\n1\t2\nName\tDescription\tS1\n", 3, "header"),
        ("#1.2\n1\t1\nId\tDescription\tS1\n", 3, "header"),
        ("#1.2\n1\t2\nName\tDescription\tS1\tS1\n", 3, "S1"),
        ("#1.2\n0\t1\nName\tDescription\tS1\n", 2, "dimensions"),
    ],
)
def test_bad_gct_header_names_line_and_field(
    tmp_path: Path, text: str, line: int, field: str
) -> None:
    path = write(tmp_path / "bad.gct", text)
    found = error(lambda: header(path))
    assert (found.path, found.line, found.field) == (path, line, field)
    assert str(found).startswith(f"{path}:{line}: field {field}:")


# TPM rows ------------------------------------------------------------------------------


def test_values_parse_as_float32_rows() -> None:
    values = parse_values("f", [4, 5], ["0\t1.5\t2e3", "0.25\t7\t0.001"], SAMPLES)
    assert values.dtype == np.float32
    assert values.tolist() == np.array([[0, 1.5, 2000], [0.25, 7, 0.001]], np.float32).tolist()


@pytest.mark.parametrize(
    ("rests", "line", "field", "problem"),
    [
        (["1\t2\t3", "1\tx\t3"], 5, "S2", "'x' is not a number"),
        (["1\t2\t3", "1\t\t3"], 5, "S2", "'' is not a number"),
        (["1\t2", "1\t2\t3"], 4, "cells", "2 values, the header names 3"),
        (["1\t2\t3", "1\t2\t3\t4"], 5, "cells", "4 values"),
        (["1\t2\t3", ""], 5, "cells", "1 values"),
        (["1\t2\tnan", "1\t2\t3"], 4, "S3", "'nan' is not a finite number"),
        (["1\t2\t3", "inf\t2\t3"], 5, "S1", "'inf' is not a finite number"),
        (["1\t-0.5\t3", "1\t2\t3"], 4, "S2", "'-0.5' is a negative TPM"),
        (["1\t1_0\t3", "1\t2\t3"], 4, "S2", "'1_0' is not a number"),
    ],
)
def test_bad_values_name_line_and_sample(
    rests: list[str], line: int, field: str, problem: str
) -> None:
    found = error(lambda: parse_values("m.gct", [4, 5], rests, SAMPLES))
    assert (found.line, found.field) == (line, field)
    assert problem in found.problem


# Sample tables -------------------------------------------------------------------------


def test_subject_is_the_first_two_dash_fields() -> None:
    assert subject_of("GTEX-1117F-0226-SM-5GZZ7") == "GTEX-1117F"
    assert subject_of("00078A1E9F") == "00078A1E9F"
    assert subject_of("RAT-12") == "RAT-12"


def test_sample_attributes_with_and_without_subjid(tmp_path: Path) -> None:
    path = write(
        tmp_path / "attrs.tsv",
        "SAMPID\tSMTS\tSMTSD\tSMRIN\n"
        "GTEX-1117F-0226-SM-5GZZ7\tAdipose\tAdipose - Subcutaneous\t6.8\n"
        "GTEX-1117F-0003-SM-58Q7G\tBlood\t\t\n",
    )
    samples = read_sample_attributes(path)
    first = samples["GTEX-1117F-0226-SM-5GZZ7"]
    assert (first.tissue, first.subject, first.line) == ("Adipose - Subcutaneous", "GTEX-1117F", 2)
    assert samples["GTEX-1117F-0003-SM-58Q7G"].tissue == ""
    path = write(tmp_path / "a2.tsv", "SUBJID\tSAMPID\tSMTSD\nR1\tX-1-2\tLiver\n")
    assert read_sample_attributes(path)["X-1-2"].subject == "R1"


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("", 1, "header"),
        ("SAMPID\tSMTS\nA\tLiver\n", 1, "SMTSD"),
        ("SMTSD\nLiver\n", 1, "SAMPID"),
        ("SAMPID\tSMTSD\nA\tLiver\nB\tEye\nA\tEye\n", 4, "SAMPID"),
        ("SAMPID\tSMTS\tSMTSD\nA\tLiver\n", 2, "SMTSD"),
        ("SAMPID\tSMTSD\n\tLiver\n", 2, "SAMPID"),
    ],
)
def test_bad_sample_attributes(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path / "attrs.tsv", text)
    found = error(lambda: read_sample_attributes(path))
    assert (found.line, found.field) == (line, field)


def test_subject_phenotypes(tmp_path: Path) -> None:
    path = write(
        tmp_path / "subjects.tsv",
        "SUBJID\tSEX\tAGE\tDTHHRDY\nGTEX-1117F\t2\t60-69\t4\nGTEX-111CU\t1\t50-59\t0\nR3\t\t\t\n",
    )
    subjects = read_subject_phenotypes(path)
    assert subjects["GTEX-1117F"].sex == "female" and subjects["GTEX-1117F"].age == "60-69"
    assert subjects["GTEX-111CU"].sex == "male"
    assert (subjects["R3"].sex, subjects["R3"].age) == ("", "")


def test_bad_subject_phenotypes(tmp_path: Path) -> None:
    path = write(tmp_path / "s.tsv", "SUBJID\tSEX\tAGE\nA\t1\t20-29\nB\t3\t20-29\n")
    found = error(lambda: read_subject_phenotypes(path))
    assert (found.line, found.field) == (3, "SEX") and "'3'" in found.problem
    path = write(tmp_path / "d.tsv", "SUBJID\tSEX\nA\t1\nA\t2\n")
    assert (error(lambda: read_subject_phenotypes(path)).line, "SUBJID") == (3, "SUBJID")


def test_sex_codes() -> None:
    assert [parse_sex("f", 1, c) for c in ("1", "2", "M", "female", "")] == [
        "male",
        "female",
        "male",
        "female",
        "",
    ]
    assert error(lambda: parse_sex("f", 7, "9")).field == "SEX"


# Grouping and summaries ----------------------------------------------------------------


def test_columns_grouped_by_sorted_tissue_keeping_file_order() -> None:
    layout = group_columns(["Liver", "Brain", "Liver", "Adipose", "Brain", "Liver"])
    assert layout.tissues == ["Adipose", "Brain", "Liver"]
    assert layout.order.tolist() == [3, 1, 4, 0, 2, 5]
    assert layout.ranges == [(0, 1), (1, 3), (3, 6)]


def test_summary_medians_and_gtex_expressed_rule() -> None:
    rng = np.random.default_rng(1)
    block = rng.lognormal(0, 2, (40, 23)).astype(np.float32)
    block[rng.random(block.shape) < 0.5] = 0
    ranges = [(0, 10), (10, 15), (15, 23)]
    medians, expressed = summarize(block, ranges)
    for t, (s, e) in enumerate(ranges):
        assert np.array_equal(medians[:, t], np.median(block[:, s:e], axis=1))
        share = (block[:, s:e] >= np.float32(0.1)).mean(axis=1)
        assert np.array_equal(expressed[:, t], (share >= 0.2 - 1e-12).astype(np.uint8))
    # Exactly 20 %: 3 of 15 samples count (0.2 * 15 is 3.0000000000000004 in floating point).
    edge = np.zeros((1, 15), np.float32)
    edge[0, :3] = 0.1
    assert summarize(edge, [(0, 15)])[1][0, 0] == 1
    edge[0, 2] = 0.0999
    assert summarize(edge, [(0, 15)])[1][0, 0] == 0


def test_summary_with_bed_gaps_is_nan_aware() -> None:
    block = np.array([[1, 2, 9, np.nan, np.nan], [0, 0, 0.5, 4, 5]], dtype=np.float32)
    medians, expressed = summarize(block, [(0, 3), (3, 5)])
    assert medians[0, 0] == 2 and np.isnan(medians[0, 1]) and expressed[0, 1] == 0
    assert medians[1].tolist() == [0, 4.5] and expressed[1].tolist() == [1, 1]


def test_top_genes_by_median_with_and_without_mt() -> None:
    rng = np.random.default_rng(3)
    medians = rng.lognormal(0, 3, (300, 4)).astype(np.float32)
    medians[7] = np.nan
    symbols = [f"G{i}" for i in range(300)]
    for i, row in enumerate((11, 12, 13)):
        symbols[row] = ["MT-CO1", "Mt-nd1", "mt-atp6"][i]
        medians[row] = 1e6
    top = top_genes(medians, symbols)
    assert len(top["rank"]) == 4 * 2 * 50
    for t in range(4):
        for filter_mt in (0, 1):
            chosen = (top["tissue_index"] == t) & (top["filterMt"] == filter_mt)
            column = np.where(np.isnan(medians[:, t]), -np.inf, medians[:, t])
            if filter_mt:
                column[[11, 12, 13]] = -np.inf
            expected = np.argsort(-column, kind="stable")[:50]
            assert top["gene_row"][chosen].tolist() == expected.tolist()
            assert top["rank"][chosen].tolist() == list(range(50))
            assert np.array_equal(top["median"][chosen], medians[expected, t])
            assert (set(top["gene_row"][chosen].tolist()) & {11, 12, 13}) == (
                set() if filter_mt else {11, 12, 13}
            )
    assert is_mitochondrial("MT-ND1") and not is_mitochondrial("Mtor")


# BED first pass ------------------------------------------------------------------------


def test_bed_scan_reads_samples_and_genes(tmp_path: Path) -> None:
    text = "#chr\tstart\tend\tphenotype_id\tR1\tR2\nchr1\t9\t10\tG1\t1\t2\nchr1\t19\t20\tG2\t3\t4\n"
    bed = scan_bed("Liver", write(tmp_path / "l.bed.gz", text, gz=True))
    assert (bed.tissue, bed.samples, bed.genes) == ("Liver", ["R1", "R2"], ["G1", "G2"])


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("", 1, "header"),
        ("chr\tstart\tend\tid\tR1\n", 1, "header"),
        ("#chr\tstart\tend\tphenotype_id\n", 1, "header"),
        ("#chr\tstart\tend\tphenotype_id\tR1\tR1\n", 1, "R1"),
        ("#chr\tstart\tend\tphenotype_id\tR1\n", 2, "phenotype_id"),
        ("#chr\tstart\tend\tphenotype_id\tR1\nchr1\t1\t2\tG\t1\t2\n", 2, "cells"),
        (
            "#chr\tstart\tend\tphenotype_id\tR1\nchr1\t1\t2\tG\t1\nchr1\t1\t2\tG\t1\n",
            3,
            "phenotype_id",
        ),
    ],
)
def test_bad_bed_names_line_and_field(tmp_path: Path, text: str, line: int, field: str) -> None:
    path = write(tmp_path / "bad.bed", text)
    found = error(lambda: scan_bed("Liver", path))
    assert (found.path, found.line, found.field) == (path, line, field)


# Demo ------------------------------------------------------------------------------------


def test_demo_expression_files_are_deterministic_and_gtex_shaped(tmp_path: Path) -> None:
    first = write_demo(str(tmp_path / "a"), genes=60, seed=5)
    second = write_demo(str(tmp_path / "b"), genes=60, seed=5)
    for name in ("expression", "sample_attributes", "subject_phenotypes", "annotation"):
        assert Path(getattr(first, name)).read_bytes() == Path(getattr(second, name)).read_bytes()
    assert first.expression and first.sample_attributes and first.subject_phenotypes
    rows, samples = header(first.expression)
    assert rows == 60 + len(MT_GENES)
    attributes = read_sample_attributes(first.sample_attributes)
    tissues = [attributes[s].tissue for s in samples]
    counts = {t: tissues.count(t) for t in set(tissues)}
    assert set(counts) == {t[0] for t in TISSUES}
    assert all(120 <= c <= 300 for c in counts.values())
    assert tissues != sorted(tissues), "GCT columns are sorted by sample ID, not by tissue"
    subjects = read_subject_phenotypes(first.subject_phenotypes)
    assert {attributes[s].subject for s in samples} <= set(subjects)
    with gzip.open(first.expression, "rt") as lines:
        body = [line.rstrip("\n").split("\t") for line in list(lines)[3:]]
    names = [cells[0] for cells in body]
    assert names == [cells[1] for cells in body]
    assert names[-len(MT_GENES) :] == [m[0] for m in MT_GENES]
    values = np.array([cells[2:] for cells in body], dtype=np.float32)
    mt_median = np.median(values[-len(MT_GENES) :])
    assert mt_median > 1000 and mt_median > 20 * np.median(values[: -len(MT_GENES)])
    assert (values == 0).mean() > 0.02 and (values >= 0).all()
    no_expression = write_demo(str(tmp_path / "c"), genes=20, seed=5, expression=False)
    assert no_expression.expression is None
    assert not (tmp_path / "c" / "expression.gct.gz").exists()
