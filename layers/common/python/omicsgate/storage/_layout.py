"""Where things live under the data URI."""

from __future__ import annotations

import re

from omicsgate.storage._errors import InvalidRelease

RELEASES_DIR = "releases"
POINTER_FILE = "current.json"
MANIFEST_FILE = "release.json"
_RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_release_id(release_id: str) -> str:
    if not _RELEASE_ID.match(release_id):
        raise InvalidRelease(
            f"release ID {release_id!r} must be 1-64 letters, digits, '.', '_' or '-'"
        )
    return release_id


def join(root: str, *parts: str) -> str:
    return "/".join([root.rstrip("/"), *parts])


def release_uri(root: str, release_id: str) -> str:
    return join(root, RELEASES_DIR, check_release_id(release_id))


def manifest_uri(root: str, release_id: str) -> str:
    return join(release_uri(root, release_id), MANIFEST_FILE)


def pointer_uri(root: str) -> str:
    return join(root, POINTER_FILE)
