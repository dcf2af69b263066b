"""RNAget continuous signal: formats, filters, and matrices of tracks x positions by ID or
by search, sliced by ``chr``/``start``/``end`` (0-based, end exclusive) and
``sampleIDList`` (track names), read straight from TileDB (only the asked tiles).

Without ``chr`` an answer covers every chromosome's data; without ``start``/``end`` a
chromosome's data from its first to its last value. ``start`` or ``end`` without ``chr`` is
a 400, ``start`` past ``end`` a 501 (as the compliance suite expects). An answer holds at
most :data:`~omicsgate.rnaget.continuous.MAX_POSITIONS` positions and
:data:`~omicsgate.rnaget.continuous.MAX_CELLS` values (400 naming ``end``/``chr``): a
Lambda builds the file in memory. A search combining several matrices names each row
``<continuousID>/<track>``.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response

from omicsgate.models.rnaget import Filter, Ticket
from omicsgate.rnaget import continuous, formats
from omicsgate.rnaget.catalog import UnknownFilter
from omicsgate.rnaget.continuous import Continuous, RegionError
from omicsgate.storage import DataStore
from omicsgate.web import ApiError
from omicsgate.web.params import Store, split_ids
from omicsgate.web.security import CurrentCaller, Metered
from rnaget_api.routes import NOT_FOUND, PREFIX, unknown_filter
from rnaget_api.routes.files import MatrixAnswer, file_format, file_response, ticket

router = APIRouter(prefix=PREFIX, tags=["continuous"])

Chr = Annotated[str | None, Query(alias="chr", description="reference of start and end, e.g. chr1")]
Start = Annotated[int | None, Query(ge=0, description="0-based, inclusive")]
End = Annotated[int | None, Query(ge=0, description="0-based, exclusive")]
SampleIDList = Annotated[
    list[str] | None,
    Query(alias="sampleIDList", description="track names (comma-separated or repeated)"),
]
Format = Annotated[str, Query(alias="format", description="one of /continuous/formats")]
OptionalFormat = Annotated[
    str | None, Query(alias="format", description="one of /continuous/formats (default loom)")
]
ContinuousId = Annotated[str, Path(alias="continuousId")]
Filter_ = Annotated[str | None, Query()]
Slice = tuple[str | None, int | None, int | None]


@dataclass(frozen=True)
class Selection:
    """What every matrix route slices by: the region and the tracks."""

    region: Slice
    sample_ids: list[str] | None


def selection(
    chromosome: Chr = None, start: Start = None, end: End = None, sample_ids: SampleIDList = None
) -> Selection:
    return Selection((chromosome, start, end), sample_ids)


def search_filters(
    project_id: Annotated[str | None, Query(alias="projectID")] = None,
    study_id: Annotated[str | None, Query(alias="studyID")] = None,
    version: Filter_ = None,
    tags: Filter_ = None,
) -> dict[str, str]:
    given = {"projectID": project_id, "studyID": study_id, "version": version, "tags": tags}
    return {name: value for name, value in given.items() if value is not None}


Selected = Annotated[Selection, Depends(selection)]
SearchFilters = Annotated[dict[str, str], Depends(search_filters)]


@router.get("/continuous/formats", response_model=list[str])
def continuous_formats(meter: Metered) -> list[str]:
    """The formats a continuous matrix is served in."""
    meter.charge()
    return list(formats.FORMATS)


@router.get("/continuous/filters", response_model=list[Filter])
def continuous_filters(
    store: Store, caller: CurrentCaller, meter: Metered
) -> list[dict[str, object]]:
    """The filters the search routes take, each with the values of the caller's matrices."""
    meter.charge()
    return continuous.filters(continuous.visible(store, caller))


@router.get(
    "/continuous/{continuousId}/ticket", response_model=Ticket, response_model_exclude_none=True
)
def continuous_ticket(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    continuous_id: ContinuousId,
    selected: Selected,
    file_type: OptionalFormat = None,
) -> dict[str, object]:
    """A ticket to one matrix (or its slice): the URL needs no token."""
    answer = _by_id(store, caller, continuous_id, selected, file_type)
    meter.charge()
    return ticket(request, store, answer)


@router.get("/continuous/{continuousId}/bytes", response_class=Response)
def continuous_bytes(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    continuous_id: ContinuousId,
    selected: Selected,
    file_type: OptionalFormat = None,
) -> Response:
    """One matrix (or its slice) as a file (303 to a ticket URL above Lambda's 6 MB)."""
    answer = _by_id(store, caller, continuous_id, selected, file_type)
    meter.charge()
    return file_response(request, store, answer)


@router.get("/continuous/ticket", response_model=Ticket, response_model_exclude_none=True)
def search_continuous_ticket(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    file_type: Format,
    filters: SearchFilters,
    selected: Selected,
) -> dict[str, object]:
    """A ticket to the matrices matching every filter, combined (404 when none does)."""
    _known_only(request)
    answer = _searched(store, caller, filters, selected, file_type)
    meter.charge()
    return ticket(request, store, answer)


