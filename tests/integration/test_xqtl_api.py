"""The xQTL group end to end: a small release of our own (demo reference and expression, a
genotype VCF for the demo's subjects, tensorQTL files written by hand), ingested with the
CLI, served through the real handlers on a local directory and on moto S3, and checked
against the files and against scipy."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats

from omicsgate.ingest.cli import main
from omicsgate.ingest.demo import write_demo
from omicsgate.ingest.demo_genotypes import demo_alleles, simulate_genotypes, write_vcf
from omicsgate.localapi.devtools import reset_settings, use_store
from omicsgate.localapi.events import http_api_event
from tests.conftest import BUCKET, Caller, built_store
from tests.helpers import gtf_records, tsv_rows, vcf_sites
from tests.integration.test_expression_api import _read_raw
from tests.integration.test_qtl_ingest import (
    INDEPENDENT_HEADER,
    Tissue,
    write_cis,
    write_independent,
    write_pairs,
)

pytestmark = pytest.mark.integration
RELEASE = "xqtl_test"
TISSUES = ("IL", "Liver")
POSITIONS = np.array([1_000_500, 1_001_700, 1_004_200, 1_010_000, 1_020_000, 1_030_000])


@dataclass
class Study:
    directory: Path
    genes: list[dict[str, str]]  # GTF gene records (gene_id: Ensembl ID, gene_name: served)
    subjects: list[str]  # genotyped, VCF order
    dosages: np.ndarray  # variants x subjects (-1 missing)
    tissues: dict[str, Tissue]
    independent: list[dict[str, Any]]
    pairs: list[dict[str, Any]]  # tissue added
    reference_site: tuple[str, int, str, str]  # a reference variant that is not genotyped
    expression: str
    sample_attributes: str

    def served(self, gene: str) -> str:
        """The served geneId of a gene named by name or Ensembl ID."""
        for record in self.genes:
            if gene in (record["gene_id"], record["gene_name"]):
                return record["gene_name"]
        raise KeyError(gene)


def variant(pos: int) -> str:
    return f"chr1:{pos}"


def make_study(directory: Path) -> Study:
    rng = np.random.default_rng(8)
    files = write_demo(str(directory / "demo"), genes=60, seed=13)
    assert files.expression and files.sample_attributes
    genes = gtf_records(files.annotation, "gene")[:8]
    subjects = sorted({r["SUBJID"] for r in tsv_rows(files.sample_attributes) if r["SMTSD"]})
    genotyped = subjects[3:]  # three subjects were never genotyped
    dosages = simulate_genotypes(rng, {"chr1": POSITIONS}, len(genotyped))
    dosages[1, ::7] = -1  # missing calls
    vcf = directory / "genotypes.vcf.gz"
    write_vcf(str(vcf), dosages, {"chr1": POSITIONS}, genotyped)

    # Genes 0-3 keyed by name, 4-7 by Ensembl ID (as RatGTEx's files are).
    keyed = [g["gene_name"] for g in genes[:4]] + [g["gene_id"] for g in genes[4:]]
    tissues: dict[str, Tissue] = {}
    inputs: list[str] = []
    pairs: list[dict[str, Any]] = []
    independent: list[dict[str, Any]] = []
    reference_site = vcf_sites(files.variants)[0]
    for k, name in enumerate(TISSUES):
        phenotypes = keyed[:6] if k == 0 else keyed[2:]
        thresholds = [float(f"{10 ** rng.uniform(-4, -2):.6g}") for _ in phenotypes]
        thresholds[-1] = math.nan
        tissue = Tissue(name, phenotypes, phenotypes, [variant(int(POSITIONS[0]))] * 6, thresholds)
        tissues[name] = tissue
        cis = directory / f"{name}.cis_qtl.txt.gz"
        write_cis(cis, tissue, rng)
        rows = []
        for phenotype in phenotypes:
            for pos in POSITIONS[:4]:
                rows.append(
                    {
                        "phenotype_id": phenotype,
                        "variant_id": variant(int(pos)),
                        "start_distance": 0,
                        "end_distance": 0,
                        "af": 0.3,
                        "ma_samples": 10,
                        "ma_count": 12,
                        "pval_nominal": float(10 ** rng.uniform(-7, -0.5)),
                        "slope": float(rng.normal(0, 0.5)),
                        "slope_se": 0.1,
                    }
                )
        parquet = directory / f"{name}.cis_qtl_pairs.chr1.parquet"
        write_pairs(parquet, rows)
        pairs += [{**r, "tissue": name} for r in rows]
        ind_rows = []
        for j, phenotype in enumerate(phenotypes[:4]):
            for rank, pos in enumerate((POSITIONS[j % 3], reference_site[1]), start=1):
                chromosome = "chr1" if rank == 1 else reference_site[0]
                ind_rows.append(
                    {
                        "tissueSiteDetailId": name,
                        "modality": "expression",
                        "phenotypeId": phenotype,
                        "geneId": phenotype,
                        "phenotype_id": phenotype,
                        "variant_id": f"{chromosome}:{pos}",
                        "variantId": f"{chromosome}:{pos}",
                        "rank": rank,
                        "pValueBeta": float(f"{rng.uniform(1e-10, 0.01):.6g}"),
                        "pValueNominal": float(f"{rng.uniform(1e-12, 0.01):.6g}"),
                        "slope": float(f"{rng.normal(0, 1):.6g}"),
                        "log2aFC": float(f"{rng.normal(0, 1):.6g}"),
                    }
                )
        path = directory / f"{name}.expression.cis_independent_qtl.txt.gz"
        write_independent(path, ind_rows, [*INDEPENDENT_HEADER, "log2_aFC"], rng)
        independent += ind_rows
        inputs += ["--cis", f"{name}={cis}", "--pairs", f"{name}={parquet}"]
        inputs += ["--independent", f"{name}={path}"]
    # An xQTL modality: splicing clusters of gene 0 in IL (phenotype IDs end with the gene).
    splicing = [
        {
            "tissueSiteDetailId": "IL",
            "modality": "splicing",
            "phenotypeId": f"chr1:{100 + k}:{900 + k}:clu_{k}_-:{keyed[5]}",
            "geneId": keyed[5],
            "phenotype_id": f"chr1:{100 + k}:{900 + k}:clu_{k}_-:{keyed[5]}",
            "variant_id": variant(int(POSITIONS[4])),
            "variantId": variant(int(POSITIONS[4])),
            "rank": 1,
            "pValueBeta": float(f"{rng.uniform(1e-10, 0.01):.6g}"),
            "pValueNominal": 0.001,
            "slope": 0.5,
            "log2aFC": math.nan,
        }
        for k in range(2)
    ]
    path = directory / "IL.splicing.cis_independent_qtl.txt.gz"
    write_independent(path, splicing, INDEPENDENT_HEADER, rng)
    independent += splicing
    inputs += ["--independent", f"splicing:IL={path}"]

    study = Study(
        directory,
        genes,
        genotyped,
        dosages,
        tissues,
        independent,
        pairs,
        reference_site,
        files.expression,
        files.sample_attributes,
    )
    _ARGS[str(directory)] = (files, str(vcf), inputs)
    return study


_ARGS: dict[str, tuple[Any, str, list[str]]] = {}


def ingest(study: Study, data_uri: str) -> None:
    files, vcf, qtl_inputs = _ARGS[str(study.directory)]

    def run(*args: str) -> None:
        assert main(["--quiet", "--data-uri", data_uri, *args]) == 0, args

    release = ["--release", RELEASE]
    run(
        "ingest",
        "reference",
        *release,
        "--tissues",
        files.tissues,
        "--annotation",
        files.annotation,
        "--variants",
        files.variants,
        "--gene-status",
        files.gene_status,
    )
    run(
        "ingest",
        "expression",
        *release,
        "--gct",
        files.expression,
        "--sample-attributes",
        files.sample_attributes,
        "--subject-phenotypes",
        files.subject_phenotypes,
    )
    run("ingest", "genotypes", *release, "--vcf", vcf)
    run("ingest", "qtl", *release, *qtl_inputs)
    run("releases", "publish", RELEASE)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Study:
    return make_study(tmp_path_factory.mktemp("xqtl"))


@pytest.fixture(scope="module")
def local_uri(study: Study, tmp_path_factory: pytest.TempPathFactory) -> str:
    return built_store(str(tmp_path_factory.mktemp("xqtl-data")), lambda uri: ingest(study, uri))


@pytest.fixture(scope="module")
def s3_uri(study: Study, moto_endpoint: str) -> str:
    uri = f"s3://{BUCKET}/xqtl-{uuid.uuid4().hex[:8]}"
    return built_store(uri, lambda uri: ingest(study, uri), moto_endpoint)


@pytest.fixture(params=["local", "s3"])
def xqtl(request: pytest.FixtureRequest, study: Study) -> Iterator[Study]:
    if request.param == "s3":
        use_store(request.getfixturevalue("s3_uri"), request.getfixturevalue("moto_endpoint"))
    else:
        use_store(request.getfixturevalue("local_uri"))
    yield study
    reset_settings()


def get(call: Caller, path: str, query: str) -> tuple[int, Any]:
    return call.get(f"/api/v4/{path}", f"{query}&datasetId={RELEASE}")


def post(call: Caller, body: Any, release: str = RELEASE) -> tuple[int, Any]:
    event = http_api_event(
        "POST",
        "/api/v4/dyneqtl",
        f"datasetId={release}",
        headers={"content-type": "application/json"},
        body=json.dumps(body).encode(),
    )
    status, answer, _ = call.event(event)
    return status, answer


def same(a: float | None, b: float) -> bool:
    return (a is None and math.isnan(b)) or a == b


# /eqtl, /xqtl, /singleTissueEqtl ------------------------------------------------------------


def alleles(study: Study, variant_id: str) -> tuple[str | None, str | None]:
    chromosome, pos = variant_id.split(":")
    if chromosome == "chr1" and int(pos) in POSITIONS.tolist():
        refs, alts = demo_alleles(np.array([int(pos)]))
        return refs[0], alts[0]
    c, p, ref, alt = study.reference_site
    if (chromosome, int(pos)) == (c, p):
        return ref, alt
    return None, None


@pytest.mark.parametrize("by", ["name", "ensembl", "upper"])
def test_eqtl_rows_equal_the_files(xqtl: Study, call: Caller, by: str) -> None:
    gene = xqtl.genes[5]  # keyed by Ensembl ID in the files, served by name
    asked = {"name": gene["gene_name"], "ensembl": gene["gene_id"], "upper": gene["gene_name"]}
    query = asked[by].upper() if by == "upper" else asked[by]
    status, body = get(call, "eqtl", f"geneId={query}")
    assert status == 200, body
    expected = [
        r
        for r in xqtl.independent
        if r["geneId"] == gene["gene_id"] and r["modality"] == "expression"
    ]
    assert len(body["eqtl"]) == len(expected) > 0
    tissues = [item["tissueSiteDetailId"] for item in body["eqtl"]]
    assert tissues == sorted(tissues, key=TISSUES.index)
    truth = {(r["tissueSiteDetailId"], r["variantId"]): r for r in expected}
    for item in body["eqtl"]:
        assert set(item) == {
            "tissueSiteDetailId",
            "geneId",
            "variantId",
            "ref",
            "alt",
            "pValueBeta",
            "log2aFC",
        }
        row = truth[item["tissueSiteDetailId"], item["variantId"]]
        assert item["geneId"] == gene["gene_name"]
        assert item["pValueBeta"] == row["pValueBeta"]
        assert item["log2aFC"] == row["log2aFC"]
        assert (item["ref"], item["alt"]) == alleles(xqtl, item["variantId"])
    assert any(item["ref"] is not None for item in body["eqtl"])


def test_xqtl_has_every_modality(xqtl: Study, call: Caller) -> None:
    gene = xqtl.genes[5]
    status, body = get(call, "xqtl", f"geneId={gene['gene_name']}")
    assert status == 200, body
    expected = [r for r in xqtl.independent if r["geneId"] == gene["gene_id"]]
    got = sorted(
        (i["tissueSiteDetailId"], i["modality"], i["phenotypeId"], i["variantId"], i["pValueBeta"])
        for i in body["xqtl"]
    )
    assert got == sorted(
        (r["tissueSiteDetailId"], r["modality"], r["phenotypeId"], r["variantId"], r["pValueBeta"])
        for r in expected
    )
    assert {i["modality"] for i in body["xqtl"]} == {"expression", "splicing"}
    assert all(i["geneId"] == gene["gene_name"] for i in body["xqtl"])


def test_single_tissue_eqtl_rows_equal_the_significant_pairs(xqtl: Study, call: Caller) -> None:
    checked = 0
    for k, gene in enumerate(xqtl.genes):
        keyed = gene["gene_name"] if k < 4 else gene["gene_id"]
        status, body = get(call, "singleTissueEqtl", f"geneId={gene['gene_name']}")
        assert status == 200, body
        expected = []
        for row in xqtl.pairs:
            tissue = xqtl.tissues[row["tissue"]]
            if row["phenotype_id"] != keyed:
                continue
            threshold = tissue.thresholds[tissue.phenotypes.index(keyed)]
            if row["pval_nominal"] <= threshold:
                pos = int(row["variant_id"].split(":")[1])
                expected.append(
                    (
                        row["tissue"],
                        row["variant_id"],
                        row["pval_nominal"],
                        float(np.float32(row["slope"])),
                        "chr1",
                        pos,
                    )
                )
        got = [
            (
                i["tissueSiteDetailId"],
                i["variantId"],
                i["pValue"],
                i["nes"],
                i["chromosome"],
                i["pos"],
            )
            for i in body["singleTissueEqtl"]
        ]
        assert sorted(got) == sorted(expected)
        assert all(i["geneId"] == gene["gene_name"] for i in body["singleTissueEqtl"])
        checked += len(got)
    assert checked > 3
    # A gene the QTL files never name: [] (not an error).
    other = gtf_records_all(xqtl)[20]["gene_name"]
    status, body = get(call, "singleTissueEqtl", f"geneId={other}")
    assert status == 200 and body == {"singleTissueEqtl": []}


def gtf_records_all(study: Study) -> list[dict[str, str]]:
    files, _, _ = _ARGS[str(study.directory)]
    return gtf_records(files.annotation, "gene")


# /dyneqtl -------------------------------------------------------------------------------------


def expected_dyneqtl(study: Study, gene: str, tissue: str, row: int) -> tuple[list, list]:
    raw = _read_raw(study.expression, study.sample_attributes)
    columns = raw.columns(tissue)
    subject_of = {r["SAMPID"]: r["SUBJID"] for r in tsv_rows(study.sample_attributes)}
    position = {s: i for i, s in enumerate(study.subjects)}
    data, genotypes = [], []
    for column in columns:
        subject = subject_of[raw.samples[column]]
        if subject not in position:
            continue
        data.append(float(raw.values[raw.row(gene), column]))
        dosage = int(study.dosages[row, position[subject]])
        genotypes.append(None if dosage < 0 else dosage)
    return data, genotypes


@pytest.mark.parametrize("lookup", ["in memory", "queried"])
@pytest.mark.parametrize(("gene_index", "tissue", "row"), [(0, "IL", 0), (5, "Liver", 1)])
def test_dyneqtl_matches_scipy(
    xqtl: Study,
    call: Caller,
    gene_index: int,
    tissue: str,
    row: int,
    lookup: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from omicsgate.portal import qtl as portal_qtl

    if lookup == "queried":  # genotype_variants and qtl_genes as a big release reads them
        monkeypatch.setattr(portal_qtl, "SMALL_TABLE_ROWS", 0)
    gene = xqtl.genes[gene_index]["gene_name"]
    variant_id = variant(int(POSITIONS[row]))
    query = f"geneId={gene}&variantId={variant_id}&tissueSiteDetailId={tissue}"
    status, body = get(call, "dyneqtl", query)
    assert status == 200, body
    data, genotypes = expected_dyneqtl(xqtl, gene, tissue, row)
    assert len(data) > 50
    assert body["genotypes"] == genotypes
    assert np.allclose(body["data"], data, rtol=1e-6)
    used = [(d, g) for d, g in zip(data, genotypes, strict=True) if g is not None]
    y = np.array([d for d, _ in used], dtype=np.float64)
    g = np.array([g for _, g in used], dtype=np.float64)
    fit = stats.linregress(g, y)
    assert body["slope"] == pytest.approx(fit.slope, rel=1e-6)
    assert body["tStatistic"] == pytest.approx(fit.slope / fit.stderr, rel=1e-6)
    assert body["pValue"] == pytest.approx(fit.pvalue, rel=1e-6)
    counts = [sum(1 for x in g if x == k) for k in (0, 1, 2)]
    assert [body["homoRefCount"], body["hetCount"], body["homoAltCount"]] == counts
    af = g.mean() / 2
    assert body["maf"] == pytest.approx(min(af, 1 - af), rel=1e-12)
    refs, alts = demo_alleles(np.array([POSITIONS[row]]))
    assert (body["ref"], body["alt"]) == (refs[0], alts[0])
    assert body["geneId"] == gene and body["variantId"] == variant_id
    assert body["tissueSiteDetailId"] == tissue
    assert body["nes"] is not None
    if row == 1:
        assert None in body["genotypes"]  # the missing calls are kept as null
    # pValueThreshold: the gene's threshold in that tissue, from the cis file.
    t = xqtl.tissues[tissue]
    keyed = gene if gene_index < 4 else xqtl.genes[gene_index]["gene_id"]
    threshold = t.thresholds[t.phenotypes.index(keyed)] if keyed in t.phenotypes else math.nan
    assert same(body["pValueThreshold"], threshold)


def test_dyneqtl_threshold_is_null_without_a_cis_row(xqtl: Study, call: Caller) -> None:
    gene = xqtl.genes[7]["gene_name"]  # not in IL's cis table
    query = f"geneId={gene}&variantId={variant(int(POSITIONS[2]))}&tissueSiteDetailId=IL"
    status, body = get(call, "dyneqtl", query)
    assert status == 200, body
    assert body["pValueThreshold"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("geneId=NoSuchGene&variantId=chr1:1000500&tissueSiteDetailId=IL", "geneId"),
        ("geneId={gene}&variantId=chr1:7&tissueSiteDetailId=IL", "variantId"),
        ("geneId={gene}&variantId=rs123&tissueSiteDetailId=IL", "variantId"),
        ("geneId={gene}&variantId=chr1:1000500&tissueSiteDetailId=Nowhere", "tissueSiteDetailId"),
    ],
)
def test_dyneqtl_unknown_ids_name_the_parameter(
    xqtl: Study, call: Caller, query: str, parameter: str
) -> None:
    status, body = get(call, "dyneqtl", query.format(gene=xqtl.genes[0]["gene_name"]))
    assert status == 400, body
    assert json.dumps(body).count(parameter) >= 1
    assert parameter in body.get("detail", json.dumps(body))


@pytest.mark.parametrize("path", ["eqtl", "xqtl", "singleTissueEqtl"])
def test_unknown_gene_names_the_parameter(xqtl: Study, call: Caller, path: str) -> None:
    status, body = get(call, path, "geneId=NoSuchGene")
    assert status == 400, body
    assert "geneId" in json.dumps(body) and "NoSuchGene" in json.dumps(body)


def test_post_dyneqtl_partial_results(xqtl: Study, call: Caller) -> None:
    gene = xqtl.genes[0]["gene_name"]
    good = {"geneId": gene, "variantId": variant(int(POSITIONS[0])), "tissueSiteDetailId": "IL"}
    queries = [
        good,
        {**good, "geneId": "NoSuchGene"},
        {**good, "variantId": "chr1:7"},
        {**good, "tissueSiteDetailId": "Liver"},
        {**good, "tissueSiteDetailId": "Nowhere"},
    ]
    status, body = post(call, queries)
    assert status == 200, body
    assert len(body["data"]) == 2 and len(body["errors"]) == 3
    query = "&".join(f"{k}={v}" for k, v in good.items())
    _, single = get(call, "dyneqtl", query)
    assert body["data"][0] == single
    assert body["data"][1]["tissueSiteDetailId"] == "Liver"
    for error, bad, parameter in zip(
        body["errors"],
        [queries[1], queries[2], queries[4]],
        ["geneId", "variantId", "tissueSiteDetailId"],
        strict=True,
    ):
        assert {k: error[k] for k in bad} == bad
        assert error["errorMessage"].startswith(parameter)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ([], 400),
        ({"geneId": "a"}, 422),
        ([{"geneId": "a"}], 422),
        ("not json", 422),
    ],
)
def test_post_dyneqtl_malformed(xqtl: Study, call: Caller, body: Any, status: int) -> None:
    got, answer = post(call, body)
    assert got == status, answer


def test_post_dyneqtl_at_most_100(xqtl: Study, call: Caller) -> None:
    item = {"geneId": "a", "variantId": "chr1:1", "tissueSiteDetailId": "IL"}
    status, body = post(call, [item] * 101)
    assert status == 400, body
    assert "101" in json.dumps(body) and "body" in json.dumps(body)


def test_release_without_qtl_is_a_404_naming_dataset(call: Caller, tmp_path: Path) -> None:
    """A reference-only release: every route answers 404 naming datasetId."""
    files = write_demo(str(tmp_path / "ref"), genes=20, seed=3, expression=False)
    uri = str(tmp_path / "data")
    use_store(uri)
    try:
        args = ["--tissues", files.tissues, "--annotation", files.annotation]
        args += ["--variants", files.variants, "--publish"]
        assert (
            main(
                ["--quiet", "--data-uri", uri, "ingest", "reference", "--release", "refonly", *args]
            )
            == 0
        )
        gene = gtf_records(files.annotation, "gene")[0]["gene_name"]
        for path, query in [
            ("eqtl", f"geneId={gene}"),
            ("xqtl", f"geneId={gene}"),
            ("singleTissueEqtl", f"geneId={gene}"),
            ("dyneqtl", f"geneId={gene}&variantId=chr1:5&tissueSiteDetailId=IL"),
        ]:
            status, body = call.get(f"/api/v4/{path}", f"{query}&datasetId=refonly")
            assert status == 404, (path, body)
            assert "datasetId" in json.dumps(body)
        status, body = post(
            call, [{"geneId": gene, "variantId": "chr1:5", "tissueSiteDetailId": "IL"}], "refonly"
        )
        assert status == 404 and "datasetId" in json.dumps(body), body
    finally:
        reset_settings()


def test_costs(xqtl: Study, call: Caller) -> None:
    """One unit a GET; a POST one per started 10 queries; unknown IDs cost nothing."""
    from tests.tokens import user_token

    headers = {"authorization": f"Bearer {user_token(f'xq-{uuid.uuid4().hex[:8]}')}"}

    def remaining(method: str, query: str, body: Any = None) -> int:
        if body is None:
            event = http_api_event(method, "/api/v4/eqtl", query, headers=headers)
        else:
            event = http_api_event(
                method,
                "/api/v4/dyneqtl",
                query,
                headers={**headers, "content-type": "application/json"},
                body=json.dumps(body).encode(),
            )
        status, answer, got = call.event(event)
        assert status in (200, 400), answer
        return int(got.get("x-allowance-remaining", -1))

    gene = xqtl.genes[0]["gene_name"]
    dataset = f"datasetId={RELEASE}"
    first = remaining("GET", f"geneId={gene}&{dataset}")
    second = remaining("GET", f"geneId={gene}&{dataset}")
    assert second == first - 1
    remaining("GET", f"geneId=NoSuchGene&{dataset}")
    item = {"geneId": gene, "variantId": variant(int(POSITIONS[0])), "tissueSiteDetailId": "IL"}
    after_post = remaining("POST", dataset, [item] * 21)
    assert after_post == second - 3  # 21 queries: 3 units; the unknown gene cost nothing
