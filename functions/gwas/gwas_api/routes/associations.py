from fastapi import APIRouter, Response

from gwas_api.routes import (
    MAX_CELLS,
    MAX_IDS,
    MAX_VARIANTS,
    POPULATIONS,
    Gwas,
    check_variants,
    cursor_of,
    loci_of,
    page,
    visible_studies,
)
from omicsgate.models.gwas import Association
from omicsgate.web import ApiError
from omicsgate.web.forms import RequestParams
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["associations"])


@router.post("/associations", response_model=list[Association])
def associations(
    response: Response, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, object]]:
    """Every association of the studies (``id``) at the variants (``variant``: rsid,
    chr:pos or chr:start-end), by study in request order, then position. Up to
    1000 studies, 1000 variants and 100,000 id x variant cells; pages of 10,000 records
    (``cursor``). ``proxies=1`` needs the LD panels (next release): 400 for now.
    Costs max(N_id, N_variant) per page, as OpenGWAS documents (without proxies)."""
    variants = params.ids("variant", limit=MAX_VARIANTS)
    ids = params.ids("id", limit=MAX_IDS)
    if len(ids) * len(variants) > MAX_CELLS:
        raise ApiError(
            400, f"{len(ids)} x {len(variants)} id x variant cells, at most {MAX_CELLS}", "variant"
        )
    check_variants(variants, "variant")
    if params.flag("proxies", False):
        raise ApiError(
            400, "LD proxies come with the LD reference panels; send proxies=0", "proxies"
        )
    population = params.one("population") or "EUR"
    if population not in POPULATIONS:
        raise ApiError(400, f"unknown population {population!r}", "population")
    params.number("r2", 0.8, 0, 1)
    params.number("maf_threshold", 0.3, 0, 0.5)
    params.flag("align_alleles", True)
    params.flag("palindromes", True)
    cursor_of(params)
    studies = visible_studies(gwas, caller, ids)
    meter.charge(max(len(ids), len(variants)))
    rows = gwas.associations(studies, loci_of(gwas, variants))
    return page(params, response, rows)
