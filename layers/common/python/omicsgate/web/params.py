"""Typed query parameters shared by every route, and one rule for every parameter mistake.

- A required parameter that is missing: 422, FastAPI's validation error.
- A parameter that is present but names no ID (``geneId=``, ``geneId=%20``, ``geneId=,,``),
  too many IDs, an ID too long, or a single-valued parameter given twice: 400 naming it.

List parameters are declared ``list[str]`` and read with :func:`split_ids`, so repeated
keys and commas both work (``geneId=a&geneId=b``, ``geneId=a,b`` and mixes). Any other
query parameter takes one value; :func:`refuse_repeated_values`, which ``create_app`` adds
to every route, answers a repeated one with a 400 instead of silently keeping the last.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Depends, Query, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from omicsgate.auth import Caller, can_see, restricted_groups
from omicsgate.settings import get_settings
from omicsgate.storage import DataStore, InvalidRelease, ReleaseNotFound, get_store
from omicsgate.web.errors import ApiError
from omicsgate.web.security import CurrentCaller

Store = Annotated[DataStore, Depends(get_store)]
MAX_ID_LENGTH = 128
MAX_DATASET_ID_LENGTH = 64
_SINGLE_VALUED: dict[int, frozenset[str]] = {}  # id(route) -> names; routes live as long


def split_ids(values: list[str], parameter: str, max_length: int = MAX_ID_LENGTH) -> list[str]:
    """The IDs of every occurrence of a list parameter, each comma-separated (OpenAPI
    ``style: form`` exploded or not, as GTEx v2 clients send either), order kept."""
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not ids:
        raise ApiError(400, "no ID given", parameter)
    limit = get_settings().max_ids
    if len(ids) > limit:
        raise ApiError(400, f"{len(ids)} IDs given, at most {limit} allowed", parameter)
    if any(len(i) > max_length for i in ids):
        raise ApiError(400, f"an ID is longer than {max_length} characters", parameter)
    return ids


def one_id(value: str, parameter: str, max_length: int = MAX_ID_LENGTH) -> str:
    """The ID of a parameter that takes exactly one: blank is refused as for a list, and a
    comma-separated list is refused rather than read as one odd ID."""
    ids = split_ids([value], parameter, max_length)
    if len(ids) > 1:
        raise ApiError(400, f"takes one ID, {len(ids)} given", parameter)
    return ids[0]


async def refuse_repeated_values(request: Request) -> None:
    """400 for a single-valued parameter given more than once (``datasetId=a&datasetId=b``):
    FastAPI would keep the last one and answer for a dataset the caller may not mean.
    Async: it does no I/O, so it need not cost a hop to the thread pool."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    single = _single_valued(route)
    seen: set[str] = set()
    for key, _ in request.query_params.multi_items():
        if key in single and key in seen:
            raise ApiError(400, "given more than once; it takes one value", key)
        seen.add(key)


def _single_valued(route: APIRoute) -> frozenset[str]:
    """Query parameters of the route and its dependencies not declared as lists."""
    names = _SINGLE_VALUED.get(id(route))
    if names is None:
        names = _SINGLE_VALUED[id(route)] = frozenset(
            field.alias
            for dependant in _dependants(route.dependant)
            for field in dependant.query_params
            if not _is_list(field.field_info.annotation)
        )
    return names


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for child in dependant.dependencies:
        yield from _dependants(child)


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, UnionType):  # list[str] | None
        return any(_is_list(arg) for arg in get_args(annotation))
    return (origin or annotation) in (list, tuple, set, frozenset)


def visible_releases(store: DataStore, caller: Caller) -> list[str]:
    """Complete releases the caller may see, oldest ID first."""
    return [r for r in store.list_releases() if release_visible(store, r, caller)]


def release_visible(store: DataStore, release: str, caller: Caller) -> bool:
    return can_see(caller, restricted_groups(store.manifest(release).get("access")))


def dataset_release(
    store: Store,
    caller: CurrentCaller,
    dataset_id: Annotated[str | None, Query(alias="datasetId")] = None,
) -> str:
    """The release named by ``datasetId``, or the current one. A release the caller may not
    see is answered exactly as one that does not exist."""
    if dataset_id is None:
        return store.resolve(None)
    dataset_id = one_id(dataset_id, "datasetId", MAX_DATASET_ID_LENGTH)
    release = find_release(store, caller, dataset_id)
    if release is None:
        raise ApiError(400, f"unknown dataset {dataset_id!r}", "datasetId")
    return release


def find_release(store: DataStore, caller: Caller, release_id: str) -> str | None:
    """The complete release of that ID if the caller may see it; None for one that does
    not exist and for one the caller may not see alike."""
    try:
        release = store.resolve(release_id)
    except (ReleaseNotFound, InvalidRelease):
        return None
    return release if release_visible(store, release, caller) else None


Release = Annotated[str, Depends(dataset_release)]
