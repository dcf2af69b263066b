"""What the metadata store offers: whole documents with a revision, conditional writes."""

from __future__ import annotations

import json
from typing import Any, NamedTuple, Protocol

TOOL = "tool"
TOOL_CLASS = "class"
# DynamoDB's limit on one item, names and values counted in UTF-8 bytes: "400 KB", read as
# 400,000 (moto refuses past 405,000, having found AWS's real limit near 409,600). A tool is
# one item (its versions and their files' metadata; the files themselves are in the data
# store), so its metadata must fit: every store refuses more, SQLite too, so a registration
# answers the same locally and in AWS.
ITEM_LIMIT = 400_000


def encode(doc: dict[str, Any]) -> str:
    """A document as the stores keep it (the ``doc`` attribute in DynamoDB)."""
    return json.dumps(doc, sort_keys=True)


def item_bytes(kind: str, key: str, doc: dict[str, Any]) -> int:
    """What DynamoDB counts for the item of this document: each attribute's name and value
    (``pk``, ``kind``, ``doc`` strings in UTF-8; ``rev`` a number, at most 21 bytes)."""
    strings = {"pk": f"{kind}#{key}", "kind": kind, "doc": encode(doc)}
    return sum(len(name) + len(value.encode()) for name, value in strings.items()) + 3 + 21


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
