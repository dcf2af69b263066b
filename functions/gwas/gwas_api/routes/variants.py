from typing import Any

from fastapi import APIRouter

from gwas_api.routes import MAX_VARIANTS, Gwas, check_variants
from omicsgate.gwas import Locus, is_rsid, parse_chrpos
from omicsgate.gwas.ld import afl2_for
from omicsgate.models.gwas import Afl2Variant, LegacyVariant, PositionVariant, RsidVariant
from omicsgate.web import ApiError
from omicsgate.web.forms import Params, RequestParams
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["variants"])
MAX_RADIUS = 1_000_000
COST = 1


def _radius(params: Params) -> int:
    return params.integer("radius", 0, 0, MAX_RADIUS)


def _widened(item: str, radius: int) -> Locus:
    """A chr:pos or chr:start-end item (already checked), ``radius`` bp either side."""
    locus = parse_chrpos(item)
    return Locus(locus.chrom, max(1, locus.start - radius), locus.end + radius)


def _source(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "dbSNPBuildID": None,
        "ID": row["rsid"],
        "CHROM": row["chr"],
        "POS": row["pos"],
        "REF": row["ref"],
        "ALT": row["alt"],
    }


@router.post("/variants/rsid", response_model=list[RsidVariant])
def variants_rsid(
    gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, Any]]:
    """Where each rsid is (every allele the studies reported there), in OpenGWAS's
    ``{_id, _source: {ID, CHROM, POS}}`` shape (plus REF and ALT); an rsid no study
    reported is absent. Costs 1."""
    rsids = params.ids("rsid", limit=MAX_VARIANTS)
    bad = [r for r in rsids if not is_rsid(r)]
    if bad:
        raise ApiError(400, f"{bad[0]!r} is not an rsid (rs123)", "rsid")
    meter.charge(COST)
    located = gwas.locate_rsids(rsids)
    studies = list(gwas.visible(caller).values())
    out: list[dict[str, Any]] = []
    for rsid in rsids:
        for row in gwas.variants(located.get(rsid, []), studies):
            out.append({"_id": rsid, "_source": {**_source(row), "ID": rsid}})
    return out


@router.post("/variants/chrpos", response_model=list[PositionVariant])
def variants_chrpos(
    gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, Any]]:
    """Variants at or within ``radius`` bp of each chr:pos (or chr:start-end), each
    tagged with the request item it answers (``query``), as OpenGWAS answers. Costs 1."""
    items = params.ids("chrpos", limit=MAX_VARIANTS)
    radius = _radius(params)
    check_variants([i for i in items if not is_rsid(i)], "chrpos")
    if any(is_rsid(i) for i in items):
        raise ApiError(400, "takes chr:pos or chr:start-end, not rsids", "chrpos")
    meter.charge(COST)
    out: list[dict[str, Any]] = []
    for item in items:
        rows = gwas.variants([_widened(item, radius)], list(gwas.visible(caller).values()))
        out += [{"query": item, **_source(row)} for row in rows]
    return out


@router.get("/variants/gene/{gene}", response_model=list[PositionVariant])
def variants_gene(
    gene: str, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[dict[str, Any]]:
    """Variants within a gene (symbol or Ensembl ID of the catalogue's annotation) and
    ``radius`` bp either side. An unknown gene is a 400 naming ``gene``. Costs 1."""
    radius = _radius(params)
    found = gwas.gene(gene.strip())
    if found is None:
        raise ApiError(400, f"unknown gene {gene!r}", "gene")
    meter.charge(COST)
    locus, _ = found
    wide = Locus(locus.chrom, max(1, locus.start - radius), locus.end + radius)
    rows = gwas.variants([wide], list(gwas.visible(caller).values()))
    return [{"query": gene, **_source(row)} for row in rows]


@router.get("/variants/chrpos/{chrpos}", response_model=list[list[LegacyVariant]])
def variants_chrpos_get(
    chrpos: str, gwas: Gwas, caller: CurrentCaller, meter: Metered, params: RequestParams
) -> list[list[dict[str, Any]]]:
    """The older GET form that ieugwaspy's ``variants_chrpos`` (and so its ``phewas`` of
    chr:pos variants) still calls: comma-separated chr:pos items in the path, one list of
    hits per item, each hit ``{_id: rsid, query, ID, CHROM, POS, REF, ALT}``. Costs 1."""
    items = [item.strip() for item in chrpos.split(",") if item.strip()]
    if not items:
        raise ApiError(400, "at least one chr:pos is required", "chrpos")
    if len(items) > MAX_VARIANTS:
        raise ApiError(400, f"{len(items)} values given, at most {MAX_VARIANTS}", "chrpos")
    if any(is_rsid(i) for i in items):
        raise ApiError(400, "takes chr:pos or chr:start-end, not rsids", "chrpos")
    check_variants(items, "chrpos")
    radius = _radius(params)
    meter.charge(COST)
    out: list[list[dict[str, Any]]] = []
    for item in items:
        rows = gwas.variants([_widened(item, radius)], list(gwas.visible(caller).values()))
        out.append([{"_id": row["rsid"], "query": item, **_source(row)} for row in rows])
    return out


@router.post("/variants/afl2", response_model=list[Afl2Variant])
def variants_afl2(gwas: Gwas, meter: Metered, params: RequestParams) -> list[dict[str, Any]]:
    """Allele frequencies and LD scores from the LD reference panels of the SNPs named by
    ``rsid`` and at or within ``radius`` bp of each ``chrpos`` (either or both; up to 1000
    each): ``{rsid, chr, pos, ref, alt, AF.<POP>, L2.<POP>}`` per loaded population, ALT
    being the panel's A1; null where a population's panel lacks the SNP. By position.
    Costs 1."""
    rsids = params.ids("rsid", limit=MAX_VARIANTS, required=False)
    items = params.ids("chrpos", limit=MAX_VARIANTS, required=False)
    if not rsids and not items:
        raise ApiError(400, "give rsid or chrpos (or both)", "rsid")
    bad = [r for r in rsids if not is_rsid(r)]
    if bad:
        raise ApiError(400, f"{bad[0]!r} is not an rsid (rs123)", "rsid")
    if any(is_rsid(i) for i in items):
        raise ApiError(400, "takes chr:pos or chr:start-end, not rsids", "chrpos")
    check_variants(items, "chrpos")
    radius = _radius(params)
    meter.charge(COST)
    return afl2_for(gwas, rsids, [_widened(item, radius) for item in items])


@router.get("/variants/afl2/snplist", response_model=list[Afl2Variant])
def variants_afl2_snplist(gwas: Gwas, meter: Metered) -> list[dict[str, Any]]:
    """SNPs common (MAF >= 0.05) in every loaded panel, at most 20,000 spread evenly along
    the genome (OpenGWAS's list for ancestry inference, ~20,000 SNPs), with their
    ``AF.<POP>`` and ``L2.<POP>`` as ``/variants/afl2`` gives them. Costs 1."""
    meter.charge(COST)
    return gwas.snplist()
