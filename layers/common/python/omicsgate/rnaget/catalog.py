"""RNAget projects and studies, from two sources:

- **Data releases.** A release with expression data is a project (ID: the release ID, as
  ``datasetId`` in the portal API); each of its tissues with expression is a study (ID:
  ``<release>:<tissueSiteDetailId>``, slash-free as API Gateway paths need; its matrix will
  be the expression of the same ID). A restricted release is visible only to its groups:
  to anyone else its project and studies do not exist, exactly like IDs never used.
- **Hosted objects.** Projects and studies stored as JSON in ``rnaget/catalog.json`` under
  the data URI, written by ``omicsgate ingest rnaget-compliance DIR`` (the objects the
  official compliance suite hard-codes). They are public.

Filters (``/projects/filters``, ``/studies/filters``) list each field a caller may filter
on with the values the caller can see; a filter is an exact, case-sensitive match, several
filters must all match, and a value nothing has gives ``[]``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from omicsgate.auth import Caller
from omicsgate.portal import expression
from omicsgate.portal.reference import tissue_info
from omicsgate.storage import DataStore, InvalidRelease, ReleaseNotFound
from omicsgate.storage._layout import join
from omicsgate.web.params import release_visible, visible_releases

CATALOG_DIR = "rnaget"
CATALOG_FILE = "catalog.json"
STUDY_SEPARATOR = ":"
RELEASE_VERSION = "1.0"  # a release is immutable: its objects never get a second version
Obj = dict[str, Any]

RELEASE_TAG = "OmicsGate"  # the tag of every object made from a data release
PROJECT_FIELDS = ("id", "version", "name", "description")
STUDY_FIELDS = ("id", "version", "name", "description", "parentProjectID", "genome")
# name -> (fieldType, description): the filters /projects and /studies accept. ``tags``
# matches an object that has the tag among its tags.
PROJECT_FILTERS = {
    "version": ("string", "version to search for"),
    "name": ("string", "project name to search for"),
    "tags": ("string", "tag to search for"),
}
STUDY_FILTERS = {
    "version": ("string", "version to search for"),
    "name": ("string", "study name to search for"),
    "tags": ("string", "tag to search for"),
    "parentProjectID": ("string", "ID of the project the study belongs to"),
    "genome": ("string", "reference genome the study's samples were aligned to"),
}


class UnknownFilter(LookupError):
    def __init__(self, name: str, known: Iterable[str]) -> None:
        super().__init__(f"unknown filter; known filters: {', '.join(sorted(known))}")
        self.name = name


def catalog_uri(root: str) -> str:
    return join(root, CATALOG_DIR, CATALOG_FILE)


# Hosted objects ------------------------------------------------------------------------

_hosted_cache: dict[str, tuple[Obj, float]] = {}
_hosted_lock = threading.Lock()


def hosted(store: DataStore) -> Obj:
    """The hosted catalog ``{"projects": [...], "studies": [...]}``, re-read at most once
    per release TTL (an ingestion shows up as a new release would)."""
    uri = catalog_uri(store.root)
    now = time.monotonic()
    with _hosted_lock:
        cached = _hosted_cache.get(uri)
        if cached and now - cached[1] < store.settings.release_ttl_seconds:
            return cached[0]
    document = store.read_json(uri) or {}
    catalog = {
        "projects": [_clean(p, PROJECT_FIELDS) for p in document.get("projects") or []],
        "studies": [_clean(s, STUDY_FIELDS) for s in document.get("studies") or []],
    }
    with _hosted_lock:
        _hosted_cache[uri] = (catalog, now)
    return catalog


def forget_hosted() -> None:
    """Drop the cached hosted catalog (after an ingestion in the same process)."""
    with _hosted_lock:
        _hosted_cache.clear()


def _clean(obj: Mapping[str, Any], fields: tuple[str, ...]) -> Obj:
    cleaned: Obj = {f: str(obj[f]) for f in fields if obj.get(f) not in (None, "")}
    tags = obj.get("tags")
    if tags:
        cleaned["tags"] = [str(t) for t in (tags if isinstance(tags, list) else [tags])]
    return cleaned


# Objects of releases -------------------------------------------------------------------


def _has_expression(store: DataStore, release: str) -> bool:
    return store.has_table(release, expression.xs.EXPRESSION)


def release_project(store: DataStore, release: str) -> Obj:
    manifest = store.manifest(release)
    description = manifest.get("description") or f"OmicsGate data release {release}"
    return {
        "id": release,
        "version": RELEASE_VERSION,
        "name": release,
        "description": description,
        "tags": [RELEASE_TAG],
    }


def release_studies(store: DataStore, release: str) -> list[Obj]:
    """One study per tissue with expression, in the release's tissue order."""

    def load() -> list[Obj]:
        names = {t["tissueSiteDetailId"]: t for t in tissue_info(store, release)}
        genome = store.manifest(release).get("genome")
        studies = []
        for tissue in expression.index(store, release).tissues:
            if not tissue.has_expression:
                continue
            info = names.get(tissue.tissue_id, {})
            label = info.get("tissueSiteDetail") or tissue.tissue_id
            study = {
                "id": f"{release}{STUDY_SEPARATOR}{tissue.tissue_id}",
                "version": RELEASE_VERSION,
                "name": label,
                "description": f"{label}: expression of {tissue.end - tissue.start} samples "
                f"(TPM) in release {release}",
                "parentProjectID": release,
                "tags": [RELEASE_TAG],
            }
            if genome:
                study["genome"] = str(genome)
            studies.append(study)
        return studies

    return store.memo(release, "rnagetStudies", load)


