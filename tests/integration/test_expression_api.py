"""The expression group end to end: events -> Lambda handler -> TileDB (local and S3),
checked against numpy on the raw demo matrix (the GCT file the release was ingested from)."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import pytest

from omicsgate.ingest.demo import DemoFiles
from omicsgate.localapi.devtools import reset_settings, use_store
from tests.conftest import DEMO_RELEASE, Caller
from tests.helpers import gtf_records, spec_item_fields, tsv_rows
from tests.unit.test_clustering import leaves, parse_newick

pytestmark = pytest.mark.integration
TOP = 50


@dataclass(frozen=True)
class RawMatrix:
    """The demo GCT as numpy: genes x samples (float32, as stored), and who is where."""

    gene_ids: list[str]
    symbols: list[str]
    samples: list[str]
    values: np.ndarray
    tissue_of_sample: dict[str, str]

    def columns(self, tissue: str) -> list[int]:
        """The tissue's samples, in GCT order."""
        return [i for i, s in enumerate(self.samples) if self.tissue_of_sample[s] == tissue]

    def row(self, gene_id: str) -> int:
        return self.gene_ids.index(gene_id)

    def median(self, gene_id: str, tissue: str) -> float:
        return float(np.median(self.values[self.row(gene_id), self.columns(tissue)]))

    def medians(self, tissue: str) -> np.ndarray:
        return np.median(self.values[:, self.columns(tissue)], axis=1)


@cache
def _read_raw(expression: str, sample_attributes: str) -> RawMatrix:
    with gzip.open(expression, "rt") as handle:
        assert handle.readline().strip() == "#1.2"
        genes, samples = (int(x) for x in handle.readline().split())
        header = handle.readline().rstrip("\n").split("\t")
        ids, symbols, rows = [], [], []
        for line in handle:
            cells = line.rstrip("\n").split("\t")
            ids.append(cells[0])
            symbols.append(cells[1])
            rows.append([float(x) for x in cells[2:]])
    values = np.asarray(rows, dtype=np.float32)
    assert values.shape == (genes, samples)
    tissue_of = {r["SAMPID"]: r["SMTSD"] for r in tsv_rows(sample_attributes)}
    return RawMatrix(ids, symbols, header[2:], values, tissue_of)


@pytest.fixture(scope="module")
def raw(demo_files: DemoFiles) -> RawMatrix:
    return _read_raw(demo_files.expression, demo_files.sample_attributes)


@pytest.fixture
def tissue_info(backend: str, call: Caller) -> list[dict]:
    status, body = call.get("/api/v4/tissueInfo")
    assert status == 200
    return list(body["tissueInfo"])


def expressed_tissues(tissue_info: list[dict]) -> list[str]:
    return [t["tissueSiteDetailId"] for t in tissue_info if t["rnaSeqSampleCount"] > 0]


def assert_names(body: dict, status: int, parameter: str) -> None:
    """A 4xx JSON error (GTEx style) that names the parameter at fault."""
    assert 400 <= status < 500, body
    text = body.get("message") or body["detail"]
    assert isinstance(text, str) and text.startswith(f"{parameter}:"), body


# /geneExpression ----------------------------------------------------------------------------


def test_gene_expression_is_every_sample_of_every_tissue_in_sample_order(
    backend: str, call: Caller, raw: RawMatrix, tissue_info: list[dict]
) -> None:
    gene = "Eno1"
    status, body = call.get("/api/v4/geneExpression", f"geneId={gene}")
    assert status == 200
    items = body["geneExpression"]
    fields = spec_item_fields("/geneExpression", "geneExpression")
    assert [i["tissueSiteDetailId"] for i in items] == expressed_tissues(tissue_info)
    counts = {t["tissueSiteDetailId"]: t["rnaSeqSampleCount"] for t in tissue_info}
    for item in items:
        assert set(item) == fields
        tissue = item["tissueSiteDetailId"]
        assert (item["datasetId"], item["geneId"], item["unit"]) == (DEMO_RELEASE, gene, "TPM")
        assert item["geneSymbol"] == raw.symbols[raw.row(gene)]
        assert len(item["data"]) == counts[tissue] == len(raw.columns(tissue))
        expected = raw.values[raw.row(gene), raw.columns(tissue)]
        np.testing.assert_allclose(item["data"], expected, rtol=1e-6)


