"""The reference group end to end: events -> Lambda handler -> TileDB (local and S3)."""

from __future__ import annotations

from collections import Counter

import pytest

from omicsgate.ingest.demo import DemoFiles
from tests.conftest import DEMO_RELEASE, Caller
from tests.helpers import gtf_records, spec_item_fields, tsv_rows, vcf_sites

pytestmark = pytest.mark.integration


def test_tissue_info_lists_13_tissues_with_every_spec_field(
    backend: str, call: Caller, demo_files: DemoFiles
) -> None:
    status, body = call.get("/api/v4/tissueInfo")
    assert status == 200
    tissues = body["tissueInfo"]
    expected = tsv_rows(demo_files.tissues)
    samples = Counter(r["SMTSD"] for r in tsv_rows(demo_files.sample_attributes) if r["SMTSD"])
    assert [t["tissueSiteDetailId"] for t in tissues] == [r["tissueSiteDetailId"] for r in expected]
    assert len(tissues) == 13
    spec_fields = spec_item_fields("/tissueInfo", "tissueInfo")
    for tissue, row in zip(tissues, expected, strict=True):
        assert spec_fields <= set(tissue)
        assert tissue["hasEGenes"] == tissue["hasEgenes"] == (row["hasEGenes"] == "true")
        # Counted at publish from the expression part: the samples of the tissue.
        assert tissue["rnaSeqSampleCount"] == samples[tissue["tissueSiteDetailId"]]
        assert tissue["rnaSeqAndGenotypeSampleCount"] <= tissue["rnaSeqSampleCount"]
        assert tissue["colorHex"] == row["colorHex"]


def test_gene_keeps_request_order_ignores_case_and_drops_unknown(
    backend: str, call: Caller, demo_files: DemoFiles
) -> None:
    genes = gtf_records(demo_files.annotation, "gene")
    b, a = genes[5], genes[2]
    query = f"geneId={b['gene_name'].upper()},no-such-gene,{a['gene_name'].lower()}"
    status, body = call.get("/api/v4/gene", query)
    assert status == 200
    assert [g["geneId"] for g in body["gene"]] == [b["gene_name"], a["gene_name"]]
    first = body["gene"][0]
    assert set(first) >= spec_item_fields("/gene", "gene")
    assert (first["chromosome"], first["start"], first["end"], first["strand"]) == (
        b["chrom"],
        int(b["start"]),
        int(b["end"]),
        b["strand"],
    )
    assert first["tss"] == (int(b["start"]) if b["strand"] == "+" else int(b["end"]))
    assert first["description"] == b["description"]


def test_gene_status_in_tissue_matches_the_status_file(
    backend: str, call: Caller, demo_files: DemoFiles
) -> None:
    gene = gtf_records(demo_files.annotation, "gene")[7]["gene_name"]
    rows = [r for r in tsv_rows(demo_files.gene_status) if r["geneId"] == gene]
    status, body = call.get("/api/v4/gene", f"geneId={gene}")
    assert status == 200
    served = body["gene"][0]["statusInTissue"]
    # `expressed` comes from the expression matrix (tests/integration/test_drafts.py).
    assert [(s["tissueSiteDetailId"], s["testedEqtl"], s["eqtl"]) for s in served] == [
        (r["tissueSiteDetailId"], r["testedEqtl"] == "true", r["eqtl"] == "true") for r in rows
    ]
    assert body["gene"][0]["hasEqtl"] == any(r["eqtl"] == "true" for r in rows)


def test_exons_match_the_annotation(backend: str, call: Caller, demo_files: DemoFiles) -> None:
    gene = gtf_records(demo_files.annotation, "gene")[3]
    expected = [
        e for e in gtf_records(demo_files.annotation, "exon") if e["gene_id"] == gene["gene_id"]
    ]
    status, body = call.get("/api/v4/exon", f"geneId={gene['gene_name'].lower()}")
    assert status == 200
    assert [
        (e["exonId"], e["start"], e["end"], e["transcriptId"], e["exonNumber"])
        for e in body["exon"]
    ] == [
        (e["exon_id"], int(e["start"]), int(e["end"]), e["transcript_id"], int(e["exon_number"]))
        for e in expected
    ]
    assert {e["featureType"] for e in body["exon"]} == {"exon"}
    assert {e["geneId"] for e in body["exon"]} == {gene["gene_name"]}
    assert set(body["exon"][0]) >= spec_item_fields("/exon", "exon")


