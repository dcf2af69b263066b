"""Expression ingestion: GCT and BED matrices streamed into TileDB, locally and on moto S3,
read back and checked against numpy on the raw matrix; malformed files stop the part."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import tiledb

from omicsgate.ingest import expression as ex
from omicsgate.ingest.demo import MT_GENES, write_demo
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.expression import ExpressionInputs, write_expression
from omicsgate.portal import expression_schema as xs
from omicsgate.storage import DataStore
from omicsgate.storage._tables import read_all
from omicsgate.storage.writer import PartWriter, draft_parts

pytestmark = pytest.mark.integration
TISSUES = ["Liver", "Brain - Cortex", "Adipose"]  # first-appearance order differs from sorted


@dataclass
class Matrix:
    """A GTEx-style data set written by the test, with the truth to compare against."""

    inputs: ExpressionInputs
    genes: list[str]
    symbols: list[str]
    samples: list[str]  # GCT column order
    tissue: list[str]  # per GCT column
    values: np.ndarray  # genes x samples, float32, as printed


def make_gct(directory: Path, genes: int = 83, seed: int = 1) -> Matrix:
    rng = np.random.default_rng(seed)
    tissue = [TISSUES[i] for i in rng.integers(0, len(TISSUES), 47)]
    tissue[:3] = TISSUES  # every tissue has samples
    subjects = [f"GTEX-{k:04X}" for k in range(20)]
    samples = [f"{subjects[i % 20]}-{i:04d}-SM-{i * 7:05X}" for i in range(len(tissue))]
    names = [f"ENSG{g:011d}.{g % 7}" for g in range(genes)]
    symbols = [f"Gene{g}" for g in range(genes)]
    symbols[3], symbols[10], symbols[40] = "MT-CO1", "Mt-nd1", "mt-Atp6"
    levels = rng.normal(0.5, 1.5, (genes, 1)) + rng.normal(0, 0.4, (genes, len(samples)))
    levels[[3, 10, 40]] = 4 + rng.normal(0, 0.2, (3, len(samples)))
    values = np.round(10**levels, 3)
    values[rng.random(values.shape) < 0.25] = 0
    values[5, :] = 0.1  # exactly the threshold, in every tissue
    text = [f"#1.2\n{genes}\t{len(samples)}\n", "\t".join(["Name", "Description", *samples])]
    for g in range(genes):
        text.append("\n" + "\t".join([names[g], symbols[g], *map(str, values[g].tolist())]))
    gct = directory / "matrix.gct.gz"
    with gzip.open(gct, "wt") as out:
        out.write("".join(text) + "\n")
    attributes = directory / "attributes.tsv"
    rows = [f"{s}\t{t.split(' ')[0]}\t{t}\t7.1" for s, t in zip(samples, tissue, strict=True)]
    rows.append("GTEX-0000-0001-SM-DNA\tBlood\t\t")  # listed by GTEx, not sequenced
    attributes.write_text("SAMPID\tSMTS\tSMTSD\tSMRIN\n" + "\n".join(rows) + "\n")
    phenotypes = directory / "phenotypes.tsv"
    lines = [
        f"{s}\t{1 + k % 2}\t{20 + 10 * (k % 5)}-{29 + 10 * (k % 5)}"
        for k, s in enumerate(subjects[:-1])
    ]
    phenotypes.write_text("SUBJID\tSEX\tAGE\n" + "\n".join(lines) + "\n")
    return Matrix(
        ExpressionInputs(str(gct), str(attributes), str(phenotypes)),
        names,
        symbols,
        samples,
        tissue,
        values.astype(np.float32),
    )


def ingest(store: DataStore, inputs: ExpressionInputs, release: str = "r1") -> PartWriter:
    with PartWriter(store, release, "expression") as writer:
        write_expression(writer, inputs, progress=False)
        writer.commit()
    return writer


def open_table(store: DataStore, writer: PartWriter, name: str) -> tiledb.Array:
    return tiledb.open(writer.table_uri(name), ctx=store.ctx)


def table(store: DataStore, writer: PartWriter, name: str, order: str) -> dict[str, np.ndarray]:
    with open_table(store, writer, name) as array:
        columns = read_all(array)
    index = np.argsort(columns[order], kind="stable")
    return {name: values[index] for name, values in columns.items()}


def grouped_order(tissue: list[str]) -> list[int]:
    """The documented layout: tissues sorted by label, then file order."""
    return sorted(range(len(tissue)), key=lambda i: (tissue[i], i))


def one_gene_tiles(store: DataStore, uri: str, row: int) -> dict[str, int]:
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


# GCT ---------------------------------------------------------------------------------------


def test_gct_ingest_matches_numpy(
    store: DataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = make_gct(tmp_path)
    genes, samples = data.values.shape
    monkeypatch.setattr(ex, "BATCH_BYTES", 10 * samples * 4)  # 10 genes a fragment
    writer = ingest(store, data.inputs)
    order = grouped_order(data.tissue)
    expected = data.values[:, order]
    tissues = sorted(TISSUES)

    with open_table(store, writer, xs.EXPRESSION) as array:
        schema = array.schema
        assert not schema.sparse and schema.attr("tpm").dtype == np.float32
        assert [schema.domain.dim(i).tile for i in range(2)] == [1, samples]
        assert [schema.domain.dim(i).domain for i in range(2)] == [
            (0, genes - 1),
            (0, samples - 1),
        ]
        assert np.array_equal(array[:, :]["tpm"], expected)
    # One fragment per batch of whole gene rows, never overlapping: one gene, one tile.
    fragments = tiledb.array_fragments(writer.table_uri(xs.EXPRESSION), ctx=store.ctx)
    domains = sorted(f.nonempty_domain for f in fragments)
    assert [d[0] for d in domains] == [(r, min(r + 9, genes - 1)) for r in range(0, genes, 10)]
    assert all(d[1] == (0, samples - 1) for d in domains)
    assert one_gene_tiles(store, writer.table_uri(xs.EXPRESSION), 47) == {
        "tiles": 1,
        "fragments": 1,
    }

    found = table(store, writer, xs.EXPRESSION_TISSUES, "tissue_index")
    assert found["tissue"].tolist() == tissues
    counts = [data.tissue.count(t) for t in tissues]
    assert found["sampleCount"].tolist() == counts
    assert found["column_start"].tolist() == np.cumsum([0, *counts[:-1]]).tolist()
    assert found["column_end"].tolist() == np.cumsum(counts).tolist()

    found = table(store, writer, xs.EXPRESSION_GENES, "gene_row")
    assert found["gene_row"].tolist() == list(range(genes))
    assert found["geneId"].tolist() == data.genes
    assert found["geneSymbol"].tolist() == data.symbols

    with open_table(store, writer, xs.EXPRESSION_SUMMARY) as array:
        summary = array[:, :]
    medians = np.empty((genes, 3), np.float32)
    for t, name in enumerate(tissues):
        block = data.values[:, [i for i, x in enumerate(data.tissue) if x == name]]
        medians[:, t] = np.median(block, axis=1)
        share = (block >= np.float32(0.1)).mean(axis=1)
        assert summary["expressed"][:, t].tolist() == (share >= 0.2 - 1e-12).tolist()
    assert np.array_equal(summary["median"], medians)
    assert summary["expressed"][5].tolist() == [1, 1, 1]  # TPM 0.1 counts (>=)

    top = table(store, writer, xs.EXPRESSION_TOP, "rank")
    mt = [3, 10, 40]
    for t in range(3):
        for filter_mt in (0, 1):
            chosen = (top["tissue_index"] == t) & (top["filterMt"] == filter_mt)
            column = medians[:, t].copy()
            if filter_mt:
                column[mt] = -np.inf
            best = np.argsort(-column, kind="stable")[:50]
            assert top["gene_row"][chosen].tolist() == best.tolist()
            assert top["rank"][chosen].tolist() == list(range(50))
            assert np.array_equal(top["median"][chosen], medians[best, t])
        assert set(mt) <= set(top["gene_row"][(top["tissue_index"] == t) & (top["filterMt"] == 0)])

    found = table(store, writer, xs.SAMPLES, "column")
    assert found["sampleId"].tolist() == [data.samples[i] for i in order]
    assert found["tissue"].tolist() == [data.tissue[i] for i in order]
    subjects = [data.samples[i].rsplit("-", 3)[0] for i in order]
    assert found["subjectId"].tolist() == subjects
    last = "GTEX-0013"  # left out of the phenotypes: no sex, no age
    sexes = ["" if s == last else ["male", "female"][int(s[5:], 16) % 2] for s in subjects]
    assert found["sex"].tolist() == sexes
    ages = [
        "" if s == last else f"{20 + 10 * (int(s[5:], 16) % 5)}-{29 + 10 * (int(s[5:], 16) % 5)}"
        for s in subjects
    ]
    assert found["ageBracket"].tolist() == ages

    record = draft_parts(store, "r1")["expression"]
    assert set(record["tables"]) == {
        xs.EXPRESSION,
        xs.EXPRESSION_GENES,
        xs.EXPRESSION_TISSUES,
        xs.EXPRESSION_SUMMARY,
        xs.EXPRESSION_TOP,
        xs.SAMPLES,
    }
    assert set(record["packed"]["tables"]) == {xs.EXPRESSION_TISSUES, xs.EXPRESSION_TOP}


def test_demo_gct_ingests_with_medians_numpy_agrees_with(
    local_store: DataStore, tmp_path: Path
) -> None:
    files = write_demo(str(tmp_path / "demo"), genes=120, seed=8)
    assert files.expression and files.sample_attributes and files.subject_phenotypes
    writer = ingest(
        local_store,
        ExpressionInputs(files.expression, files.sample_attributes, files.subject_phenotypes),
    )
    with gzip.open(files.expression, "rt") as lines:
        rows = [line.rstrip("\n").split("\t") for line in lines][2:]
    samples = rows[0][2:]
    values = np.array([r[2:] for r in rows[1:]], dtype=np.float32)
    attributes = ex.read_sample_attributes(files.sample_attributes)
    tissue = [attributes[s].tissue for s in samples]
    tissues = sorted(set(tissue))
    with open_table(local_store, writer, xs.EXPRESSION_SUMMARY) as array:
        medians = array[:, :]["median"]
    for t, name in enumerate(tissues):
        block = values[:, [i for i, x in enumerate(tissue) if x == name]]
        assert np.array_equal(medians[:, t], np.median(block, axis=1))
    top = table(local_store, writer, xs.EXPRESSION_TOP, "rank")
    genes = table(local_store, writer, xs.EXPRESSION_GENES, "gene_row")["geneSymbol"]
    first = top["gene_row"][(top["tissue_index"] == 0) & (top["filterMt"] == 0)]
    filtered = top["gene_row"][(top["tissue_index"] == 0) & (top["filterMt"] == 1)]
    assert sorted(genes[first[:13]]) == sorted(m[0] for m in MT_GENES)  # Mt- genes lead
    assert not any(g.lower().startswith("mt-") for g in genes[filtered])
    found = table(local_store, writer, xs.SAMPLES, "column")
    assert set(found["sex"].tolist()) == {"male", "female"}
    assert len(found["sampleId"]) == len(samples)


# BED ---------------------------------------------------------------------------------------


def write_bed(path: Path, genes: list[str], samples: list[str], values: np.ndarray) -> str:
    lines = ["\t".join(["#chr", "start", "end", "phenotype_id", *samples])]
    for i, gene in enumerate(genes):
        cells = [f"chr{1 + i % 3}", str(1000 * i), str(1000 * i + 1), gene]
        lines.append("\t".join([*cells, *map(str, values[i].tolist())]))
    with gzip.open(path, "wt") as out:
        out.write("\n".join(lines) + "\n")
    return str(path)


def test_bed_ingest_fills_gaps_with_nan(
    store: DataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(4)
    union = [f"ENSRNOG{g:011d}" for g in range(30)]
    plan = {  # tissue -> (gene indices in file order, rats)
        "Liver": ([*range(0, 30, 2), 1], ["R1", "R2", "R3", "R4"]),
        "BLA": (list(range(25)), ["R2", "R5", "R6"]),
        "Eye": ([29, 3, 0, 7], ["R1", "R7"]),
    }
    truth = {}
    bed = {}
    for tissue, (rows, rats) in plan.items():
        values = np.round(rng.lognormal(0, 2, (len(rows), len(rats))), 2).astype(np.float32)
        values[rng.random(values.shape) < 0.3] = 0
        bed[tissue] = write_bed(
            tmp_path / f"{tissue}.bed.gz", [union[r] for r in rows], rats, values
        )
        truth[tissue] = (rows, rats, values)
    columns = sum(len(r) for _, r in plan.values())
    monkeypatch.setattr(ex, "WINDOW_BYTES", 7 * columns * 4)  # 7 gene rows a window
    subjects = tmp_path / "rats.tsv"
    subjects.write_text("SUBJID\tSEX\tAGE\nR1\tM\t\nR2\tF\t\nR5\t2\t\n")
    writer = ingest(store, ExpressionInputs(bed=bed, subject_phenotypes=str(subjects)))

    # Gene rows: union in order of first appearance over the tissues in label order.
    genes = table(store, writer, xs.EXPRESSION_GENES, "gene_row")["geneId"].tolist()
    order_expected: list[str] = []
    for tissue in sorted(plan):
        for r in plan[tissue][0]:
            if union[r] not in order_expected:
                order_expected.append(union[r])
    assert genes == order_expected
    row_of = {g: i for i, g in enumerate(genes)}
    expected = np.full((len(genes), columns), np.nan, np.float32)
    start = 0
    ranges = []
    for tissue in sorted(plan):
        rows, rats, values = truth[tissue]
        for k, r in enumerate(rows):
            expected[row_of[union[r]], start : start + len(rats)] = values[k]
        ranges.append((start, start + len(rats)))
        start += len(rats)
    with open_table(store, writer, xs.EXPRESSION) as array:
        assert np.array_equal(array[:, :]["tpm"], expected, equal_nan=True)
    fragments = tiledb.array_fragments(writer.table_uri(xs.EXPRESSION), ctx=store.ctx)
    assert sorted(f.nonempty_domain[0] for f in fragments) == [
        (r, min(r + 6, len(genes) - 1)) for r in range(0, len(genes), 7)
    ]
    assert one_gene_tiles(store, writer.table_uri(xs.EXPRESSION), 20)["tiles"] == 1

    with open_table(store, writer, xs.EXPRESSION_SUMMARY) as array:
        summary = array[:, :]
    for t, (s, e) in enumerate(ranges):
        block = expected[:, s:e]
        present = ~np.isnan(block).all(axis=1)
        assert np.array_equal(summary["median"][present, t], np.median(block[present], axis=1))
        assert np.isnan(summary["median"][~present, t]).all()
        assert (summary["expressed"][~present, t] == 0).all()
        share = (block[present] >= np.float32(0.1)).mean(axis=1)
        assert summary["expressed"][present, t].tolist() == (share >= 0.2 - 1e-12).tolist()
    top = table(store, writer, xs.EXPRESSION_TOP, "rank")
    eye = sorted(plan).index("Eye")
    assert len(top["rank"][(top["tissue_index"] == eye) & (top["filterMt"] == 0)]) == 4

    samples = table(store, writer, xs.SAMPLES, "column")
    rats = [rat for tissue in sorted(plan) for rat in plan[tissue][1]]
    assert samples["sampleId"].tolist() == rats == samples["subjectId"].tolist()
    assert samples["tissue"].tolist() == [t for t in sorted(plan) for _ in plan[t][1]]
    sex = {"R1": "male", "R2": "female", "R5": "female"}
    assert samples["sex"].tolist() == [sex.get(r, "") for r in rats]


def test_bed_with_a_bad_cell_names_file_line_and_rat(
    local_store: DataStore, tmp_path: Path
) -> None:
    good = write_bed(tmp_path / "a.bed", ["G1", "G2"], ["R1", "R2"], np.ones((2, 2)))
    bad = tmp_path / "b.bed"
    bad.write_text(
        "#chr\tstart\tend\tphenotype_id\tR1\tR9\nchr1\t1\t2\tG1\t1\t2\nchr1\t1\t2\tG3\t1\tNA\n"
    )
    with pytest.raises(InputError) as caught:
        ingest(local_store, ExpressionInputs(bed={"Liver": good, "Eye": str(bad)}))
    assert (caught.value.path, caught.value.line, caught.value.field) == (str(bad), 3, "R9")
    assert draft_parts(local_store, "r1") == {}


# Malformed input ---------------------------------------------------------------------------


def edit_gct(data: Matrix, tmp_path: Path, edit: Callable[[list[str]], None]) -> str:
    with gzip.open(str(data.inputs.gct), "rt") as handle:
        lines = handle.read().split("\n")
    edit(lines)
    path = tmp_path / "edited.gct"
    path.write_text("\n".join(lines))
    return str(path)


def set_cell(line: int, column: int, value: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        cells = lines[line - 1].split("\t")
        cells[column] = value
        lines[line - 1] = "\t".join(cells)

    return edit


def duplicate_gene(lines: list[str]) -> None:
    lines[9] = lines[6].split("\t", 1)[0] + "\t" + lines[9].split("\t", 1)[1]


def drop_cell(lines: list[str]) -> None:
    lines[11] = lines[11].rsplit("\t", 1)[0]


def extra_row(lines: list[str]) -> None:
    lines.insert(-1, "EXTRA\tX\t" + lines[4].split("\t", 2)[2])


def missing_row(lines: list[str]) -> None:
    del lines[-2]


def declare(text: str) -> Callable[[list[str]], None]:
    def edit(lines: list[str]) -> None:
        lines[1] = text

    return edit


def no_header(lines: list[str]) -> None:
    del lines[0]


def empty(lines: list[str]) -> None:
    lines[:] = [""]


@pytest.mark.parametrize(
    ("edit", "line", "field", "problem"),
    [
        (set_cell(20, 9, "abc"), 20, "S7", "'abc' is not a number"),
        (set_cell(30, 2, "-1.5"), 30, "S0", "negative"),
        (set_cell(7, 48, "NaN"), 7, "S46", "not a finite number"),
        (set_cell(8, 3, "inf"), 8, "S1", "not a finite number"),
        (drop_cell, 12, "cells", "46 values, the header names 47"),
        (duplicate_gene, 10, "Name", "appears twice (line 7)"),
        (extra_row, 87, "dimensions", "more gene rows than the 83"),
        (missing_row, 86, "dimensions", "declares 83 gene rows, the file has 82"),
        (declare("83\t48"), 3, "header", "names 47 samples, line 2 declares 48"),
        (declare("83"), 2, "dimensions", "is not rows<TAB>columns"),
        (no_header, 1, "header", "not the GCT header #1.2"),
        (empty, 1, "header", "empty file"),
        (set_cell(3, 5, "NOT-IN-ATTRIBUTES"), 3, "NOT-IN-ATTRIBUTES", "not in the sample"),
        (set_cell(1, 0, "#1.2\t"), 1, "", ""),  # trailing tab after #1.2: accepted
    ],
)
def test_malformed_gct_names_file_line_and_field_and_keeps_the_draft(
    local_store: DataStore,
    tmp_path: Path,
    edit: Callable[[list[str]], None],
    line: int,
    field: str,
    problem: str,
) -> None:
    data = make_gct(tmp_path)
    sample = {f"S{i}": s for i, s in enumerate(data.samples)}
    with PartWriter(local_store, "r1", "reference") as reference:
        reference.write_table("marker", ["k"], {"k": np.arange(3), "v": np.arange(3)})
        reference.commit()
    path = edit_gct(data, tmp_path, edit)
    inputs = ExpressionInputs(path, data.inputs.sample_attributes, data.inputs.subject_phenotypes)
    if not field:
        ingest(local_store, inputs)
        assert set(draft_parts(local_store, "r1")) == {"expression", "reference"}
        return
    with pytest.raises(InputError) as caught:
        ingest(local_store, inputs)
    found = caught.value
    assert (found.path, found.line, found.field) == (path, line, sample.get(field, field))
    assert problem in found.problem
    assert str(found).startswith(f"{path}:{line}: field {sample.get(field, field)}:")
    # The failed part left nothing; the draft keeps its reference part.
    assert set(draft_parts(local_store, "r1")) == {"reference"}
    attempts = Path(local_store.root) / "releases" / "r1" / "attempts"
    assert [a.name for a in attempts.iterdir()] == [
        draft_parts(local_store, "r1")["reference"]["attempt"].split("/")[-1]
    ]


def attributes(header: str, empty_first: bool = False) -> Callable[[Matrix], str]:
    def text(data: Matrix) -> str:
        rows = [f"{s}\t{t}" for s, t in zip(data.samples, data.tissue, strict=True)]
        if empty_first:
            rows[0] = f"{data.samples[0]}\t"
        return header + "\n" + "\n".join(rows) + "\n"

    return text


@pytest.mark.parametrize(
    ("target", "text", "line", "field"),
    [
        ("attributes", attributes("SAMPID\tSMTSD", empty_first=True), 2, "SMTSD"),
        ("attributes", attributes("SAMPID\tSMTS"), 1, "SMTSD"),
        ("phenotypes", lambda _: "SUBJID\tSEX\tAGE\nGTEX-0000\t7\t20-29\n", 2, "SEX"),
        ("phenotypes", lambda _: "SUBJID\tSEX\nGTEX-0000\t1\nGTEX-0000\t2\n", 3, "SUBJID"),
    ],
)
def test_malformed_sample_tables(
    local_store: DataStore,
    tmp_path: Path,
    target: str,
    text: Callable[[Matrix], str],
    line: int,
    field: str,
) -> None:
    data = make_gct(tmp_path)
    path = tmp_path / f"bad-{target}.tsv"
    path.write_text(text(data))
    if target == "attributes":
        inputs = ExpressionInputs(data.inputs.gct, str(path), data.inputs.subject_phenotypes)
    else:
        inputs = ExpressionInputs(data.inputs.gct, data.inputs.sample_attributes, str(path))
    with pytest.raises(InputError) as caught:
        ingest(local_store, inputs)
    assert (caught.value.path, caught.value.line, caught.value.field) == (str(path), line, field)
    assert draft_parts(local_store, "r1") == {}


def test_inputs_that_do_not_fit_together(local_store: DataStore, tmp_path: Path) -> None:
    data = make_gct(tmp_path)
    cases = [
        (ExpressionInputs(), "--gct"),
        (ExpressionInputs(data.inputs.gct), "--sample-attributes"),
        (ExpressionInputs(data.inputs.gct, bed={"Liver": "x.bed"}), "--bed"),
    ]
    for inputs, field in cases:
        with pytest.raises(InputError) as caught:
            ingest(local_store, inputs)
        assert caught.value.field == field