def test_gene_expression_matches_gene_ids_case_insensitively(backend: str, call: Caller) -> None:
    status, body = call.get("/api/v4/geneExpression", "geneId=ENO1")
    assert status == 200
    assert {i["geneId"] for i in body["geneExpression"]} == {"Eno1"}


def test_sample_counts_agree_with_the_sample_attributes(
    backend: str, raw: RawMatrix, tissue_info: list[dict]
) -> None:
    for tissue in tissue_info:
        assert tissue["rnaSeqSampleCount"] == len(raw.columns(tissue["tissueSiteDetailId"]))
    assert sum(t["rnaSeqSampleCount"] for t in tissue_info) == len(raw.samples)


# /medianGeneExpression ----------------------------------------------------------------------


def test_medians_equal_numpy_on_the_raw_matrix_in_request_order(
    backend: str, call: Caller, raw: RawMatrix
) -> None:
    genes, tissues = ["Polr3k", "Rtel1", "Eno1"], ["IL", "LHb", "NAcc"]
    query = f"geneId={','.join(genes)}&tissueSiteDetailId={','.join(tissues)}"
    status, body = call.get("/api/v4/medianGeneExpression", query)
    assert status == 200
    assert set(body) == {"clusters", "medianGeneExpression"}
    items = body["medianGeneExpression"]
    assert set(items[0]) == spec_item_fields("/medianGeneExpression", "medianGeneExpression")
    assert [(i["geneId"], i["tissueSiteDetailId"]) for i in items] == [
        (g, t) for g in genes for t in tissues
    ]
    for item in items:
        expected = raw.median(item["geneId"], item["tissueSiteDetailId"])
        assert item["median"] == pytest.approx(expected, rel=1e-6, abs=1e-6)


def test_clusters_are_newick_whose_leaves_are_exactly_the_genes_and_tissues(
    backend: str, call: Caller, raw: RawMatrix
) -> None:
    from omicsgate.science import cluster_newick

    genes, tissues = ["Polr3k", "Rtel1", "Eno1", "Actb", "Cd300lf"], ["IL", "LHb", "NAcc", "Liver"]
    query = f"geneId={','.join(genes)}&tissueSiteDetailId={','.join(tissues)}"
    status, body = call.get("/api/v4/medianGeneExpression", query)
    assert status == 200
    clusters = body["clusters"]
    gene_tree, tissue_tree = parse_newick(clusters["gene"])[0], parse_newick(clusters["tissue"])[0]
    assert sorted(leaves(gene_tree)) == sorted(genes)
    assert sorted(leaves(tissue_tree)) == sorted(tissues)
    # The same trees as clustering numpy's medians of the raw matrix.
    medians = np.array([[raw.median(g, t) for t in tissues] for g in genes], dtype=np.float32)
    assert leaves(gene_tree) == leaves(parse_newick(cluster_newick(medians, genes))[0])
    assert leaves(tissue_tree) == leaves(parse_newick(cluster_newick(medians.T, tissues))[0])


def test_every_tissue_by_default_and_not_enough_data_for_one_gene(
    backend: str, call: Caller, tissue_info: list[dict]
) -> None:
    status, body = call.get("/api/v4/medianGeneExpression", "geneId=Eno1")
    assert status == 200
    tissues = expressed_tissues(tissue_info)
    assert [i["tissueSiteDetailId"] for i in body["medianGeneExpression"]] == tissues
    assert body["clusters"]["gene"] == "Not enough data"
    assert sorted(leaves(parse_newick(body["clusters"]["tissue"])[0])) == sorted(tissues)
    status, body = call.get(
        "/api/v4/medianGeneExpression", "geneId=Eno1,Actb&tissueSiteDetailId=IL"
    )
    assert status == 200
    assert body["clusters"]["tissue"] == "Not enough data"
    assert sorted(leaves(parse_newick(body["clusters"]["gene"])[0])) == ["Actb", "Eno1"]


