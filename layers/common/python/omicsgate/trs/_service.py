"""Registry operations over the metadata store and the files: visibility, versions,
read-modify-write with a revision check (retried), files written before metadata."""

from __future__ import annotations

import copy
import os
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from omicsgate.auth import Caller, can_see
from omicsgate.settings import Settings, get_settings
from omicsgate.trs._blobs import BlobStore, sha256
from omicsgate.trs._records import (
    ITEM_LIMIT,
    TOOL,
    TOOL_CLASS,
    MetadataStore,
    Stored,
    item_bytes,
)
from omicsgate.web.errors import ApiError

# The token role (claim ``roles``) that may write to the registry.
WRITER_ROLE = "trs-writer"
REGISTRY_FILE = "registry.sqlite"
_ATTEMPTS = 50


class Conflict(Exception):
    """Too many concurrent writers on one tool: the caller may retry."""


@dataclass(frozen=True)
class NewFile:
    """One file of a version being registered, already validated by the function."""

    path: str
    file_type: str
    type: str | None
    content: bytes


Mutation = Callable[[dict[str, Any] | None], dict[str, Any] | None]


class Registry:
    def __init__(self, metadata: MetadataStore, blobs: BlobStore) -> None:
        self.metadata, self.blobs = metadata, blobs

    # ------------------------------------------------------------ reads
    def tools(self, caller: Caller) -> list[dict[str, Any]]:
        return [s.doc for _, s in self.metadata.scan(TOOL) if _visible(caller, s.doc)]

    def tool(self, caller: Caller, tool_id: str) -> dict[str, Any]:
        stored = self.metadata.get(TOOL, tool_id)
        # A restricted tool is as absent as an unknown one: the same 404, the same message.
        if stored is None or not _visible(caller, stored.doc):
            raise ApiError(404, f"no tool {tool_id!r}")
        return stored.doc

    def version(self, caller: Caller, tool_id: str, version_id: str) -> dict[str, Any]:
        for version in self.tool(caller, tool_id)["versions"]:
            if version["id"] == version_id:
                return dict(version)
        raise ApiError(404, f"no version {version_id!r} of tool {tool_id!r}")

    def tool_classes(self, caller: Caller | None = None) -> list[dict[str, Any]]:
        """Registered classes, then the classes of the tools ``caller`` may see (a restricted
        tool's class is not listed to others: its name may say what the tool is)."""
        found = {key: s.doc for key, s in self.metadata.scan(TOOL_CLASS)}
        for tool in self.tools(caller) if caller is not None else ():
            toolclass = tool.get("toolclass") or {}
            found.setdefault(str(toolclass.get("id")), toolclass)
        return list(found.values())

    def content(self, digest: str) -> bytes:
        return self.blobs.get(digest)

    # ------------------------------------------------------------ writes
    @staticmethod
    def describe_files(files: list[NewFile]) -> list[dict[str, Any]]:
        """The stored descriptions of the files (nothing is written yet)."""
        return [
            {
                "path": f.path,
                "file_type": f.file_type,
                "type": f.type,
                "sha256": sha256(f.content),
                "size": len(f.content),
            }
            for f in files
        ]

    def create_tool(self, doc: dict[str, Any], files: Sequence[NewFile] = ()) -> str:
        for attempt in range(_ATTEMPTS):
            tool_id = uuid.uuid4().hex[:12]
            new = {**doc, "id": tool_id}
            if attempt == 0:
                _check_fits(TOOL, tool_id, new)
                self._write_files(files)
            if self.metadata.put(TOOL, tool_id, new, None):
                return tool_id
        raise Conflict("could not allocate a tool id")

    def update_tool(
        self, tool_id: str, mutate: Mutation, files: Sequence[NewFile] = ()
    ) -> dict[str, Any] | None:
        """Apply ``mutate`` to the current document (None if absent) and write the result
        only if nobody wrote in between; otherwise read again and retry. ``mutate``
        returning None deletes the tool. ``files`` are written once the new document is
        known to fit, before it names them: a refused write stores nothing."""
        written = False
        for _ in range(_ATTEMPTS):
            stored = self.metadata.get(TOOL, tool_id)
            current = copy.deepcopy(stored.doc) if stored else None
            new = mutate(current)
            if new is not None:
                _check_fits(TOOL, tool_id, new)
                if not written:
                    self._write_files(files)
                    written = True
            if _commit(self.metadata, TOOL, tool_id, stored, new):
                return new
        raise Conflict(f"tool {tool_id!r} is being written by others; retry")

    def _write_files(self, files: Sequence[NewFile]) -> None:
        for f in files:
            self.blobs.put(f.content)

    def put_tool_class(self, class_id: str, doc: dict[str, Any]) -> None:
        for _ in range(_ATTEMPTS):
            stored = self.metadata.get(TOOL_CLASS, class_id)
            _check_fits(TOOL_CLASS, class_id, doc)
            if _commit(self.metadata, TOOL_CLASS, class_id, stored, doc):
                return
        raise Conflict(f"tool class {class_id!r} is being written by others; retry")

    def delete_tool_class(self, class_id: str) -> bool:
        for _ in range(_ATTEMPTS):
            stored = self.metadata.get(TOOL_CLASS, class_id)
            if stored is None:
                return False
            if self.metadata.delete(TOOL_CLASS, class_id, stored.rev):
                return True
        raise Conflict(f"tool class {class_id!r} is being written by others; retry")


def _commit(
    metadata: MetadataStore,
    kind: str,
    key: str,
    stored: Stored | None,
    new: dict[str, Any] | None,
) -> bool:
    if new is None:
        return stored is None or metadata.delete(kind, key, stored.rev)
    return metadata.put(kind, key, new, stored.rev if stored else None)


def _check_fits(kind: str, key: str, doc: dict[str, Any]) -> None:
    """A 400 for a document past DynamoDB's item limit (its files do not count: they are
    stored apart, and named in it only by path, type and checksum)."""
    size = item_bytes(kind, key, doc)
    if size > ITEM_LIMIT:
        label = "tool class" if kind == TOOL_CLASS else "tool"
        raise ApiError(
            400,
            f"{label} {key!r} would hold {size:,} bytes of metadata, past the registry's "
            f"{ITEM_LIMIT:,} (one DynamoDB item per tool; files are stored apart and do not "
            "count): register fewer versions or shorter fields, or split the tool",
        )


def _visible(caller: Caller, doc: dict[str, Any]) -> bool:
    return can_see(caller, doc.get("groups") or ())


def metadata_store(settings: Settings) -> MetadataStore:
    if settings.trs_table:
        from omicsgate.trs._dynamo import DynamoMetadata

        return DynamoMetadata(settings.trs_table, settings)
    from omicsgate.trs._sqlite import SqliteMetadata

    # Beside the local data; with data on S3 and no table, in the local state directory.
    if settings.data_uri.startswith("s3://"):
        return SqliteMetadata(os.path.join(settings.auth_dir, "trs", REGISTRY_FILE))
    return SqliteMetadata(os.path.join(settings.data_uri, "trs", REGISTRY_FILE))


@lru_cache(maxsize=1)
def get_registry() -> Registry:
    settings = get_settings()
    return Registry(metadata_store(settings), BlobStore(settings))


def reset_registry() -> None:
    get_registry.cache_clear()
