from fastapi import APIRouter, Response

from gwas_api.routes import (
    MAX_IDS,
    MAX_VARIANTS,
    Gwas,
    check_variants,
    cursor_of,
    loci_of,
    open_ahead_for,
    page,
)
from omicsgate.models.gwas import Association
from omicsgate.web.forms import RequestParams
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["phewas"])
COST_PER_VARIANT = 20


@router.post("/phewas", response_model=list[Association])
def phewas(
    response: Response, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, object]]:
    """Associations with p <= ``pval`` (default 0.01; any value in (0, 1], OpenGWAS
    stops at 0.01) at the variants, across every study the caller may see (or those of
    the batches in ``index_list``), sorted by (id, p). Costs, as OpenGWAS documents,
    20 per variant before the query and 1 per record returned after it."""
    variants = params.ids("variant", limit=MAX_VARIANTS)
    check_variants(variants, "variant")
    pval = params.number("pval", 0.01, 0, 1, low_open=True)
    batches = set(params.ids("index_list", limit=MAX_IDS, required=False))
    cursor_of(params)
    open_ahead_for(gwas, variants)
    meter.charge(COST_PER_VARIANT * len(variants))
    studies = [
        study
        for _, study in sorted(gwas.visible(caller).items())
        if not batches or study.batch in batches
    ]
    rows = page(params, response, gwas.phewas(studies, loci_of(gwas, variants), pval))
    meter.charge(len(rows))
    return rows
