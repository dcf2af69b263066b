"""QTL ingestion: tensorQTL's cis, cis_independent and cis_qtl_pairs files written here the
way tensorQTL names and types them, ingested on a local directory and on moto S3, read back
and checked against a by-hand significance filter; malformed files stop the part."""

from __future__ import annotations

import gzip
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import tiledb

from omicsgate.ingest import qtl
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.qtl import QtlInputs, write_qtl
from omicsgate.portal import qtl_schema as qs
from omicsgate.storage import DataStore
from omicsgate.storage._tables import read_all
from omicsgate.storage.writer import PartWriter, draft_parts

pytestmark = pytest.mark.integration

# map_cis + calculate_qvalues, written by to_csv(sep="\t", float_format="%.6g") with the
# phenotype_id index as the first column.
CIS_HEADER = [
    "phenotype_id",
    "num_var",
    "beta_shape1",
    "beta_shape2",
    "true_df",
    "pval_true_df",
    "variant_id",
    "start_distance",
    "end_distance",
    "ma_samples",
    "ma_count",
    "af",
    "pval_nominal",
    "slope",
    "slope_se",
    "pval_perm",
    "pval_beta",
    "qval",
    "pval_nominal_threshold",
]
# map_independent: reset_index(), so phenotype_id is a column, then rank (index=False).
INDEPENDENT_HEADER = [c for c in CIS_HEADER if c not in ("qval", "pval_nominal_threshold")]
INDEPENDENT_HEADER.append("rank")
# map_nominal's chr_res: names and numpy dtypes as tensorQTL allocates them.
PAIRS_SCHEMA = pa.schema(
    [
        ("phenotype_id", pa.string()),
        ("variant_id", pa.string()),
        ("start_distance", pa.int32()),
        ("end_distance", pa.int32()),
        ("af", pa.float32()),
        ("ma_samples", pa.int32()),
        ("ma_count", pa.int32()),
        ("pval_nominal", pa.float64()),
        ("slope", pa.float32()),
        ("slope_se", pa.float32()),
    ]
)


def g6(value: float) -> str:
    """pandas' float_format='%.6g'; NaN is written as an empty cell."""
    return "" if math.isnan(value) else f"{value:.6g}"


@dataclass
class Tissue:
    """One tissue's tensorQTL outputs and the truth to compare against."""

    name: str
    phenotypes: list[str]
    genes: list[str]
    cis_variants: list[str]  # as tensorQTL wrote them
    thresholds: list[float]  # as printed (%.6g), what ingestion reads back
    pairs: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Study:
    inputs: QtlInputs
    tissues: dict[str, Tissue]
    independent: list[dict[str, Any]]  # expected qtl_independent rows


def gtex_variant(chromosome: str, pos: int) -> str:
    return f"{chromosome}_{pos}_A_G_b38"


def rat_variant(chromosome: str, pos: int) -> str:
    return f"{chromosome}:{pos}"


def write_cis(path: Path, tissue: Tissue, rng: np.random.Generator) -> None:
    lines = ["\t".join(CIS_HEADER)]
    for k, phenotype in enumerate(tissue.phenotypes):
        pval_beta = float(rng.uniform(1e-12, 0.5))
        row = {
            "phenotype_id": phenotype,
            "num_var": str(int(rng.integers(50, 5000))),
            "beta_shape1": g6(float(rng.uniform(0.9, 1.1))),
            "beta_shape2": g6(float(rng.uniform(100, 3000))),
            "true_df": g6(float(rng.uniform(400, 600))),
            "pval_true_df": g6(float(rng.uniform(0, 1e-3))),
            "variant_id": tissue.cis_variants[k],
            "start_distance": str(int(rng.integers(-(10**6), 10**6))),
            "end_distance": str(int(rng.integers(-(10**6), 10**6))),
            "ma_samples": str(int(rng.integers(10, 300))),
            "ma_count": str(int(rng.integers(10, 400))),
            "af": g6(float(rng.uniform(0.01, 0.99))),
            "pval_nominal": g6(float(rng.uniform(1e-20, 1e-3))),
            "slope": g6(float(rng.normal(0, 0.5))),
            "slope_se": g6(float(rng.uniform(0.01, 0.1))),
            "pval_perm": g6(float(rng.uniform(1e-4, 1))),
            "pval_beta": g6(pval_beta),
            "qval": g6(min(1.0, pval_beta * 3)),
            "pval_nominal_threshold": g6(tissue.thresholds[k]),
        }
        lines.append("\t".join(row[c] for c in CIS_HEADER))
    with gzip.open(path, "wt") as out:
        out.write("\n".join(lines) + "\n")


