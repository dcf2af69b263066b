"""Typed query parameters shared by the portal routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query

from omicsgate.settings import get_settings
from omicsgate.storage import DataStore, InvalidRelease, ReleaseNotFound, get_store
from omicsgate.web.errors import ApiError

Store = Annotated[DataStore, Depends(get_store)]


def split_ids(raw: str, parameter: str) -> list[str]:
    """Comma-separated IDs (OpenAPI ``style: form, explode: false``), order kept."""
    ids = [part.strip() for part in raw.split(",") if part.strip()]
    if not ids:
        raise ApiError(400, "at least one ID is required", parameter)
    limit = get_settings().max_ids
    if len(ids) > limit:
        raise ApiError(400, f"{len(ids)} IDs given, at most {limit} allowed", parameter)
    return ids


def dataset_release(
    store: Store,
    dataset_id: Annotated[str | None, Query(alias="datasetId", max_length=64)] = None,
) -> str:
    """The release named by ``datasetId``, or the current one."""
    if dataset_id is None:
        return store.resolve(None)
    try:
        return store.resolve(dataset_id)
    except (ReleaseNotFound, InvalidRelease) as error:
        raise ApiError(400, f"unknown dataset {dataset_id!r}", "datasetId") from error


Release = Annotated[str, Depends(dataset_release)]