def visible_expression_releases(store: DataStore, caller: Caller) -> list[str]:
    return [r for r in visible_releases(store, caller) if _has_expression(store, r)]


def visible_release(store: DataStore, caller: Caller, release_id: str) -> str | None:
    """The release if it exists, is complete, has expression and the caller may see it."""
    try:
        release = store.resolve(release_id)
    except (ReleaseNotFound, InvalidRelease):
        return None
    if not release_visible(store, release, caller) or not _has_expression(store, release):
        return None
    return release


# What routes call ---------------------------------------------------------------------


def projects(store: DataStore, caller: Caller) -> list[Obj]:
    listed = [release_project(store, r) for r in visible_expression_releases(store, caller)]
    return _dedup(listed + hosted(store)["projects"])


def studies(store: DataStore, caller: Caller) -> list[Obj]:
    listed = [
        s for r in visible_expression_releases(store, caller) for s in release_studies(store, r)
    ]
    return _dedup(listed + hosted(store)["studies"])


def _dedup(objects: list[Obj]) -> list[Obj]:
    """The first object of each ID (a release wins over a hosted object of its ID)."""
    seen: dict[str, Obj] = {}
    for obj in objects:
        seen.setdefault(obj["id"], obj)
    return list(seen.values())


def project(store: DataStore, caller: Caller, project_id: str) -> Obj | None:
    release = visible_release(store, caller, project_id)
    if release is not None:
        return release_project(store, release)
    return next((p for p in hosted(store)["projects"] if p["id"] == project_id), None)


def study(store: DataStore, caller: Caller, study_id: str) -> Obj | None:
    release_id, separator, tissue = study_id.partition(STUDY_SEPARATOR)
    if separator and tissue:
        release = visible_release(store, caller, release_id)
        if release is not None:
            found = next((s for s in release_studies(store, release) if s["id"] == study_id), None)
            if found is not None:
                return found
    return next((s for s in hosted(store)["studies"] if s["id"] == study_id), None)


def search(
    objects: list[Obj], filters: Mapping[str, str], known: Mapping[str, tuple[str, str]]
) -> list[Obj]:
    """Objects matching every filter exactly; UnknownFilter for a name not in ``known``."""
    for name in filters:
        if name not in known:
            raise UnknownFilter(name, known)
    return [o for o in objects if all(_matches(o, k, v) for k, v in filters.items())]


def _matches(obj: Obj, name: str, value: str) -> bool:
    have = obj.get(name)
    return value in have if isinstance(have, list) else have == value


def _values(obj: Obj, name: str) -> list[str]:
    have = obj.get(name)
    if have is None:
        return []
    return list(have) if isinstance(have, list) else [have]


def filters(objects: list[Obj], known: Mapping[str, tuple[str, str]]) -> list[Obj]:
    """Each filter with the distinct values of the objects given (the caller's), sorted; a
    filter no object has a value for is left out (searching with it finds nothing)."""
    listed = []
    for name, (field_type, description) in known.items():
        values = sorted({v for o in objects for v in _values(o, name)})
        if values:
            listed.append(
                {
                    "filter": name,
                    "fieldType": field_type,
                    "description": description,
                    "values": values,
                }
            )
    return listed
