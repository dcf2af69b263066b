"""Where things live under the data URI.

    current.json                          pointer: {"release": ID, "manifest": {...}}
    releases/<ID>/release.json            manifest: written once, the release's commit point
    releases/<ID>/draft/<part>.json       a draft's parts: which attempt holds each one
    releases/<ID>/attempts/<attempt>/     one part ingestion's (or one publish's) arrays,
                                          pack and lease

Every part ingestion writes into an attempt directory of its own, so concurrent writers of
one release ID never touch each other's files; the draft's part record names the attempt
that holds the part, and publishing copies those names into the manifest (with the attempt
holding what publish derived). Releases of format 1 kept their arrays in ``releases/<ID>/``.
"""

from __future__ import annotations

import re

from omicsgate.storage._errors import InvalidRelease

RELEASES_DIR = "releases"
ATTEMPTS_DIR = "attempts"
POINTER_FILE = "current.json"
MANIFEST_FILE = "release.json"
DRAFT_DIR = "draft"
LEASE_FILE = "lease.json"
PACK_FILE = "small-tables.json.gz"
_RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_PART = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def is_release_id(name: str) -> bool:
    return bool(_RELEASE_ID.match(name))


def check_release_id(release_id: str) -> str:
    if not is_release_id(release_id):
        raise InvalidRelease(
            f"release ID {release_id!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    return release_id


def join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *(p for p in parts if p)])


def releases_uri(root: str) -> str:
    return join(root, RELEASES_DIR)


def release_uri(root: str, release_id: str) -> str:
    return join(root, RELEASES_DIR, check_release_id(release_id))


def attempts_uri(root: str, release_id: str) -> str:
    return join(release_uri(root, release_id), ATTEMPTS_DIR)


def manifest_uri(root: str, release_id: str) -> str:
    return join(release_uri(root, release_id), MANIFEST_FILE)


def draft_uri(root: str, release_id: str) -> str:
    return join(release_uri(root, release_id), DRAFT_DIR)


def part_uri(root: str, release_id: str, part: str) -> str:
    if not _PART.match(part):
        raise InvalidRelease(f"part name {part!r} must be 1-32 lower-case letters, digits or '_'")
    return join(draft_uri(root, release_id), f"{part}.json")


def pointer_uri(root: str) -> str:
    return join(root, POINTER_FILE)


def base_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]
