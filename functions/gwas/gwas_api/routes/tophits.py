from fastapi import APIRouter, Response

from gwas_api.routes import MAX_IDS, POPULATIONS, Gwas, cursor_of, page, visible_studies
from omicsgate.models.gwas import Association
from omicsgate.web import ApiError
from omicsgate.web.forms import RequestParams
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["tophits"])
UNCLUMPED_FACTOR = 10  # OpenGWAS: N_id, x10 unclumped, x30 re-clumped


@router.post("/tophits", response_model=list[Association])
def tophits(
    response: Response, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, object]]:
    """Every association with p <= ``pval`` (default 5e-8, any value in (0, 1]) of each
    study, sorted by (id, p). Clumping (``clump=1``, and ``preclumped=1`` with it) needs
    the LD reference panels (next release): only ``clump=0`` is served for now, and
    ``preclumped`` is ignored without clumping. Costs 10 x N_id per page."""
    ids = params.ids("id", limit=MAX_IDS)
    pval = params.number("pval", 5e-8, 0, 1, low_open=True)
    clump = params.flag("clump", True)
    params.flag("preclumped", True)
    params.number("r2", 0.001, 0, 1)
    params.integer("kb", 5000, 0, 100_000)
    population = params.one("pop") or "EUR"
    if population not in POPULATIONS:
        raise ApiError(400, f"unknown population {population!r}", "pop")
    if clump:
        raise ApiError(
            400,
            "clumping needs the LD reference panels (next release); "
            "send clump=0 for every association with p <= pval",
            "clump",
        )
    cursor_of(params)
    studies = sorted(visible_studies(gwas, caller, ids), key=lambda s: s.id)
    meter.charge(UNCLUMPED_FACTOR * len(ids))
    rows = [row for study in studies for row in gwas.tophits(study, pval)]
    return page(params, response, rows)