def write_pairs(path: Path, rows: list[dict[str, Any]], row_group: int = 37) -> None:
    columns = {name: [r[name] for r in rows] for name in PAIRS_SCHEMA.names}
    table = pa.Table.from_pydict(columns, schema=PAIRS_SCHEMA)
    pq.write_table(table, path, row_group_size=row_group)


def make_pairs(
    tissue: Tissue, chromosome: str, variant: Any, rng: np.random.Generator, extra: list[str]
) -> list[dict[str, Any]]:
    rows = []
    for phenotype in [*tissue.phenotypes, *extra]:
        for v in range(25):
            pos = int(rng.integers(1, 10**8))
            p = float(10 ** rng.uniform(-9, 0))
            rows.append(
                {
                    "phenotype_id": phenotype,
                    "variant_id": variant(chromosome, pos),
                    "start_distance": int(rng.integers(-(10**6), 10**6)),
                    "end_distance": int(rng.integers(-(10**6), 10**6)),
                    "af": float(rng.uniform(0.01, 0.99)),
                    "ma_samples": int(rng.integers(1, 300)),
                    "ma_count": int(rng.integers(1, 400)),
                    "pval_nominal": math.nan if v == 3 else p,
                    "slope": float(rng.normal(0, 0.5)),
                    "slope_se": float(rng.uniform(0.01, 0.1)),
                }
            )
    return rows


def make_tissue(name: str, phenotypes: list[str], genes: list[str], variant: Any, rng) -> Tissue:
    thresholds = [float(g6(float(10 ** rng.uniform(-5, -1.5)))) for _ in phenotypes]
    thresholds[-1] = math.nan  # tensorQTL leaves it NaN where the beta fit failed
    cis_variants = [variant("chr1", int(rng.integers(1, 10**8))) for _ in phenotypes]
    return Tissue(name, phenotypes, genes, cis_variants, thresholds)


def write_independent(
    path: Path, rows: list[dict[str, Any]], header: list[str], rng: np.random.Generator
) -> None:
    lines = ["\t".join(header)]
    for row in rows:
        cells = {c: g6(float(rng.uniform(0, 1))) for c in header}
        cells.update(
            phenotype_id=row["phenotype_id"],
            variant_id=row["variant_id"],
            rank=str(row["rank"]),
            pval_beta=g6(row["pValueBeta"]),
            pval_nominal=g6(row["pValueNominal"]),
            slope=g6(row["slope"]),
            num_var=str(int(rng.integers(50, 5000))),
        )
        if "log2_aFC" in header:
            cells["log2_aFC"] = g6(row["log2aFC"])
        lines.append("\t".join(cells[c] for c in header))
    with gzip.open(path, "wt") as out:
        out.write("\n".join(lines) + "\n")


def independent_rows(
    tissue: str,
    modality: str,
    phenotypes: list[str],
    genes: list[str],
    variant: Any,
    rng: np.random.Generator,
    afc: bool,
) -> list[dict[str, Any]]:
    rows = []
    for phenotype, gene in zip(phenotypes, genes, strict=True):
        for rank in (1, 2):
            pos = int(rng.integers(1, 10**8))
            rows.append(
                {
                    "tissueSiteDetailId": tissue,
                    "modality": modality,
                    "phenotypeId": phenotype,
                    "geneId": gene,
                    "phenotype_id": phenotype,
                    "variant_id": variant("chr2", pos),
                    "variantId": f"chr2:{pos}",
                    "rank": rank,
                    "pValueBeta": float(g6(float(rng.uniform(1e-10, 0.01)))),
                    "pValueNominal": float(g6(float(rng.uniform(1e-12, 0.01)))),
                    "slope": float(g6(float(rng.normal(0, 1)))),
                    "log2aFC": float(g6(float(rng.normal(0, 1)))) if afc else math.nan,
                }
            )
    return rows