@router.get("/continuous/bytes", response_class=Response)
def search_continuous_bytes(
    request: Request,
    store: Store,
    caller: CurrentCaller,
    meter: Metered,
    file_type: Format,
    filters: SearchFilters,
    selected: Selected,
) -> Response:
    """The matrices matching every filter, combined, as a file."""
    _known_only(request)
    answer = _searched(store, caller, filters, selected, file_type)
    meter.charge()
    return file_response(request, store, answer)


# What the routes share ------------------------------------------------------------------

# What a search takes besides its filters.
_SLICING = ("format", "chr", "start", "end", "sampleIDList")


def _known_only(request: Request) -> None:
    """A search names only known filters (400 otherwise, as /projects does): a misspelt
    filter must not widen the answer to every matrix."""
    for name in request.query_params:
        if name not in continuous.FILTERS and name not in _SLICING:
            raise unknown_filter(UnknownFilter(name, continuous.FILTERS))


def _checked(region: Slice) -> Slice:
    """RNAget's rules before any lookup: a bound needs ``chr`` (400); start past end is
    not supported (501, as the compliance suite expects); an empty range is a 400."""
    chromosome, start, end = region
    if chromosome is None:
        for name, value in (("start", start), ("end", end)):
            if value is not None:
                raise ApiError(400, "needs chr (the reference the position is on)", name)
        return region
    if not chromosome.strip():
        raise ApiError(400, "empty", "chr")
    if start is not None and end is not None:
        if start > end:
            raise ApiError(501, f"start {start} is after end {end}: not supported", "start")
        if start == end:
            raise ApiError(400, f"the range [{start}, {end}) is empty", "end")
    return region


def _by_id(
    store: DataStore,
    caller: CurrentCaller,
    continuous_id: str,
    selected: Selection,
    file_type: str | None,
) -> MatrixAnswer:
    region = _checked(selected.region)
    chosen = file_format(file_type)
    found = continuous.one(store, caller, continuous_id)
    if found is None:
        raise ApiError(404, NOT_FOUND, "continuousId")
    return _answer(store, [found], region, selected.sample_ids, chosen)


def _searched(
    store: DataStore,
    caller: CurrentCaller,
    filters: dict[str, str],
    selected: Selection,
    file_type: str,
) -> MatrixAnswer:
    region = _checked(selected.region)
    chosen = file_format(file_type)
    try:
        found = continuous.search(continuous.visible(store, caller), filters)
    except UnknownFilter as error:
        raise unknown_filter(error) from error
    if not found:
        raise ApiError(404, "no continuous matrix matches the filters")
    return _answer(store, found, region, selected.sample_ids, chosen)


def _answer(
    store: DataStore,
    found: list[Continuous],
    region: Slice,
    sample_ids: list[str] | None,
    chosen: str,
) -> MatrixAnswer:
    wanted = split_ids(sample_ids, "sampleIDList") if sample_ids is not None else None
    try:
        regions = continuous.regions(found, *region)
        picked = continuous.rows(found, wanted)
        continuous.check_size(regions, sum(len(p.indexes) for p in picked))
    except RegionError as error:
        raise ApiError(error.status, error.problem, error.parameter) from error
    request = {
        "part": "continuous",
        "regions": [[r.chromosome, r.start, r.end] for r in regions],
        "rows": [[p.matrix.id, p.indexes] for p in picked],
    }
    single = found[0] if len(found) == 1 else None

    def load() -> tuple[formats.Matrix, formats.TsvLayout]:
        matrix = continuous.read(store, picked, regions)
        if chosen == formats.TSV:  # the TSV header names the column "track"
            matrix = formats.Matrix(matrix.values, {"track": matrix.row_attrs["tracks"]}, {})
        return matrix, _tsv_layout(regions)

    return MatrixAnswer(
        request=request,
        data_version=",".join(f"{m.id}@{m.record['attempt']}" for m in found),
        file_format=chosen,
        units=", ".join(sorted({str(m.obj["units"]) for m in found} - {""})),
        load=load,
        version=single.obj["version"] if single else None,
        study_id=single.obj["studyID"] if single else None,
        name=single.id if single else "continuous",
    )


def _tsv_layout(regions: list[continuous.Region]) -> formats.TsvLayout:
    """RNAget's continuous TSV: ``#labels`` and ``#range`` first, then the header ``track``
    and one ``chr:pos`` column per position."""
    ranges = "\t".join(f"{r.chromosome}:{r.start}-{r.end}" for r in regions)
    labels = tuple(f"{r.chromosome}:{p}" for r in regions for p in range(r.start, r.end))
    return formats.TsvLayout(
        comments=("#labels\ttrack", f"#range\t{ranges}"),
        row_columns=("track",),
        column_labels=labels,
    )
