from typing import Annotated

from fastapi import APIRouter, Body, Query

from omicsgate.models.portal import Dyneqtl, DyneqtlBatchResponse, DyneqtlQuery
from omicsgate.portal import qtl
from omicsgate.portal.expression import UnknownIds
from omicsgate.web import ApiError
from omicsgate.web.params import Release, Store, one_id
from omicsgate.web.security import Metered
from xqtl_api.routes import client_errors

router = APIRouter(prefix="/api/v4", tags=["xQTL"])
MAX_QUERIES = 100  # per POST: 100 genotype tiles and 100 expression tiles at most
QUERIES_PER_UNIT = 10  # cost: 1 per started 10 gene-variant-tissue triples


@router.get("/dyneqtl", response_model=Dyneqtl)
def dyneqtl(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[str, Query(alias="geneId", description="one gene ID")],
    variant_id: Annotated[str, Query(alias="variantId", description="one variant (chr:pos)")],
    tissue_id: Annotated[str, Query(alias="tissueSiteDetailId", description="one tissue ID")],
) -> dict[str, object]:
    """One gene-variant pair in one tissue, computed on the fly: expression of the tissue's
    genotyped samples against their dosages (OLS; two-sided Student t p-value), with GTEx's
    nes and t statistic. One expression tile and one genotype tile are read."""
    gene = one_id(gene_id, "geneId")
    variant = one_id(variant_id, "variantId")
    tissue = one_id(tissue_id, "tissueSiteDetailId")
    with client_errors():
        qtl.require_dyneqtl(store, release)
        qtl.find_gene(store, release, gene)
        meter.charge()
        return qtl.dyneqtl(store, release, gene, variant, tissue)


@router.post("/dyneqtl", response_model=DyneqtlBatchResponse)
def dyneqtl_batch(
    store: Store,
    release: Release,
    meter: Metered,
    queries: Annotated[
        list[DyneqtlQuery],
        Body(description=f"at most {MAX_QUERIES} {{geneId, variantId, tissueSiteDetailId}}"),
    ],
) -> dict[str, object]:
    """Several dynamic eQTLs at once (GTEx v2's POST /association/dyneqtl): the pairs that
    could be computed in ``data``, one item per failed query in ``errors``, in request
    order. A release without genotypes fails the whole request (404 naming datasetId)."""
    if not queries:
        raise ApiError(400, "no query given", "body")
    if len(queries) > MAX_QUERIES:
        raise ApiError(400, f"{len(queries)} queries given, at most {MAX_QUERIES}", "body")
    with client_errors():
        qtl.require_dyneqtl(store, release)
        meter.charge(1 + (len(queries) - 1) // QUERIES_PER_UNIT)
        data: list[dict[str, object]] = []
        errors: list[dict[str, object]] = []
        for query in queries:
            try:
                data.append(
                    qtl.dyneqtl(
                        store, release, query.geneId, query.variantId, query.tissueSiteDetailId
                    )
                )
            except (UnknownIds, qtl.NotTestable) as error:
                errors.append({"errorMessage": f"{error.parameter}: {error}", **query.model_dump()})
        return {"data": data, "errors": errors}
