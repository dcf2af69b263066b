"""OpenCGA's rules for IDs and query options, as pure functions over records.

- IDs: comma-separated, at most :data:`MAX_IDS`, unique, answered in request order.
- ``include`` / ``exclude``: comma-separated field paths, nested with dots
  (``individual.sex``); a path through a list applies to each of its items.
- ``sort`` (a field path) and ``order`` (asc, desc): records lacking the field go last.
- ``limit`` (default :data:`DEFAULT_LIMIT`, at most :data:`MAX_LIMIT`), ``skip``, ``count``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omicsgate.web.errors import ApiError

MAX_IDS = 100
MAX_ID_LENGTH = 128
DEFAULT_LIMIT = 10
MAX_LIMIT = 5000
Obj = dict[str, Any]


def parse_ids(raw: str, parameter: str = "ids") -> list[str]:
    """The IDs of a path's ``{ids}``: OpenCGA's limits and messages."""
    ids = [part.strip() for part in raw.split(",")]
    if not ids or any(not i for i in ids):
        raise ApiError(400, "an empty ID was given", parameter)
    if len(ids) > MAX_IDS:
        raise ApiError(400, f"More than {MAX_IDS} IDs are provided", parameter)
    if len(set(ids)) != len(ids):
        repeated = next(i for i in ids if ids.count(i) > 1)
        raise ApiError(400, f"Provided IDs are not unique ({repeated!r} repeats)", parameter)
    if any(len(i) > MAX_ID_LENGTH for i in ids):
        raise ApiError(400, f"an ID is longer than {MAX_ID_LENGTH} characters", parameter)
    return ids


def parse_paths(raw: str | None, parameter: str) -> tuple[tuple[str, ...], ...]:
    if raw is None:
        return ()
    paths = [p.strip() for p in raw.split(",") if p.strip()]
    if not paths:
        raise ApiError(400, "no field path given", parameter)
    for path in paths:
        if any(not part for part in path.split(".")):
            raise ApiError(400, f"{path!r} is not a field path (a.b.c)", parameter)
    return tuple(tuple(p.split(".")) for p in paths)


@dataclass(frozen=True)
class Projection:
    include: tuple[tuple[str, ...], ...] = ()
    exclude: tuple[tuple[str, ...], ...] = ()

    def apply(self, record: Obj) -> Obj:
        shaped = _include(record, self.include) if self.include else record
        for path in self.exclude:
            shaped = _exclude(shaped, path)
        return shaped


def _include(value: Any, paths: Sequence[tuple[str, ...]]) -> Any:
    if any(not p for p in paths):  # a path ended here: the whole value
        return value
    if isinstance(value, list):
        return [_include(item, paths) for item in value]
    if not isinstance(value, dict):
        return value
    kept: Obj = {}
    for key, item in value.items():
        below = [p[1:] for p in paths if p[0] == key]
        if below:
            kept[key] = _include(item, below)
    return kept


def _exclude(value: Any, path: tuple[str, ...]) -> Any:
    if isinstance(value, list):
        return [_exclude(item, path) for item in value]
    if not isinstance(value, dict) or path[0] not in value:
        return value
    if len(path) == 1:
        return {k: v for k, v in value.items() if k != path[0]}
    return {**value, path[0]: _exclude(value[path[0]], path[1:])}


def field_value(record: Obj, path: tuple[str, ...]) -> Any:
    value: Any = record
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def sort_records(records: list[Obj], sort: str | None, order: str) -> list[Obj]:
    """Stable sort on one field path; numbers before strings, missing values last."""
    if not sort:
        return records
    path = tuple(sort.split("."))

    def key(record: Obj) -> tuple[int, Any]:
        value = field_value(record, path)
        if value is None or isinstance(value, dict | list):
            return (2, "")
        if isinstance(value, bool | int | float):
            return (0, float(value))
        return (1, str(value).lower())

    present = [r for r in records if key(r)[0] < 2]
    missing = [r for r in records if key(r)[0] == 2]
    numbers = sorted((r for r in present if key(r)[0] == 0), key=key)
    strings = sorted((r for r in present if key(r)[0] == 1), key=key)
    ordered = numbers + strings
    if order == "desc":
        ordered.reverse()
    return ordered + missing


@dataclass(frozen=True)
class Page:
    limit: int = DEFAULT_LIMIT
    skip: int = 0
    count: bool = False

    def take(self, records: list[Obj]) -> tuple[list[Obj], int]:
        """The page, and ``numMatches``: the total when counted, else -1 (OpenCGA)."""
        return records[self.skip : self.skip + self.limit], (len(records) if self.count else -1)
