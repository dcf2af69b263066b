"""RNAget expressions: formats, units, filters, and matrices by ID or by search, as a
ticket or as bytes (the matrix answers are :mod:`rnaget_api.routes.files`')."""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from omicsgate.auth import Caller
from omicsgate.models.rnaget import Filter, Ticket
from omicsgate.rnaget import expression, formats
from omicsgate.rnaget.catalog import UnknownFilter
from omicsgate.rnaget.expression import Expression, Selection, SliceError
from omicsgate.storage import DataStore
from omicsgate.web import ApiError
from omicsgate.web.params import Store, split_ids
from omicsgate.web.security import CurrentCaller, Metered
from rnaget_api.routes import NOT_FOUND, PREFIX, unknown_filter
from rnaget_api.routes.files import MatrixAnswer, file_format, file_response, ticket

router = APIRouter(prefix=PREFIX + "/expressions", tags=["expressions"])

FILTER_KINDS = ("feature", "sample")
CELLS_PER_UNIT = 1_000_000  # a matrix answer costs 1 per started million values
# Query parameters of the matrix routes besides the sample filters (and, for searches,
# the object filters): anything else is a 400 naming it.
SLICE_PARAMS = frozenset(
    {
        "format",
        "units",
        "sampleIDList",
        "featureIDList",
        "featureNameList",
        "feature_min_value",
        "feature_max_value",
    }
)
NO_MATCH = "no expression matches the search"


@dataclass(frozen=True)
class SliceParams:
    selection: Selection
    units: str | None
    file_format: str | None  # None: not given


def _single_values(request: Request, names: Collection[str]) -> dict[str, str]:
    """The query's values of these filters, one each (given twice is a 400). Only these:
    list parameters may repeat their key."""
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key in names:
            if key in found:
                raise ApiError(400, "given more than once; it takes one value", key)
            found[key] = value
    return found


def _ids(values: list[str] | None, parameter: str) -> tuple[str, ...] | None:
    return None if values is None else tuple(dict.fromkeys(split_ids(values, parameter)))


def slice_params(
    request: Request,
    file_format: Annotated[
        str | None, Query(alias="format", description="tsv, loom or h5ad")
    ] = None,
    units: Annotated[str | None, Query(description="one of /expressions/units")] = None,
    sample_ids: Annotated[list[str] | None, Query(alias="sampleIDList")] = None,
    feature_ids: Annotated[list[str] | None, Query(alias="featureIDList")] = None,
    feature_names: Annotated[list[str] | None, Query(alias="featureNameList")] = None,
    min_value: Annotated[float | None, Query(alias="feature_min_value")] = None,
    max_value: Annotated[float | None, Query(alias="feature_max_value")] = None,
) -> SliceParams:
    """The slicing parameters (lists comma-separated, at most OMICSGATE_MAX_IDS IDs each)
    and the sample filters (``/expressions/filters?type=sample``), one value each."""
    try:
        expression.check_bounds(min_value, max_value)
    except SliceError as error:
        raise ApiError(error.status, error.problem, error.parameter) from error
    samples = tuple(_single_values(request, expression.SAMPLE_FILTERS).items())
    selection = Selection(
        _ids(feature_ids, "featureIDList"),
        _ids(feature_names, "featureNameList"),
        _ids(sample_ids, "sampleIDList"),
        tuple(sorted(samples)),
        min_value,
        max_value,
    )
    return SliceParams(selection, units, file_format)


Slice = Annotated[SliceParams, Depends(slice_params)]


def _refuse_unknown(request: Request, allowed: frozenset[str]) -> None:
    known = SLICE_PARAMS | set(expression.SAMPLE_FILTERS) | allowed
    for key in request.query_params:
        if key not in known:
            raise unknown_filter(UnknownFilter(key, known))


def _check_units(store: DataStore, caller: Caller, asked: str) -> None:
    listed = expression.units(store, caller)
    if asked not in listed:
        raise ApiError(400, f"unknown units {asked!r}; one of {', '.join(listed)}", "units")


def _units(store: DataStore, caller: Caller, asked: str | None, chosen: list[Expression]) -> str:
    """The units of the answer: the ones asked for (which must be listed by
    /expressions/units and be the expressions'; no conversion is served), else the one
    the expressions share."""
    have = sorted({e.units for e in chosen})
    if asked is not None:
        _check_units(store, caller, asked)
        if have != [asked]:
            raise ApiError(400, f"the expression is in {', '.join(have)}, not {asked}", "units")
        return asked
    if len(have) > 1:
        raise ApiError(400, f"the expressions are in {', '.join(have)}: choose one", "units")
    return have[0]


