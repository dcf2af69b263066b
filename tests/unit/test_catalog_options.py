"""The catalog's pure rules: IDs, projections, sorting, paging, lifecycle headers, peers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from omicsgate.catalog import LIFECYCLE, Lifecycle, Page, Projection, Stage, parse_ids
from omicsgate.catalog._federation import PEERS_ENV, peers
from omicsgate.catalog._options import parse_paths, sort_records
from omicsgate.web import ApiError


def test_ids() -> None:
    assert parse_ids("b, a ,c") == ["b", "a", "c"]
    assert len(parse_ids(",".join(f"s{i}" for i in range(100)))) == 100
    with pytest.raises(ApiError, match="More than 100 IDs are provided"):
        parse_ids(",".join(f"s{i}" for i in range(101)))
    with pytest.raises(ApiError, match="Provided IDs are not unique"):
        parse_ids("a,b,a")
    with pytest.raises(ApiError, match="empty ID"):
        parse_ids("a,,b")


RECORD: dict[str, Any] = {
    "id": "S1",
    "individual": {"id": "I1", "sex": "female", "age": {"bracket": "40-49", "years": 44}},
    "files": [{"name": "a", "size": 1}, {"name": "b", "size": 2}],
}


def projection(include: str | None = None, exclude: str | None = None) -> Projection:
    return Projection(parse_paths(include, "include"), parse_paths(exclude, "exclude"))


def test_include_nested_paths_and_lists() -> None:
    assert projection("id,individual.age.years").apply(RECORD) == {
        "id": "S1",
        "individual": {"age": {"years": 44}},
    }
    assert projection("files.name").apply(RECORD) == {"files": [{"name": "a"}, {"name": "b"}]}
    assert projection("individual").apply(RECORD)["individual"] == RECORD["individual"]
    assert projection("nothing").apply(RECORD) == {}


def test_exclude_nested_paths_and_lists() -> None:
    shaped = projection(exclude="individual.age.bracket,files.size").apply(RECORD)
    assert shaped["individual"]["age"] == {"years": 44}
    assert shaped["files"] == [{"name": "a"}, {"name": "b"}]
    assert RECORD["files"][0]["size"] == 1  # the record itself is never changed
    both = projection("id,individual", "individual.sex").apply(RECORD)
    assert both == {"id": "S1", "individual": {"id": "I1", "age": RECORD["individual"]["age"]}}


def test_field_paths_must_be_paths() -> None:
    for bad in ("a..b", ".a", "a.", ","):
        with pytest.raises(ApiError):
            parse_paths(bad, "include")


def test_sort_puts_missing_values_last_in_either_order() -> None:
    rows: list[dict[str, Any]] = [
        {"id": 1, "n": 3},
        {"id": 2},
        {"id": 3, "n": 1},
        {"id": 4, "n": "x"},
    ]
    assert [r["id"] for r in sort_records(rows, "n", "asc")] == [3, 1, 4, 2]
    assert [r["id"] for r in sort_records(rows, "n", "desc")] == [4, 1, 3, 2]
    assert sort_records(rows, None, "desc") == rows


def test_page() -> None:
    rows = [{"i": i} for i in range(25)]
    assert Page(10, 20, True).take(rows) == (rows[20:], 25)
    assert Page(10, 0, False).take(rows) == (rows[:10], -1)
    assert Page(0, 0, True).take(rows) == ([], 25)


def test_lifecycle_headers() -> None:
    day = datetime(2026, 1, 1, tzinfo=UTC)
    sunset = datetime(2027, 1, 1, tzinfo=UTC)
    deprecated = Lifecycle(Stage.DEPRECATED, "/v2/new", day, sunset)
    assert deprecated.headers("http://h/v2/new") == {
        "Link": '<http://h/v2/new>; rel="successor-version"',
        "Deprecation": "@1767225600",
        "Sunset": "Fri, 01 Jan 2027 00:00:00 GMT",
    }
    assert set(Lifecycle(Stage.WARNING, "/v2/new", day, sunset).headers("u")) == {
        "Link",
        "Deprecation",
    }
    assert set(Lifecycle(Stage.REMOVED, "/v2/new", day).headers("u")) == {"Link"}


def test_the_registry_shows_every_stage() -> None:
    stages = {entry.stage for entry in LIFECYCLE.values()}
    assert stages == {Stage.WARNING, Stage.DEPRECATED, Stage.HIDDEN, Stage.REMOVED}
    for path, entry in LIFECYCLE.items():
        assert path.startswith("/v2/") and entry.replacement.startswith("/v2/")


def test_peers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PEERS_ENV, "eu=https://a.example/, https://b.example:8443 ,")
    assert [(p.id, p.uri) for p in peers()] == [
        ("eu", "https://a.example"),
        ("b.example:8443", "https://b.example:8443"),
    ]
    monkeypatch.delenv(PEERS_ENV)
    assert peers() == []
