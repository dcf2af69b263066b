"""The portal's built pages (``/portal/``) and the API reference (``/docs/``), as files read
from the site root (``OMICSGATE_PORTAL_URI``: ``<data URI>/portal`` on S3, where the deploy
uploads ``portal/dist``; the checkout's ``portal/dist`` under ``make serve``).

Only names made of plain path segments are read, and only under the root: a request can
never reach the data releases beside it. Files are kept in memory for the release TTL (the
site changes only when a deploy uploads a new one), compressed once when the client takes
gzip: plotly.js is 4.7 MB, which Lambda could not return base64-encoded (6 MB), and 1.4 MB
gzipped.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

from omicsgate.storage import DataStore, get_store

# URL mount -> folder under the site root.
MOUNTS = {"portal": "", "docs": "docs"}
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}
TEXT_TYPES = ("application/json", "image/svg+xml", "application/xml")
# Lambda returns at most 6 MB, and a binary answer travels base64-encoded (4/3 larger).
MAX_INLINE_BYTES = 4_400_000
MIN_COMPRESSED_BYTES = 1024
MAX_CACHED_BYTES = 64 * 1024 * 1024


@dataclass
class SiteFile:
    body: bytes
    content_type: str
    etag: str
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def compressible(self) -> bool:
        kind = self.content_type.split(";")[0]
        return len(self.body) >= MIN_COMPRESSED_BYTES and (
            kind.startswith("text/") or kind in TEXT_TYPES
        )

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=6, mtime=0)
        return self._gzipped


def relative_name(mount: str, path: str) -> str | None:
    """The file's name under the site root for ``/<mount>/<path>``, ``index.html`` for a
    folder; None for anything but plain segments (``..``, ``.``, empty, backslash, NUL)."""
    segments = path.split("/")
    if path == "" or path.endswith("/"):
        segments[-1] = "index.html"
    if any(s in ("", ".", "..") or "\\" in s or "\x00" in s for s in segments):
        return None
    return "/".join(s for s in (MOUNTS[mount], *segments) if s)


def content_type(name: str) -> str:
    suffix = name[name.rfind(".") :] if "." in name else ""
    kind = TYPES.get(suffix) or mimetypes.guess_type(name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in TEXT_TYPES:
        kind += "; charset=utf-8"
    return kind


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when ``Accept-Encoding`` names gzip (or ``*``) with a non-zero q-value."""
    for item in (accept_encoding or "").lower().split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip() not in ("gzip", "*"):
            continue
        params = params.strip()
        if not params.startswith("q="):
            return True
        try:
            return float(params[2:]) > 0
        except ValueError:
            return False
    return False


class StaticSite:
    """The site's files under ``root``, read through the store (local folder or S3)."""

    def __init__(self, store: DataStore, root: str, ttl_seconds: float) -> None:
        self.store = store
        self.root = root.rstrip("/")
        self.ttl = ttl_seconds
        self._files: dict[str, tuple[SiteFile | None, float]] = {}
        self._lock = threading.Lock()

    def uri(self, name: str) -> str:
        return f"{self.root}/{name}"

    def get(self, name: str) -> SiteFile | None:
        now = time.monotonic()
        with self._lock:
            cached = self._files.get(name)
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        body = self.store.read_bytes(self.uri(name))
        found = None
        if body is not None:
            etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
            found = SiteFile(body, content_type(name), etag)
        with self._lock:
            if sum(len(f.body) for f, _ in self._files.values() if f) > MAX_CACHED_BYTES:
                self._files.clear()
            self._files[name] = (found, now)
        return found

    def is_built(self) -> bool:
        return self.get("index.html") is not None


@lru_cache(maxsize=1)
def _site(store: DataStore) -> StaticSite:
    settings = store.settings
    return StaticSite(store, settings.portal_uri, settings.release_ttl_seconds)


def get_site() -> StaticSite:
    """The site of this container's store (a new store, after a reset, gets a new site)."""
    return _site(get_store())