def _answer(
    store: DataStore,
    caller: Caller,
    meter: Metered,
    chosen: list[Expression],
    params: SliceParams,
    fmt: str,
) -> MatrixAnswer:
    """Checks the units and the size (no values read yet), charges 1 per started million
    values, and describes the file; it is read only if a ticket's file does not exist."""
    units = _units(store, caller, params.units, chosen)
    try:
        planned = expression.plan(store, chosen, params.selection)
    except SliceError as error:
        raise ApiError(error.status, error.problem, error.parameter) from error
    meter.charge(1 + planned.cells // CELLS_PER_UNIT)
    versions = {e.version for e in chosen}
    studies = {e.study_id for e in chosen}
    return MatrixAnswer(
        request={
            "expressions": [e.id for e in chosen],
            "units": units,
            **params.selection.canonical(),
        },
        data_version="|".join(sorted({e.data_version for e in chosen})),
        file_format=fmt,
        units=units,
        load=lambda: expression.read(store, planned),
        version=versions.pop() if len(versions) == 1 else None,
        study_id=studies.pop() if len(studies) == 1 else None,
        name=chosen[0].id.replace(":", "_") if len(chosen) == 1 else "expressions",
    )


def _one(store: DataStore, caller: Caller, expression_id: str) -> Expression:
    found = expression.find(store, caller, expression_id)
    if found is None:
        raise ApiError(404, NOT_FOUND, "expressionId")
    return found


def _searched(
    request: Request, store: DataStore, caller: Caller, units: str | None
) -> list[Expression]:
    """The caller's expressions matching every object filter and, in a search, ``units``
    (a search filters by units; an expression by ID in other units is a 400)."""
    filters = _single_values(request, expression.OBJECT_FILTERS)
    chosen = expression.search(store, caller, filters)
    if units is not None:
        _check_units(store, caller, units)
        chosen = [e for e in chosen if e.units == units]
    if not chosen:
        raise ApiError(404, NO_MATCH)
    return chosen


def _search_format(params: SliceParams) -> str:
    if params.file_format is None:
        raise ApiError(400, f"required: one of {', '.join(formats.FORMATS)}", "format")
    return file_format(params.file_format)


@router.get("/formats", response_model=list[str])
def expression_formats() -> list[str]:
    """The formats of matrix answers (``format``): loom is the default without one."""
    return list(formats.FORMATS)


@router.get("/units", response_model=list[str])
def expression_units(store: Store, caller: CurrentCaller, meter: Metered) -> list[str]:
    """The units of the caller's expressions (values are served as stored: no conversion)."""
    meter.charge()
    return expression.units(store, caller)


@router.get("/filters", response_model=list[Filter], response_model_exclude_none=True)
def expression_filters(
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    kind: Annotated[str | None, Query(alias="type", description="feature or sample")] = None,
) -> list[dict[str, object]]:
    """``type=sample``: sample filters with the values of the caller's samples;
    ``type=feature``: the feature parameters; neither: those and the filters a search
    takes (``version``, ``tags``, ``studyID``, ``projectID``) with the caller's values."""
    if kind is not None and kind not in FILTER_KINDS:
        raise ApiError(400, f"{kind!r} is neither feature nor sample", "type")
    meter.charge()
    return expression.filters(store, caller, kind)


@router.get("/ticket", response_model=Ticket, response_model_exclude_none=True)
def search_ticket(
    request: Request, store: Store, caller: CurrentCaller, meter: Metered, params: Slice
) -> dict[str, object]:
    """A ticket for the caller's expressions matching every filter (``format`` required),
    combined into one matrix and sliced; 404 when none matches."""
    _refuse_unknown(request, frozenset(expression.OBJECT_FILTERS))
    fmt = _search_format(params)
    chosen = _searched(request, store, caller, params.units)
    answer = _answer(store, caller, meter, chosen, params, fmt)
    return ticket(request, store, answer)


@router.get("/bytes", response_class=Response)
def search_bytes(
    request: Request, store: Store, caller: CurrentCaller, meter: Metered, params: Slice
) -> Response:
    """The matrix of a search itself (see ``/expressions/ticket``); an answer too large for
    a Lambda response is a 303 to its ticket URL."""
    _refuse_unknown(request, frozenset(expression.OBJECT_FILTERS))
    fmt = _search_format(params)
    chosen = _searched(request, store, caller, params.units)
    answer = _answer(store, caller, meter, chosen, params, fmt)
    return file_response(request, store, answer)


ExpressionId = Annotated[str, Path(alias="expressionId", description="a study ID for a release")]


@router.get("/{expressionId}/ticket", response_model=Ticket, response_model_exclude_none=True)
def expression_ticket(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    params: Slice,
    expression_id: ExpressionId,
) -> dict[str, object]:
    """A ticket for one expression, sliced; 404 for an ID that does not exist or that the
    caller may not see."""
    _refuse_unknown(request, frozenset())
    fmt = file_format(params.file_format)
    chosen = [_one(store, caller, expression_id)]
    answer = _answer(store, caller, meter, chosen, params, fmt)
    return ticket(request, store, answer)


@router.get("/{expressionId}/bytes", response_class=Response)
def expression_bytes(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    params: Slice,
    expression_id: ExpressionId,
) -> Response:
    """One expression's matrix itself, sliced; a 303 to its ticket URL when too large for
    a Lambda response; 404 as for the ticket."""
    _refuse_unknown(request, frozenset())
    fmt = file_format(params.file_format)
    chosen = [_one(store, caller, expression_id)]
    answer = _answer(store, caller, meter, chosen, params, fmt)
    return file_response(request, store, answer)
