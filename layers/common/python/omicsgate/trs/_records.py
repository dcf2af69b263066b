"""What the metadata store offers: whole documents with a revision, conditional writes."""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

TOOL = "tool"
TOOL_CLASS = "class"


class Stored(NamedTuple):
    doc: dict[str, Any]
    rev: int


class MetadataStore(Protocol):
    """Documents by (kind, key). ``put`` and ``delete`` are compare-and-set on ``rev``:
    ``expected_rev=None`` means "must not exist yet"; a mismatch returns False and changes
    nothing, so two writers can never interleave inside one document."""

    def get(self, kind: str, key: str) -> Stored | None: ...

    def scan(self, kind: str) -> list[tuple[str, Stored]]: ...

    def put(self, kind: str, key: str, doc: dict[str, Any], expected_rev: int | None) -> bool: ...

    def delete(self, kind: str, key: str, expected_rev: int) -> bool: ...
