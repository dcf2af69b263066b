from fastapi import APIRouter, Response

from gwas_api.routes import Gwas, panel_of
from omicsgate.gwas import Panel, is_rsid
from omicsgate.gwas import ld as ld_answers
from omicsgate.models.gwas import LdMatrix
from omicsgate.web import ApiError
from omicsgate.web.forms import Params, RequestParams
from omicsgate.web.security import Metered

router = APIRouter(prefix="/gwas", tags=["ld"])
MAX_CLUMP_SNPS = 50_000
MAX_MATRIX_SNPS = 500  # 500 x 500 numbers as strings: about 3 MB, under Lambda's 6 MB
MAX_LOOKUP_SNPS = 50_000
COSTS = {"clump": 12, "matrix": 18, "reflookup": 2}  # OpenGWAS's
DROPPED_HEADER_BYTES = 4000  # API Gateway allows 10 KB of headers in all


def _rsids(params: Params, limit: int, unique: bool = True) -> list[str]:
    rsids = params.ids("rsid", limit=limit, unique=unique)
    bad = [r for r in rsids if not is_rsid(r)]
    if bad:
        raise ApiError(400, f"{bad[0]!r} is not an rsid (rs123)", "rsid")
    return rsids


def _population(params: Params, gwas: Gwas) -> Panel:
    return panel_of(gwas, params.one("pop") or "EUR", "pop")


def report_dropped(response: Response, dropped: list[str]) -> None:
    """``X-Dropped-Count``: how many candidates the panel lacks; ``X-Dropped-Variants``:
    their rsids, comma-separated, cut to about 4 KB (``X-Dropped-Truncated: 1`` then;
    ``/ld/reflookup`` tells any list apart in full)."""
    response.headers["X-Dropped-Count"] = str(len(dropped))
    listed, size = [], 0
    for rsid in dropped:
        size += len(rsid) + 1
        if size > DROPPED_HEADER_BYTES:
            response.headers["X-Dropped-Truncated"] = "1"
            break
        listed.append(rsid)
    if listed:
        response.headers["X-Dropped-Variants"] = ",".join(listed)


@router.post("/ld/clump", response_model=list[str])
def ld_clump(response: Response, gwas: Gwas, meter: Metered, params: RequestParams) -> list[str]:
    """Index SNPs of the ``rsid``/``pval`` pairs (equal lengths, up to 50,000), clumped as
    PLINK 1.9 ``--clump`` does with ``pthresh`` (p1 = p2, default 5e-8), ``r2`` (0.001),
    ``kb`` (5000) and the ``pop`` panel's haplotype r2 (EUR), most significant first.
    Candidates the panel lacks are dropped (see ``X-Dropped-Count`` and
    ``X-Dropped-Variants``). Costs 12."""
    rsids = _rsids(params, MAX_CLUMP_SNPS, unique=False)
    pvals = params.numbers("pval", limit=MAX_CLUMP_SNPS, low=0, high=1, low_open=True)
    if len(pvals) != len(rsids):
        raise ApiError(400, f"{len(pvals)} p-values for {len(rsids)} rsids", "pval")
    p1 = params.number("pthresh", 5e-8, 0, 1, low_open=True)
    r2 = params.number("r2", 0.001, 0, 1)
    kb = params.number("kb", 5000, 0, 100_000, low_open=True)
    panel = _population(params, gwas)
    meter.charge(COSTS["clump"])
    clumps = ld_answers.clump(panel, rsids, pvals, p1, r2, kb)
    report_dropped(response, clumps.dropped)
    return [rsids[i] for i in clumps.index]


@router.post("/ld/matrix", response_model=LdMatrix)
def ld_matrix(gwas: Gwas, meter: Metered, params: RequestParams) -> dict[str, object]:
    """Signed r (PLINK ``--r square``; numbers as strings, as OpenGWAS sends them) between
    the SNPs of ``rsid`` (up to 500) the ``pop`` panel has, in panel order;
    ``snplist`` names them ``rsid_A1_A2`` with A1 the panel's minor allele. Costs 18."""
    rsids = _rsids(params, MAX_MATRIX_SNPS)
    panel = _population(params, gwas)
    meter.charge(COSTS["matrix"])
    snplist, matrix = ld_answers.ld_matrix(panel, rsids)
    return {"snplist": snplist, "matrix": matrix}


@router.post("/ld/reflookup", response_model=list[str])
def ld_reflookup(gwas: Gwas, meter: Metered, params: RequestParams) -> list[str]:
    """The rsids of ``rsid`` (up to 50,000) the ``pop`` panel has, in request order.
    Costs 2."""
    rsids = _rsids(params, MAX_LOOKUP_SNPS)
    panel = _population(params, gwas)
    meter.charge(COSTS["reflookup"])
    _, found = ld_answers.first_rows(panel, rsids)
    return [rsids[i] for i in found]
