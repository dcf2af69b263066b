"""FastAPI plumbing of the catalog function: route declaration (lifecycle applied), the
query options as typed dependencies (so the OpenAPI documents each), the unknown-option
check, and the four ways a route answers (info, search, link, meta) in the envelope."""

from __future__ import annotations

import inspect
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from omicsgate import __version__
from omicsgate.catalog._envelope import (
    ERROR,
    NOT_FOUND,
    WARNING,
    RestResponse,
    data_result,
    event,
    rest_response,
)
from omicsgate.catalog._federation import ask, peers
from omicsgate.catalog._lifecycle import Stage, lifecycle, successor
from omicsgate.catalog._options import (
    DEFAULT_LIMIT,
    MAX_IDS,
    MAX_LIMIT,
    Page,
    Projection,
    parse_ids,
    parse_paths,
    sort_records,
)
from omicsgate.catalog._resources import Resource, Scope, resolve_project
from omicsgate.web.errors import ApiError
from omicsgate.web.params import Store
from omicsgate.web.security import CurrentCaller, Metered

NODE_ENV = "OMICSGATE_CATALOG_NODE_ID"
Obj = dict[str, Any]
Endpoint = Callable[..., Any]

# ----------------------------------------------------------------- declaring routes


# Every error is the envelope too: no responses, one ERROR event (its code the status).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": RestResponse, "description": description}
    for status, description in (
        (
            400,
            "a bad ID list or option, an unknown option or project; or, with silent=true, "
            "the partial answer to IDs some of which were not found",
        ),
        (401, "a token that does not verify"),
        (404, "an ID not found or not visible to the caller (without silent)"),
        (422, "an option of the wrong type or out of range"),
        (429, "the allowance is spent (Retry-After says when to retry)"),
        (503, "the data store is unavailable"),
    )
}


