"""Where things live under the data URI.

    current.json                          pointer: {"release": ID, "manifest": {...}}
    releases/<ID>/release.json            manifest: written once, the release's commit point
    releases/<ID>/attempts/<attempt>/     one ingestion's arrays, pack and lease

Every ingestion writes into an attempt directory of its own, so concurrent writers of one
release ID never touch each other's files; the manifest names the attempt that won.
Releases of format 1 kept their arrays directly in ``releases/<ID>/``.
"""

from __future__ import annotations

import re

from omicsgate.storage._errors import InvalidRelease

RELEASES_DIR = "releases"
ATTEMPTS_DIR = "attempts"
POINTER_FILE = "current.json"
MANIFEST_FILE = "release.json"
LEASE_FILE = "lease.json"
PACK_FILE = "small-tables.json.gz"
_RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


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


def pointer_uri(root: str) -> str:
    return join(root, POINTER_FILE)


def base_name(uri: str) -> str:
    return uri.rstrip("/").rsplit("/", 1)[-1]
