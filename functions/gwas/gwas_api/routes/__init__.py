"""One router per OpenGWAS resource, and what they share: limits, study and variant
parsing, paging.

Limits (OpenGWAS caps associations at 64 id x variant cells; we do not):
- at most :data:`MAX_IDS` studies and :data:`MAX_VARIANTS` variants per request, and
  :data:`MAX_CELLS` id x variant cells for /associations (100 x 100 is 10,000);
- at most :data:`PAGE_ROWS` records (and about :data:`PAGE_BYTES` of JSON) per response,
  under Lambda's 6 MB. A longer answer carries ``X-Next-Cursor``; the client repeats the
  same request with ``cursor=<that value>`` for the next page (``X-Total-Count`` says how
  many records the whole answer has). Each page is a request of its own, charged as one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Response

from omicsgate.auth import Caller
from omicsgate.gwas import (
    POPULATIONS,
    GwasStore,
    Locus,
    Panel,
    Study,
    UnknownPanel,
    get_gwas,
    is_rsid,
    parse_chrpos,
)
from omicsgate.web import ApiError
from omicsgate.web.forms import Params
from omicsgate.web.params import Store

MAX_IDS = 1000
MAX_VARIANTS = 1000
MAX_CELLS = 100_000
PAGE_ROWS = 10_000
PAGE_BYTES = 5_000_000


def gwas_store(store: Store) -> GwasStore:
    return get_gwas(store)


Gwas = Annotated[GwasStore, Depends(gwas_store)]


def visible_studies(gwas: GwasStore, caller: Caller, ids: Sequence[str]) -> list[Study]:
    """The studies named, in request order; an unknown one, or one the caller may not
    see (the same answer), is a 400 naming ``id``."""
    visible = gwas.visible(caller)
    missing = [i for i in ids if i not in visible]
    if missing:
        raise ApiError(400, f"unknown study {missing[0]!r}", "id")
    return [visible[i] for i in ids]


def check_population(population: str, parameter: str) -> None:
    if population not in POPULATIONS:
        raise ApiError(
            400, f"unknown population {population!r}: one of {', '.join(POPULATIONS)}", parameter
        )


def panel_of(gwas: GwasStore, population: str, parameter: str) -> Panel:
    """The LD reference panel of a population; 400 naming the parameter for a population
    OpenGWAS does not have, or one whose panel is not loaded here."""
    check_population(population, parameter)
    try:
        return gwas.panel(population)
    except UnknownPanel:
        raise ApiError(
            400, f"no LD reference panel is loaded for {population}", parameter
        ) from None


def check_variants(values: Sequence[str], parameter: str) -> None:
    """Each item an rsid, chr:pos or chr:start-end; 400 naming the parameter otherwise."""
    for value in values:
        if is_rsid(value):
            continue
        try:
            parse_chrpos(value)
        except ValueError as error:
            raise ApiError(400, str(error), parameter) from None


def loci_of(gwas: GwasStore, values: Sequence[str], radius: int = 0) -> list[Locus]:
    """Variants (already checked) -> loci: rsids where a study reported them (none if
    none did), positions and ranges widened by ``radius``."""
    loci: list[Locus] = []
    rsids = [v for v in values if is_rsid(v)]
    located = gwas.locate_rsids(rsids) if rsids else {}
    for value in values:
        if is_rsid(value):
            loci.extend(located.get(value, []))
        else:
            locus = parse_chrpos(value)
            loci.append(Locus(locus.chrom, max(1, locus.start - radius), locus.end + radius))
    return loci


def open_ahead_for(gwas: GwasStore, variants: Sequence[str]) -> None:
    """Start opening what reading the variants' associations needs (see ``open_ahead``)."""
    if any(is_rsid(v) for v in variants):
        gwas.open_ahead("positions", "rsids")
    else:
        gwas.open_ahead("positions")


def page(params: Params, response: Response, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of the page ``cursor`` asks for (the first without), and the headers that
    say what is left: ``X-Total-Count`` and, when more rows follow, ``X-Next-Cursor``."""
    start = cursor_of(params)
    if start > len(rows):
        raise ApiError(
            400, f"{start} is past the end of the answer ({len(rows)} records)", "cursor"
        )
    end, size = start, 2
    while end < len(rows) and end - start < PAGE_ROWS:
        size += len(json.dumps(rows[end])) + 1
        if size > PAGE_BYTES and end > start:
            break
        end += 1
    response.headers["X-Total-Count"] = str(len(rows))
    if end < len(rows):
        response.headers["X-Next-Cursor"] = str(end)
    return rows[start:end]


def cursor_of(params: Params) -> int:
    return params.integer("cursor", 0, 0, 2**53)
