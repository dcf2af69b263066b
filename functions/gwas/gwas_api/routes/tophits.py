from fastapi import APIRouter, Response

from gwas_api.routes import MAX_IDS, Gwas, cursor_of, page, panel_of, visible_studies
from gwas_api.routes.ld import report_dropped
from omicsgate.gwas import ld as ld_answers
from omicsgate.models.gwas import Association
from omicsgate.web.forms import RequestParams
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["tophits"])
# OpenGWAS: N_id, x10 unclumped, x30 re-clumped (preclumped answers cost N_id).
UNCLUMPED_FACTOR, RECLUMPED_FACTOR = 10, 30


@router.post("/tophits", response_model=list[Association])
def tophits(
    response: Response, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, object]]:
    """Associations with p <= ``pval`` (default 5e-8, any value in (0, 1]) of each study,
    sorted by (id, p).

    - ``clump=0``: all of them. Costs 10 x N_id per page.
    - ``clump=1`` (default) with ``preclumped=1`` (default) and ``pval`` = 5e-8: the index
      SNPs clumped when the study was ingested (EUR panel, r2 0.001, 10,000 kb, as
      OpenGWAS precomputes them). Costs N_id.
    - otherwise ``clump=1`` clumps now with ``r2`` (0.001), ``kb`` (5000) and the ``pop``
      panel (EUR). Hits the panel lacks are dropped (``X-Dropped-Count``,
      ``X-Dropped-Variants``). Costs 30 x N_id."""
    ids = params.ids("id", limit=MAX_IDS)
    pval = params.number("pval", 5e-8, 0, 1, low_open=True)
    clump = params.flag("clump", True)
    preclumped = params.flag("preclumped", True)
    r2 = params.number("r2", 0.001, 0, 1)
    kb = params.number("kb", 5000, 0, 100_000, low_open=True)
    panel = panel_of(gwas, params.one("pop") or "EUR", "pop") if clump else None
    cursor_of(params)
    gwas.open_ahead("tophits", tophits_p=pval)
    studies = sorted(visible_studies(gwas, caller, ids), key=lambda s: s.id)
    stored = preclumped and pval == ld_answers.PRECLUMP.pval
    factor = 1 if clump and stored else RECLUMPED_FACTOR if clump else UNCLUMPED_FACTOR
    meter.charge(factor * len(ids))
    rows: list[dict[str, object]] = []
    dropped: list[str] = []
    for study in studies:
        if panel is None:
            rows += gwas.tophits(study, pval)
        elif stored and study.clumped is not None:
            kept = set(study.clumped)
            rows += [row for row in gwas.tophits(study, pval) if row["rsid"] in kept]
        else:  # clumped now (a preclumped answer of a study ingested before the panel)
            use, settings = panel, (pval, r2, kb)
            if stored:
                use = panel_of(gwas, ld_answers.PRECLUMP.population, "pop")
                settings = (pval, ld_answers.PRECLUMP.r2, ld_answers.PRECLUMP.kb)
            hits, lacking = ld_answers.clumped_hits(gwas, use, study, *settings)
            rows += hits
            dropped += lacking
    if panel is not None:
        report_dropped(response, dropped)
    return page(params, response, rows)