def test_exon_of_unknown_gene_is_empty(backend: str, call: Caller) -> None:
    assert call.get("/api/v4/exon", "geneId=NoSuchGene") == (200, {"exon": []})


def test_variants_in_request_order_with_multiallelic_sites_split(
    backend: str, call: Caller, demo_files: DemoFiles
) -> None:
    sites = vcf_sites(demo_files.variants)
    positions = [(c, p) for c, p, _, _ in sites]
    multi = next(s for s in sites if positions.count((s[0], s[1])) > 1)
    chosen = [sites[-1][:2], multi[:2], ("chr1", 3), sites[0][:2]]
    query = "variantId=" + ",".join(f"{c}:{p}" for c, p in chosen)
    status, body = call.get("/api/v4/variant", query)
    assert status == 200
    expected = [
        {"alt": alt, "chromosome": c, "pos": p, "ref": ref, "variantId": f"{c}:{p}"}
        for c0, p0 in chosen
        for c, p, ref, alt in sites
        if (c, p) == (c0, p0)
    ]
    assert body["variant"] == expected
    assert len([v for v in body["variant"] if (v["chromosome"], v["pos"]) == multi[:2]]) > 1


@pytest.mark.parametrize(
    ("path", "query", "status", "parameter"),
    [
        ("/api/v4/gene", "", 422, "geneId"),
        ("/api/v4/gene", "geneId=,,", 400, "geneId"),
        ("/api/v4/gene", "geneId=" + ",".join(f"g{i}" for i in range(1001)), 400, "geneId"),
        ("/api/v4/gene", "geneId=Eno1," + "x" * 129, 400, "geneId"),
        ("/api/v4/exon", "", 422, "geneId"),
        ("/api/v4/exon", "geneId=" + "x" * 129, 400, "geneId"),
        ("/api/v4/variant", "variantId=chr1-55", 400, "variantId"),
        ("/api/v4/variant", "variantId=chr1:0", 400, "variantId"),
        ("/api/v4/variant", "", 422, "variantId"),
        ("/api/v4/tissueInfo", "datasetId=gtex_v99", 400, "datasetId"),
        ("/api/v4/tissueInfo", "datasetId=../../etc", 400, "datasetId"),
        ("/api/v4/gene", "geneId=Eno1&datasetId=" + "x" * 65, 400, "datasetId"),
    ],
)
def test_bad_input_gets_a_json_4xx_naming_the_parameter(
    backend: str, call: Caller, path: str, query: str, status: int, parameter: str
) -> None:
    got, body = call.get(path, query)
    assert got == status
    message = body.get("message") or body["detail"]
    assert isinstance(message, str) and message.startswith(f"{parameter}:")
    assert "Traceback" not in str(body)


def test_dataset_id_names_the_release(backend: str, call: Caller) -> None:
    default = call.get("/api/v4/tissueInfo")
    dataset_ids = {t["datasetId"] for t in default[1]["tissueInfo"]}
    assert dataset_ids == {DEMO_RELEASE}  # what tissueInfo says is what datasetId takes
    chosen = call.get("/api/v4/tissueInfo", f"datasetId={DEMO_RELEASE}")
    assert chosen == default
    assert chosen[0] == 200


def test_unknown_route_is_a_json_404(backend: str, call: Caller, template) -> None:  # type: ignore[no-untyped-def]
    from omicsgate.localapi.events import LocalContext, http_api_event

    handler = call.handler_for("ReferenceFunction")
    response = handler(http_api_event("GET", "/api/v4/nothing"), LocalContext())
    assert response["statusCode"] == 404
    assert response["headers"]["content-type"] == "application/json"