def catalog_route(router: APIRouter, path: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """``router.get`` with the lifecycle's marks: deprecated routes are ``deprecated`` in
    the OpenAPI, hidden and removed ones are left out of it (they still answer)."""
    entry = lifecycle(router.prefix + path)
    description = summary
    if entry.stage is not Stage.STABLE:
        description += f"\n\n**{entry.stage.value}**: {entry.message(router.prefix + path)}"
    return router.get(
        path,
        response_model=RestResponse,
        responses=ERROR_RESPONSES,
        summary=summary,
        description=description,
        deprecated=entry.stage in (Stage.DEPRECATED, Stage.HIDDEN),
        include_in_schema=entry.in_openapi,
    )


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def query_parameters(route: APIRoute) -> list[Any]:
    """The query parameters a route declares, through its dependencies."""
    seen: dict[str, Any] = {}
    for dependant in _dependants(route.dependant):
        for param in dependant.query_params:
            seen.setdefault(param.alias, param)
    return list(seen.values())


async def refuse_unknown_options(request: Request) -> None:
    """An option the route does not declare is a 400 naming it, never silently ignored."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = {p.alias for p in query_parameters(route)}
    for key in request.query_params:
        if key not in known:
            listed = ", ".join(sorted(known)) or "none"
            raise ApiError(400, f"unknown option; this endpoint takes: {listed}", key)


def catalog_router(prefix: str, tag: str) -> APIRouter:
    return APIRouter(prefix=prefix, tags=[tag], dependencies=[Depends(refuse_unknown_options)])


# ----------------------------------------------------------------- the options


@dataclass(frozen=True)
class Options:
    projection: Projection
    page: Page | None = None  # None: every result (info)
    sort: str | None = None
    order: str = "asc"
    silent: bool = False
    federated: bool = False


_INCLUDE = "fields to return, comma-separated paths (nested: individual.sex); others left out"
_EXCLUDE = "fields to leave out, comma-separated paths (nested: gwasinfo.pmid)"
_SILENT = (
    "missing or forbidden IDs do not fail the call: one ERROR event each, the others "
    "returned (the status is then 400, as OpenCGA 4 answers any ERROR event)"
)
_FEDERATED = "also ask every configured peer deployment: one more response per peer"
_NAME = r"[A-Za-z0-9_-]+"
FIELD_PATHS = rf"^{_NAME}(\.{_NAME})*(,{_NAME}(\.{_NAME})*)*$"  # a.b,c
Include = Annotated[str | None, Query(description=_INCLUDE, pattern=FIELD_PATHS)]
Exclude = Annotated[str | None, Query(description=_EXCLUDE, pattern=FIELD_PATHS)]
Silent = Annotated[bool, Query(description=_SILENT)]
Federated = Annotated[bool, Query(description=_FEDERATED)]
Limit = Annotated[
    int, Query(ge=0, le=MAX_LIMIT, description=f"results per page (at most {MAX_LIMIT})")
]
Skip = Annotated[int, Query(ge=0, description="results to skip before the page")]
Count = Annotated[bool, Query(description="count every match: numMatches (else -1)")]
Sort = Annotated[str | None, Query(description="field path to sort by (missing values last)")]
Order = Annotated[Literal["asc", "desc"], Query(description="sort order")]


def projection(include: Include = None, exclude: Exclude = None) -> Projection:
    return Projection(parse_paths(include, "include"), parse_paths(exclude, "exclude"))


def paging(
    limit: Limit = DEFAULT_LIMIT,
    skip: Skip = 0,
    count: Count = False,
    sort: Sort = None,
    order: Order = "asc",
) -> tuple[Page, str | None, str]:
    return Page(limit, skip, count), sort, order


Shaped = Annotated[Projection, Depends(projection)]
Paged = Annotated[tuple[Page, str | None, str], Depends(paging)]


def info_options(shape: Shaped, silent: Silent = False, federated: Federated = False) -> Options:
    return Options(shape, silent=silent, federated=federated)


def search_options(shape: Shaped, paged: Paged, federated: Federated = False) -> Options:
    return Options(shape, *paged, federated=federated)


def link_options(
    shape: Shaped, paged: Paged, silent: Silent = False, federated: Federated = False
) -> Options:
    return Options(shape, *paged, silent=silent, federated=federated)


InfoOptions = Annotated[Options, Depends(info_options)]
SearchOptions = Annotated[Options, Depends(search_options)]
LinkOptions = Annotated[Options, Depends(link_options)]
Ids = Annotated[
    str,
    Path(
        description=f"comma-separated IDs, at most {MAX_IDS}, unique; answered in order",
        pattern=r"^[^,]+(,[^,]+)*$",
    ),
]
Project = Annotated[
    str | None,
    Query(
        description="the project (data release ID) to read; default: the current release",
        min_length=1,
        max_length=64,
    ),
]


def _project(project: Project = None) -> str | None:
    return project


def _no_project() -> None:
    return None


def project_of(resource: Resource) -> Callable[..., str | None]:
    """A dependency: the ``project`` option for a release-scoped resource, else nothing
    (so the option is neither documented nor accepted where it means nothing)."""
    return _project if resource.release_scoped else _no_project


def filters_of(resource: Resource) -> Callable[..., dict[str, str]]:
    """A dependency taking the resource's filters as query parameters (so each is in the
    OpenAPI), answering those given."""

    def given(**values: str | None) -> dict[str, str]:
        return {k: v for k, v in values.items() if v is not None}

    given.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                default=Query(None, description=description),
                annotation=str | None,
            )
            for name, description in resource.filters.items()
        ]
    )
    return given


# ----------------------------------------------------------------- answering


class Call:
    """One catalog request: who asks, what it costs, the lifecycle of its route."""

    def __init__(self, request: Request, store: Store, caller: CurrentCaller, meter: Metered):
        self.request, self.store, self.caller, self.meter = request, store, caller, meter
        self.started = time.perf_counter()
        route = request.scope.get("route")
        self.path = route.path_format if isinstance(route, APIRoute) else request.url.path
        self.lifecycle = lifecycle(self.path)

    # -- what the routes call

    def info(
        self, resource: Resource, raw_ids: str, options: Options, project: str | None = None
    ) -> JSONResponse:
        ids = parse_ids(raw_ids)
        scope = self._scope(resource, project)
        self.meter.charge()
        found = resource.info(scope, ids)
        events = self._missing([i for i in ids if i not in found], options.silent)
        records = [options.projection.apply(found[i]) for i in ids if i in found]
        local = self._result(records, resource.result_type, len(records), events)
        return self._reply(local, options)

    def search(
        self,
        resource: Resource,
        options: Options,
        filters: dict[str, str],
        project: str | None = None,
    ) -> JSONResponse:
        scope = self._scope(resource, project)
        self.meter.charge()
        records = resource.search(scope, filters)
        expand = resource.expand

        def whole(page: list[Obj]) -> list[Obj]:  # summaries searched: expand the page only
            return expand(scope, page) if expand is not None else page

        return self._reply(self._paged(records, resource.result_type, options, [], whole), options)

    def link(
        self,
        resource: Resource,
        name: str,
        raw_ids: str,
        options: Options,
        project: str | None = None,
    ) -> JSONResponse:
        ids = parse_ids(raw_ids)
        scope = self._scope(resource, project)
        link = resource.links[name]
        self.meter.charge()
        records: list[Obj] = []
        missing = []
        for item in ids:
            found = link.find(scope, item)
            if found is None:
                missing.append(item)
            else:
                records += found
        events = self._missing(missing, options.silent)
        return self._reply(self._paged(records, link.result_type, options, events), options)

    def meta(self, results: Sequence[Any], result_type: str) -> JSONResponse:
        local = self._result(list(results), result_type, len(results), [])
        return self._reply(local, Options(Projection()))

    def gone(self) -> JSONResponse:
        """A removed endpoint: 410 naming its successor, in the envelope."""
        entry = self.lifecycle
        url = self._successor_url()
        message = entry.message(self._filled(self.path), self._successor())
        body = rest_response(
            self._params(), [], [event(ERROR, message, code=410, id=self.path, name="removed")], 0
        )
        body["time"] = self._ms()
        return JSONResponse(body, status_code=410, headers=entry.headers(url))

    # -- pieces

    def _scope(self, resource: Resource, project: str | None) -> Scope:
        release = (
            resolve_project(self.store, self.caller, project) if resource.release_scoped else None
        )
        return Scope(self.store, self.caller, release)

    def _missing(self, ids: list[str], silent: bool) -> list[Obj]:
        if ids and not silent:
            shown = ", ".join(repr(i) for i in ids[:10])
            raise ApiError(404, f"{NOT_FOUND} ({shown})", "ids")
        return [event(ERROR, NOT_FOUND, code=404, id=i, name="not found") for i in ids]

    def _paged(
        self,
        records: list[Obj],
        result_type: str,
        options: Options,
        events: list[Obj],
        whole: Callable[[list[Obj]], list[Obj]] = list,
    ) -> Obj:
        ordered = sort_records(records, options.sort, options.order)
        page, matches = (options.page or Page(len(ordered))).take(ordered)
        shaped = [options.projection.apply(r) for r in whole(page)]
        return self._result(shaped, result_type, matches, events)

    def _result(self, records: list[Any], result_type: str, matches: int, events: list[Obj]) -> Obj:
        return data_result(
            records,
            result_type=result_type,
            num_matches=matches,
            node=self.node(),
            time_ms=self._ms(),
            events=events,
        )

    def node(self) -> dict[str, str]:
        base = str(self.request.base_url).rstrip("/")
        return {"id": os.environ.get(NODE_ENV) or "local", "uri": base, "version": __version__}

    def _reply(self, local: Obj, options: Options) -> JSONResponse:
        responses = [local]
        if options.federated:
            responses += ask(
                peers(), self.request.url.path, self.request.query_params.multi_items()
            )
        events: list[Obj] = []
        headers: dict[str, str] = {}
        entry = self.lifecycle
        if entry.stage is not Stage.STABLE:
            events.append(
                event(
                    WARNING,
                    entry.message(self._filled(self.path), self._successor()),
                    id=self.path,
                    name=entry.stage.value,
                )
            )
            headers = entry.headers(self._successor_url())
        failed = any(e["type"] == ERROR for e in local["events"])
        body = rest_response(self._params(), responses, events, self._ms())
        return JSONResponse(body, status_code=400 if failed else 200, headers=headers)

    def _params(self) -> dict[str, str]:
        return dict(self.request.query_params)

    def _ms(self) -> int:
        return int((time.perf_counter() - self.started) * 1000)

    def _filled(self, path: str) -> str:
        ids = self.request.path_params.get("ids")
        return path.replace("{ids}", ids) if ids else path

    def _successor(self) -> str:
        return successor(self.lifecycle, self.request.path_params.get("ids"))

    def _successor_url(self) -> str:
        """For the Link header: IDs percent-encoded (a header is ASCII; IDs may not be)."""
        path = quote(self._successor(), safe="/?=&,:;@+$!*'()~")
        return str(self.request.base_url).rstrip("/") + path


CatalogCall = Annotated[Call, Depends(Call)]


def api_routes(routes: Sequence[Any]) -> list[APIRoute]:
    """The app's APIRoutes, through included routers (FastAPI nests them); a catalog
    router has no prefix of its own when included, so each route's path is whole."""
    found: list[APIRoute] = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            found += api_routes(nested.routes)
        elif isinstance(route, APIRoute):
            found.append(route)
    return found


def endpoint_list(routes: Sequence[Any]) -> list[Obj]:
    """Every catalog endpoint with its parameters and lifecycle status (hidden and removed
    ones included: a client asking after one learns what replaced it)."""
    out = []
    for route in api_routes(routes):
        if not route.path.startswith("/v2/"):
            continue
        entry = lifecycle(route.path)
        parameters = [
            {
                "name": p.alias,
                "in": "path",
                "required": True,
                "description": p.field_info.description,
            }
            for p in route.dependant.path_params
        ] + [
            {
                "name": p.alias,
                "in": "query",
                "required": p.field_info.is_required(),
                "description": p.field_info.description,
            }
            for p in query_parameters(route)
        ]
        status: Obj = {"status": entry.stage.value}
        if entry.stage is not Stage.STABLE:
            status.update(
                replacement=entry.replacement,
                deprecation=entry.deprecation.date().isoformat(),
                sunset=entry.sunset.date().isoformat() if entry.sunset else None,
                message=entry.message(route.path),
            )
        out.append(
            {
                "path": route.path,
                "method": "GET",
                "summary": route.summary,
                "lifecycle": status,
                "parameters": parameters,
            }
        )
    return out
