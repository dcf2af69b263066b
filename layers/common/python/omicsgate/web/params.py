"""Typed query parameters shared by the portal routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from omicsgate.auth import Caller, can_see, restricted_groups
from omicsgate.settings import get_settings
from omicsgate.storage import DataStore, InvalidRelease, ReleaseNotFound, get_store
from omicsgate.web.errors import ApiError
from omicsgate.web.security import CurrentCaller

Store = Annotated[DataStore, Depends(get_store)]
MAX_ID_LENGTH = 128


def split_ids(raw: str, parameter: str) -> list[str]:
    """Comma-separated IDs (OpenAPI ``style: form, explode: false``), order kept."""
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise ApiError(400, "at least one ID is required", parameter)
    limit = get_settings().max_ids
    if len(ids) > limit:
        raise ApiError(400, f"{len(ids)} IDs given, at most {limit} allowed", parameter)
    too_long = next((i for i in ids if len(i) > MAX_ID_LENGTH), None)
    if too_long is not None:
        raise ApiError(400, f"an ID is longer than {MAX_ID_LENGTH} characters", parameter)
    return ids


def visible_releases(store: DataStore, caller: Caller) -> list[str]:
    """Complete releases the caller may see, oldest ID first."""
    return [r for r in store.list_releases() if release_visible(store, r, caller)]


def release_visible(store: DataStore, release: str, caller: Caller) -> bool:
    return can_see(caller, restricted_groups(store.manifest(release).get("access")))


def dataset_release(
    store: Store,
    caller: CurrentCaller,
    dataset_id: Annotated[str | None, Query(alias="datasetId", max_length=64)] = None,
) -> str:
    """The release named by ``datasetId``, or the current one. A release the caller may not
    see is answered exactly as one that does not exist."""
    if dataset_id is None:
        return store.resolve(None)
    try:
        release = store.resolve(dataset_id)
    except (ReleaseNotFound, InvalidRelease):
        release = None
    if release is None or not release_visible(store, release, caller):
        raise ApiError(400, f"unknown dataset {dataset_id!r}", "datasetId")
    return release


Release = Annotated[str, Depends(dataset_release)]