def test_repeated_and_differently_cased_ids_are_answered_once(backend: str, call: Caller) -> None:
    query = "geneId=Eno1&geneId=ENO1,Actb&tissueSiteDetailId=il,IL"
    status, body = call.get("/api/v4/medianGeneExpression", query)
    assert status == 200
    assert [(i["geneId"], i["tissueSiteDetailId"]) for i in body["medianGeneExpression"]] == [
        ("Eno1", "IL"),
        ("Actb", "IL"),
    ]


# /topExpressedGene --------------------------------------------------------------------------


def _numpy_top(raw: RawMatrix, tissue: str, filter_mt: bool) -> list[tuple[str, float]]:
    medians = raw.medians(tissue)
    keep = [
        i
        for i, s in enumerate(raw.symbols)
        if not (filter_mt and s.lower().startswith("mt-")) and np.isfinite(medians[i])
    ]
    ranked = sorted(keep, key=lambda i: -float(medians[i]))[:TOP]
    return [(raw.gene_ids[i], float(medians[i])) for i in ranked]


@pytest.mark.parametrize("filter_mt", [False, True])
def test_top_50_equal_numpy_on_the_raw_matrix(
    backend: str, call: Caller, raw: RawMatrix, demo_files: DemoFiles, filter_mt: bool
) -> None:
    chromosome = {g["gene_name"]: g["chrom"] for g in gtf_records(demo_files.annotation, "gene")}
    fields = spec_item_fields("/topExpressedGene", "topExpressedGene")
    for tissue in ["IL", "Liver"]:
        flag = "true" if filter_mt else "false"
        status, body = call.get(
            "/api/v4/topExpressedGene", f"tissueSiteDetailId={tissue}&filterMtGene={flag}"
        )
        assert status == 200
        items = body["topExpressedGene"]
        assert len(items) == TOP
        assert set(items[0]) == fields
        served_medians = [i["median"] for i in items]
        assert served_medians == sorted(served_medians, reverse=True)
        expected = _numpy_top(raw, tissue, filter_mt)
        np.testing.assert_allclose(served_medians, [m for _, m in expected], rtol=1e-6)
        # Each served gene has the median numpy gives it, and the medians are numpy's top 50:
        # the same list, whatever order genes with tied medians take.
        assert len({i["geneId"] for i in items}) == TOP
        for item in items:
            assert item["median"] == pytest.approx(raw.median(item["geneId"], tissue), rel=1e-6)
            assert not (filter_mt and item["geneId"].lower().startswith("mt-"))
            assert item["chromosome"] == chromosome[item["geneId"]]
            assert (item["tissueSiteDetailId"], item["datasetId"], item["unit"]) == (
                tissue,
                DEMO_RELEASE,
                "TPM",
            )


def test_filter_mt_gene_drops_mitochondrial_genes(backend: str, call: Caller) -> None:
    found_mt = False
    for tissue in ["Liver", "IL", "Brain"]:
        status, unfiltered = call.get("/api/v4/topExpressedGene", f"tissueSiteDetailId={tissue}")
        assert status == 200
        status, filtered = call.get(
            "/api/v4/topExpressedGene", f"tissueSiteDetailId={tissue}&filterMtGene=true"
        )
        assert status == 200
        mt = [i["geneId"] for i in unfiltered["topExpressedGene"] if i["geneId"].startswith("Mt-")]
        found_mt = found_mt or bool(mt)
        assert not [
            i for i in filtered["topExpressedGene"] if i["geneId"].lower().startswith("mt-")
        ]
        kept = [i["geneId"] for i in unfiltered["topExpressedGene"] if i["geneId"] not in mt]
        assert [i["geneId"] for i in filtered["topExpressedGene"]][: len(kept)] == kept
    assert found_mt, "the demo's Mt- genes should reach some top-50 list unfiltered"


# Errors: 4xx JSON naming the parameter, never an HTML 500 -----------------------------------