def make_study(directory: Path, seed: int = 3) -> Study:
    rng = np.random.default_rng(seed)
    gtex_genes = [f"ENSG{g:011d}.{g % 9 + 1}" for g in range(12)]
    rat_genes = [f"ENSRNOG{g:011d}" for g in range(8)] + ["Cyp2e1", "Alb"]
    tissues = {
        "Liver": make_tissue("Liver", gtex_genes, gtex_genes, gtex_variant, rng),
        "Brain - Cortex": make_tissue(
            "Brain - Cortex", gtex_genes[:9], gtex_genes[:9], gtex_variant, rng
        ),
        "IL": make_tissue("IL", rat_genes, rat_genes, rat_variant, rng),
    }
    inputs = QtlInputs()
    variants = {"Liver": gtex_variant, "Brain - Cortex": gtex_variant, "IL": rat_variant}
    for k, (name, tissue) in enumerate(tissues.items()):
        cis = directory / f"t{k}.cis_qtl.txt.gz"
        write_cis(cis, tissue, rng)
        inputs.cis[name] = str(cis)
        files = []
        for chromosome in ("chr1", "chr2"):
            extra = ["ENSG99999999999.1"] if chromosome == "chr2" else []  # not in the cis table
            rows = make_pairs(tissue, chromosome, variants[name], rng, extra)
            path = directory / f"t{k}.cis_qtl_pairs.{chromosome}.parquet"
            write_pairs(path, rows)
            tissue.pairs += rows
            files.append(str(path))
        inputs.pairs[name] = files
    # xQTLs: GTEx sQTL cluster IDs (gene last), RatGTEx isoforms (gene first) with log2_aFC.
    independent: list[dict[str, Any]] = []
    clusters = [f"chr1:{100 + k}:{900 + k}:clu_{k}_-:{g}" for k, g in enumerate(gtex_genes[:4])]
    specs = [
        ("expression", "Liver", gtex_genes[:5], gtex_genes[:5], gtex_variant, False),
        ("splicing", "Liver", clusters, gtex_genes[:4], gtex_variant, False),
        ("expression", "IL", rat_genes[:6], rat_genes[:6], rat_variant, True),
        (
            "isoforms",
            "IL",
            [f"{g}:ENSRNOT{k:011d}" for k, g in enumerate(rat_genes[:3])],
            rat_genes[:3],
            rat_variant,
            True,
        ),
        (
            "alt_polyA",
            "IL",
            [f"{g}:polyA_{k}" for k, g in enumerate(rat_genes[8:])],
            rat_genes[8:],
            rat_variant,
            True,
        ),
    ]
    for k, (modality, tissue_name, phenotypes, genes, variant, afc) in enumerate(specs):
        rows = independent_rows(tissue_name, modality, phenotypes, genes, variant, rng, afc)
        header = [*INDEPENDENT_HEADER, "log2_aFC"] if afc else INDEPENDENT_HEADER
        path = directory / f"x{k}.{modality}.cis_independent_qtl.txt.gz"
        write_independent(path, rows, header, rng)
        inputs.independent[modality, tissue_name] = str(path)
        independent += rows
    return Study(inputs, tissues, independent)


def ingest(store: DataStore, inputs: QtlInputs, release: str = "r1") -> PartWriter:
    with PartWriter(store, release, "qtl") as writer:
        write_qtl(writer, inputs, progress=False)
        writer.commit()
    return writer


