from fastapi import APIRouter, Response

from gwas_api.routes import (
    MAX_CELLS,
    MAX_IDS,
    MAX_VARIANTS,
    Gwas,
    check_population,
    check_variants,
    cursor_of,
    loci_of,
    open_ahead_for,
    page,
    visible_studies,
)
from omicsgate.gwas import is_rsid
from omicsgate.gwas import ld as ld_answers
from omicsgate.models.gwas import ProxiedAssociation
from omicsgate.web import ApiError
from omicsgate.web.forms import RequestParams
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["associations"])
PROXY_FACTOR = 5  # OpenGWAS documents x5 with proxies (its code applies it inverted)


@router.post(
    "/associations", response_model=list[ProxiedAssociation], response_model_exclude_unset=True
)
def associations(
    response: Response, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, object]]:
    """Every association of the studies (``id``) at the variants (``variant``: rsid,
    chr:pos or chr:start-end), by study in request order, then position. Up to
    1000 studies, 1000 variants and 100,000 id x variant cells; pages of 10,000 records
    (``cursor``).

    ``proxies=1`` (the default, as OpenGWAS): for an rsid a study did not report, the
    study's best LD proxy from the ``population`` panel (haplotype r2 >= ``r2``, within
    500 kb; best r2 first, then nearest) whose alleles align to the target's
    (``align_alleles``; strand flips allowed; palindromic SNPs when ``palindromes`` and
    MAF < ``maf_threshold``). Proxy records carry ``target_snp, proxy_snp, proxy,
    target_a1, target_a2, proxy_a1, proxy_a2`` and, aligned, the target's rsid and
    alleles. Without a panel for the population, records come without proxies and
    ``X-Proxies-Unavailable`` says why. Costs max(N_id, N_variant) per page, x5 with
    proxies (OpenGWAS's docs)."""
    variants = params.ids("variant", limit=MAX_VARIANTS)
    ids = params.ids("id", limit=MAX_IDS)
    if len(ids) * len(variants) > MAX_CELLS:
        raise ApiError(
            400, f"{len(ids)} x {len(variants)} id x variant cells, at most {MAX_CELLS}", "variant"
        )
    check_variants(variants, "variant")
    proxies = params.flag("proxies", True)
    population = params.one("population") or "EUR"
    r2 = params.number("r2", 0.8, 0, 1)
    options = ld_answers.ProxyOptions(
        align_alleles=params.flag("align_alleles", True),
        palindromes=params.flag("palindromes", True),
        maf_threshold=params.number("maf_threshold", 0.3, 0, 0.5),
    )
    check_population(population, "population")
    panel = gwas.panels().get(population) if proxies else None
    cursor_of(params)
    open_ahead_for(gwas, variants)
    studies = visible_studies(gwas, caller, ids)
    meter.charge(max(len(ids), len(variants)) * (PROXY_FACTOR if panel is not None else 1))
    rows = gwas.associations(studies, loci_of(gwas, variants))
    if proxies and panel is None:  # served without: ieugwaspy asks for proxies by default
        response.headers["X-Proxies-Unavailable"] = f"no LD reference panel for {population}"
    if panel is not None:
        rsids = [v for v in variants if is_rsid(v)]
        rows = ld_answers.with_proxies(gwas, panel, studies, rows, rsids, r2, options)
    return page(params, response, rows)