@pytest.mark.parametrize(
    ("path", "query", "parameter"),
    [
        ("/api/v4/geneExpression", "geneId=NoSuchGene", "geneId"),
        ("/api/v4/geneExpression", "geneId=Eno1,Actb", "geneId"),
        ("/api/v4/geneExpression", "geneId=", "geneId"),
        ("/api/v4/geneExpression", "", "geneId"),
        ("/api/v4/medianGeneExpression", "geneId=Eno1,NoSuchGene", "geneId"),
        (
            "/api/v4/medianGeneExpression",
            "geneId=Eno1&tissueSiteDetailId=IL,Nowhere",
            "tissueSiteDetailId",
        ),
        ("/api/v4/medianGeneExpression", "geneId=Eno1&tissueSiteDetailId=", "tissueSiteDetailId"),
        ("/api/v4/medianGeneExpression", "tissueSiteDetailId=IL", "geneId"),
        ("/api/v4/topExpressedGene", "tissueSiteDetailId=Nowhere", "tissueSiteDetailId"),
        ("/api/v4/topExpressedGene", "tissueSiteDetailId=IL,LHb", "tissueSiteDetailId"),
        ("/api/v4/topExpressedGene", "", "tissueSiteDetailId"),
        ("/api/v4/topExpressedGene", "tissueSiteDetailId=IL&filterMtGene=maybe", "filterMtGene"),
        (
            "/api/v4/topExpressedGene",
            "tissueSiteDetailId=IL&filterMtGene=1&filterMtGene=0",
            "filterMtGene",
        ),
        ("/api/v4/topExpressedGene", "tissueSiteDetailId=IL&datasetId=nope", "datasetId"),
        ("/api/v4/geneExpression", "geneId=Eno1&datasetId=nope", "datasetId"),
    ],
)
def test_bad_input_is_a_4xx_json_naming_the_parameter(
    backend: str, call: Caller, path: str, query: str, parameter: str
) -> None:
    status, body = call.get(path, query)
    assert_names(body, status, parameter)


def test_unknown_ids_are_named_in_the_message(backend: str, call: Caller) -> None:
    status, body = call.get("/api/v4/medianGeneExpression", "geneId=Eno1,Foo1,Bar2")
    assert status == 400
    assert "'Foo1'" in body["detail"] and "'Bar2'" in body["detail"]
    assert "'Eno1'" not in body["detail"]


@pytest.fixture(scope="module")
def reference_only(
    tmp_path_factory: pytest.TempPathFactory, demo_files: DemoFiles
) -> Iterator[str]:
    """A published release with a reference part and no expression part."""
    from omicsgate.ingest.cli import ingest_part, publish_release, reference_part
    from omicsgate.ingest.reference import ReferenceInputs
    from omicsgate.storage import get_store

    uri = str(tmp_path_factory.mktemp("reference-only"))
    use_store(uri)
    inputs = ReferenceInputs(
        demo_files.tissues, demo_files.annotation, demo_files.variants, demo_files.gene_status
    )
    ingest_part(get_store(), "refonly", "reference", reference_part(inputs, False))
    publish_release(get_store(), "refonly", True)
    yield uri
    reset_settings()


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/api/v4/geneExpression", "geneId=Eno1"),
        ("/api/v4/medianGeneExpression", "geneId=Eno1,Actb"),
        ("/api/v4/topExpressedGene", "tissueSiteDetailId=IL"),
    ],
)
def test_a_release_without_expression_is_a_404_naming_the_dataset(
    reference_only: str, call: Caller, path: str, query: str
) -> None:
    use_store(reference_only)
    status, body = call.get(path, query)
    assert status == 404
    assert_names(body, status, "datasetId")
    assert "refonly" in body["detail"]
    status, body = call.get("/api/v4/gene", "geneId=Eno1")  # the reference part still serves
    assert status == 200 and body["gene"]


def test_too_many_medians_is_refused_before_any_work(backend: str, call: Caller) -> None:
    from expression_api.routes import median_expression

    limit = median_expression.MAX_MEDIANS
    median_expression.MAX_MEDIANS = 5
    try:
        status, body = call.get("/api/v4/medianGeneExpression", "geneId=Eno1,Actb")
    finally:
        median_expression.MAX_MEDIANS = limit
    assert_names(body, status, "geneId")
    assert re.search(r"2 genes x 13 tissues", body["detail"]), body