def table(store: DataStore, writer: PartWriter, name: str) -> list[dict[str, Any]]:
    with tiledb.open(writer.table_uri(name), ctx=store.ctx) as array:
        columns = read_all(array)
    names = list(columns)
    return [
        dict(zip(names, row, strict=True))
        for row in zip(*(columns[n].tolist() for n in names), strict=True)
    ]


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def expected_pairs(study: Study) -> list[tuple]:
    """The significance filter by hand: pval_nominal <= the phenotype's printed threshold."""
    out = []
    for tissue in study.tissues.values():
        limit = dict(zip(tissue.phenotypes, tissue.thresholds, strict=True))
        for row in tissue.pairs:
            threshold = limit.get(row["phenotype_id"], math.nan)
            if row["pval_nominal"] <= threshold:
                if "_" in row["variant_id"]:
                    chromosome, pos = row["variant_id"].split("_")[:2]
                else:
                    chromosome, pos = row["variant_id"].split(":")
                out.append(
                    (
                        tissue.name,
                        row["phenotype_id"],
                        f"{chromosome}:{pos}",
                        chromosome,
                        int(pos),
                        row["pval_nominal"],
                        float(np.float32(row["slope"])),
                    )
                )
    return sorted(out)


def test_ingest_reads_back(store: DataStore, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(qtl, "PAIR_BATCH", 50)  # several batches per file, across row groups
    study = make_study(tmp_path)
    writer = ingest(store, study.inputs)

    genes = table(store, writer, qs.QTL_GENES)
    assert len(genes) == sum(len(t.phenotypes) for t in study.tissues.values())
    by_key = {(r["tissueSiteDetailId"], r["phenotypeId"]): r for r in genes}
    for tissue in study.tissues.values():
        for k, phenotype in enumerate(tissue.phenotypes):
            row = by_key[tissue.name, phenotype]
            assert row["geneId"] == tissue.genes[k]
            assert row["gene_key"] == tissue.genes[k].lower()
            assert row["modality"] == "expression"
            assert same(row["pValueThreshold"], tissue.thresholds[k])
            variant = tissue.cis_variants[k]
            chromosome, pos = variant.replace("_", ":").split(":")[:2]
            assert row["variantId"] == f"{chromosome}:{pos}"

    pairs = table(store, writer, qs.QTL_PAIRS)
    got = sorted(
        (
            r["tissueSiteDetailId"],
            r["geneId"],
            r["variantId"],
            r["chromosome"],
            r["pos"],
            r["pValue"],
            r["nes"],
        )
        for r in pairs
    )
    expected = expected_pairs(study)
    assert 20 < len(expected) < sum(len(t.pairs) for t in study.tissues.values()) * 0.8
    assert got == expected
    assert all(r["gene_key"] == r["geneId"].lower() for r in pairs)

    independent = table(store, writer, qs.QTL_INDEPENDENT)
    fields = ["tissueSiteDetailId", "modality", "phenotypeId", "geneId", "variantId", "rank"]
    numbers = ["pValueBeta", "pValueNominal", "slope", "log2aFC"]

    def key(r: dict[str, Any]) -> tuple:
        return tuple(r[f] for f in fields)

    assert sorted(map(key, independent)) == sorted(map(key, study.independent))
    truth = {key(r): r for r in study.independent}
    for row in independent:
        for name in numbers:
            assert same(row[name], truth[key(row)][name]), (name, row)
    modalities = {r["modality"] for r in independent}
    assert modalities == {"expression", "splicing", "isoforms", "alt_polyA"}
    assert {r["geneId"] for r in independent if r["modality"] == "splicing"} == {
        f"ENSG{g:011d}.{g % 9 + 1}" for g in range(4)
    }

    record = draft_parts(store, "r1")["qtl"]
    assert record["tables"][qs.QTL_PAIRS]["rows"] == len(expected)
    assert record["tables"][qs.QTL_GENES]["rows"] == len(genes)


def test_only_cis(local_store: DataStore, tmp_path: Path) -> None:
    study = make_study(tmp_path)
    plain = tmp_path / "liver.cis_qtl.txt"  # not gzipped
    with gzip.open(study.inputs.cis["Liver"], "rt") as handle:
        plain.write_text(handle.read())
    study.inputs.cis["Liver"] = str(plain)
    writer = ingest(local_store, QtlInputs(cis=study.inputs.cis))
    assert table(local_store, writer, qs.QTL_PAIRS) == []
    assert table(local_store, writer, qs.QTL_INDEPENDENT) == []
    assert len(table(local_store, writer, qs.QTL_GENES)) == 31


@pytest.mark.parametrize(
    ("gene", "phenotype"),
    [
        ("ENSG00000227232.5", "chr1:14829:14970:clu_1_-:ENSG00000227232.5"),
        ("ENSRNOG00000000001", "ENSRNOG00000000001:ENSRNOT00000000002"),
        ("ENSG00000227232.5", "ENSG00000227232.5"),
        ("Cyp2e1", "Cyp2e1"),
        ("Cyp2e1", "Cyp2e1:polyA_3"),
    ],
)
def test_gene_of(gene: str, phenotype: str) -> None:
    assert qtl.gene_of(phenotype) == gene


def replace_line(path: str, line: int, old: str, new: str) -> None:
    with gzip.open(path, "rt") as handle:
        lines = handle.read().split("\n")
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    with gzip.open(path, "wt") as out:
        out.write("\n".join(lines))


def cell(path: str, line: int, column: str) -> str:
    with gzip.open(path, "rt") as handle:
        lines = handle.read().split("\n")
    header = lines[0].split("\t")
    return lines[line - 1].split("\t")[header.index(column)]


def set_cell(path: str, line: int, column: str, value: str) -> None:
    with gzip.open(path, "rt") as handle:
        lines = handle.read().split("\n")
    header = lines[0].split("\t")
    cells = lines[line - 1].split("\t")
    cells[header.index(column)] = value
    lines[line - 1] = "\t".join(cells)
    with gzip.open(path, "wt") as out:
        out.write("\n".join(lines))


def drop_column(path: str, column: str) -> None:
    with gzip.open(path, "rt") as handle:
        lines = [line.split("\t") for line in handle.read().split("\n") if line]
    k = lines[0].index(column)
    with gzip.open(path, "wt") as out:
        out.write("\n".join("\t".join(c[:k] + c[k + 1 :]) for c in lines) + "\n")


def rewrite_pairs(path: str, change: Any) -> None:
    table = pq.read_table(path)
    pq.write_table(change(table), path)


def _cis(s: Study) -> str:
    return s.inputs.cis["Liver"]


def _ind(s: Study) -> str:
    return s.inputs.independent["splicing", "Liver"]


def _pq(s: Study) -> str:
    return s.inputs.pairs["IL"][1]


def _p_out_of_range(t: pa.Table) -> pa.Table:
    p = t.column("pval_nominal").to_pylist()
    p[41] = 1.5
    return t.set_column(t.schema.get_field_index("pval_nominal"), "pval_nominal", pa.array(p))


def _p_as_text(t: pa.Table) -> pa.Table:
    p = [str(v) for v in t.column("pval_nominal").to_pylist()]
    return t.set_column(t.schema.get_field_index("pval_nominal"), "pval_nominal", pa.array(p))


def _bad_variant(t: pa.Table) -> pa.Table:
    p = t.column("pval_nominal").to_pylist()
    v = t.column("variant_id").to_pylist()
    p[10], v[10] = 0.0, "rs99"  # kept: p = 0 is below every threshold
    t = t.set_column(t.schema.get_field_index("pval_nominal"), "pval_nominal", pa.array(p))
    return t.set_column(t.schema.get_field_index("variant_id"), "variant_id", pa.array(v))


MALFORMED = {
    "pairs bad variant": (lambda s: rewrite_pairs(_pq(s), _bad_variant), _pq, 11, "variant_id"),
    "cis missing column": (
        lambda s: drop_column(_cis(s), "pval_nominal_threshold"),
        _cis,
        1,
        "pval_nominal_threshold",
    ),
    "cis non-numeric p": (
        lambda s: set_cell(_cis(s), 4, "pval_beta", "0.0x1"),
        _cis,
        4,
        "pval_beta",
    ),
    "cis p above 1": (lambda s: set_cell(_cis(s), 3, "qval", "1.2"), _cis, 3, "qval"),
    "cis negative threshold (logp)": (
        lambda s: set_cell(_cis(s), 2, "pval_nominal_threshold", "-7.5"),
        _cis,
        2,
        "pval_nominal_threshold",
    ),
    "cis bad variant": (
        lambda s: set_cell(_cis(s), 5, "variant_id", "rs123"),
        _cis,
        5,
        "variant_id",
    ),
    "cis duplicate phenotype": (
        lambda s: set_cell(_cis(s), 6, "phenotype_id", cell(_cis(s), 5, "phenotype_id")),
        _cis,
        6,
        "phenotype_id",
    ),
    "independent missing rank": (lambda s: drop_column(_ind(s), "rank"), _ind, 1, "rank"),
    "independent bad rank": (lambda s: set_cell(_ind(s), 3, "rank", "first"), _ind, 3, "rank"),
    "independent p below 0": (
        lambda s: set_cell(_ind(s), 2, "pval_nominal", "-0.1"),
        _ind,
        2,
        "pval_nominal",
    ),
    "pairs missing column": (
        lambda s: rewrite_pairs(_pq(s), lambda t: t.drop_columns(["pval_nominal"])),
        _pq,
        0,
        "pval_nominal",
    ),
    "pairs p out of range": (
        lambda s: rewrite_pairs(_pq(s), _p_out_of_range),
        _pq,
        42,
        "pval_nominal",
    ),
    "pairs p as text": (lambda s: rewrite_pairs(_pq(s), _p_as_text), _pq, 0, "pval_nominal"),
    "pairs not parquet": (lambda s: Path(_pq(s)).write_text("phenotype_id\n"), _pq, 0, "file"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed(local_store: DataStore, tmp_path: Path, case: str) -> None:
    study = make_study(tmp_path)
    spoil, which, line, column = MALFORMED[case]
    spoil(study)
    with pytest.raises(InputError) as caught:
        ingest(local_store, study.inputs)
    error = caught.value
    assert (error.path, error.line, error.field) == (which(study), line, column), str(error)
    assert str(error).startswith(f"{which(study)}:{line}: field {column}:")
    assert "qtl" not in draft_parts(local_store, "r1")


def test_pairs_without_cis_table(local_store: DataStore, tmp_path: Path) -> None:
    study = make_study(tmp_path)
    path = study.inputs.pairs["Liver"][0]
    inputs = QtlInputs(cis={"IL": study.inputs.cis["IL"]}, pairs={"Liver": [path]})
    with pytest.raises(InputError) as caught:
        ingest(local_store, inputs)
    assert (caught.value.path, caught.value.line, caught.value.field) == (
        path,
        0,
        "tissueSiteDetailId",
    )


def test_unknown_modality(local_store: DataStore, tmp_path: Path) -> None:
    study = make_study(tmp_path)
    path = study.inputs.independent["splicing", "Liver"]
    with pytest.raises(InputError) as caught:
        ingest(local_store, QtlInputs(independent={("sQTL", "Liver"): path}))
    assert (caught.value.path, caught.value.field) == (path, "modality")


def test_pandas_string_types(local_store: DataStore, tmp_path: Path) -> None:
    """pandas may hand pyarrow categorical (dictionary) or large_string ID columns."""
    study = make_study(tmp_path)
    for tissue_files in study.inputs.pairs.values():
        for path in tissue_files:
            rewrite_pairs(
                path,
                lambda t: t.set_column(
                    0, "phenotype_id", t.column("phenotype_id").dictionary_encode()
                ).set_column(1, "variant_id", t.column("variant_id").cast(pa.large_string())),
            )
    writer = ingest(local_store, study.inputs)
    names = ["tissueSiteDetailId", "geneId", "variantId", "chromosome", "pos", "pValue", "nes"]
    got = sorted(tuple(r[n] for n in names) for r in table(local_store, writer, qs.QTL_PAIRS))
    assert got == expected_pairs(study)
