"""The per-container data store: one TileDB context, cached handles and tables."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from omicsgate.settings import Settings, get_settings
from omicsgate.storage import _layout, _manifest
from omicsgate.storage._context import tiledb_config
from omicsgate.storage._errors import (
    DamagedFile,
    ReleaseNotFound,
    StoreUnavailable,
)

if TYPE_CHECKING:
    import tiledb

T = TypeVar("T")

# How soon a pointer or a release list that could not be re-read is tried again (the
# cached one serves meanwhile).
RETRY_SECONDS = 5.0


# After S3 failed to answer (no connection, a timeout, a 5xx), every read fails at once for
# this long instead of waiting out its own timeouts: a request that reads several objects
# (the catalog's, a GWAS query's) meets one slow failure, not one per object, and stays
# inside the Lambda timeout. Errors that S3 answered (a missing file) do not count.
BREAKER_SECONDS = 2.0
_TRANSPORT_FAILURES = ("curlCode", "HTTP Response Code: 5", "Could not connect")
_unreachable_until = 0.0


def check_reachable(what: str) -> None:
    """StoreUnavailable at once while S3 is known not to answer (see BREAKER_SECONDS)."""
    if time.monotonic() < _unreachable_until:
        raise StoreUnavailable(f"{what}: S3 failed to answer moments ago")


@contextmanager
def unavailable_on_tiledb_error(what: str) -> Iterator[None]:
    """Turn storage failures into one error the web layer answers with a 503."""
    import tiledb

    global _unreachable_until
    check_reachable(what)
    try:
        yield
    except tiledb.TileDBError as error:
        if any(sign in str(error) for sign in _TRANSPORT_FAILURES):
            _unreachable_until = time.monotonic() + BREAKER_SECONDS
        raise StoreUnavailable(f"{what}: {error}") from error


class DataStore:
    """Reads releases. Nothing is opened until first used; everything opened is kept."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_uri
        self._ctx: tiledb.Ctx | None = None
        self._scattered_ctx: tiledb.Ctx | None = None
        self._arrays: dict[str, tiledb.Array] = {}
        self._memo: dict[tuple[str, str], Any] = {}
        self._complete: set[str] = set()
        self._current: tuple[str, float] | None = None
        self._dirs: tuple[list[str], float] | None = None
        self._lock = threading.Lock()

    @property
    def ctx(self) -> tiledb.Ctx:
        if self._ctx is None:
            import tiledb

            self._ctx = tiledb.Ctx(tiledb.Config(tiledb_config(self.settings)))
        return self._ctx

    @property
    def scattered_ctx(self) -> tiledb.Ctx:
        """A second context for arrays read a few tiles at a time far apart (GWAS loci):
        it never merges distant tile reads (``_context.SCATTERED_READS``)."""
        if self._scattered_ctx is None:
            import tiledb

            config = tiledb_config(self.settings, scattered=True)
            self._scattered_ctx = tiledb.Ctx(tiledb.Config(config))
        return self._scattered_ctx

    def vfs(self) -> tiledb.VFS:
        import tiledb

        return tiledb.VFS(ctx=self.ctx)

    def read_bytes(self, uri: str) -> bytes | None:
        """The file at ``uri``, or None if there is none: one size check and one read on S3;
        the existence check is made only when the read fails."""
        import tiledb

        check_reachable(f"reading {uri}")
        vfs = self.vfs()
        try:
            with vfs.open(uri, "rb") as handle:
                return bytes(handle.read())
        except tiledb.TileDBError as error:
            with unavailable_on_tiledb_error(f"reading {uri}"):
                if not vfs.is_file(uri):
                    return None
            raise StoreUnavailable(f"reading {uri}: {error}") from error

    def read_json(self, uri: str) -> Any | None:
        """The JSON document at ``uri``, or None if there is none."""
        raw = self.read_bytes(uri)
        if raw is None:
            return None
        try:
            return json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
        except (ValueError, OSError, EOFError) as error:
            raise DamagedFile(uri, f"not readable as JSON ({error})") from error

    # Releases -----------------------------------------------------------------------

    def current_release(self) -> str:
        """The current release ID, re-read from the pointer at most once per TTL. The pointer
        carries the release's manifest, so a cold container reads one file, not two."""
        now = time.monotonic()
        if self._current and now - self._current[1] < self.settings.release_ttl_seconds:
            return self._current[0]
        uri = _layout.pointer_uri(self.root)
        try:
            document = self.read_json(uri)
        except StoreUnavailable as error:
            if self._current is None or isinstance(error, DamagedFile):
                raise
            # Serve what can be served: S3 is unreachable now, and the release read last
            # is still whole (releases are immutable). Try the pointer again soon.
            self._current = (self._current[0], self._retry_soon(now))
            return self._current[0]
        if document is None:
            raise ReleaseNotFound("no data release has been published yet")
        release_id, manifest = _manifest.check_pointer(document, uri)
        if manifest is not None:
            self._memo.setdefault((release_id, "manifest"), manifest)
            self._complete.add(release_id)
        self._current = (release_id, now)
        return release_id

    def resolve(self, release_id: str | None) -> str:
        """A complete release: the one asked for, or the current one."""
        if release_id is None:
            return self.current_release()
        _layout.check_release_id(release_id)
        if release_id not in self._complete:
            # Releases are immutable once complete, so a positive answer is cached for good.
            self.manifest(release_id)
            self._complete.add(release_id)
        return release_id

    def manifest(self, release_id: str) -> dict[str, Any]:
        return self.memo(release_id, "manifest", lambda: self._read_manifest(release_id))

    def _read_manifest(self, release_id: str) -> dict[str, Any]:
        uri = _layout.manifest_uri(self.root, release_id)
        document = self.read_json(uri)
        if document is None:
            raise ReleaseNotFound(f"unknown release {release_id!r}")
        return _manifest.check_manifest(document, uri, release_id)

    def release_dirs(self) -> list[str]:
        """Names under ``releases/``, complete or not (valid release IDs only); listed again
        at most once per TTL, like the pointer."""
        now = time.monotonic()
        if self._dirs and now - self._dirs[1] < self.settings.release_ttl_seconds:
            return self._dirs[0]
        try:
            names = self._list_release_dirs()
        except StoreUnavailable:
            if self._dirs is None:
                raise
            names = self._dirs[0]  # as the pointer: the last list, until S3 answers again
            now = self._retry_soon(now)
        self._dirs = (names, now)
        return names

    def _retry_soon(self, now: float) -> float:
        """A read time that makes a TTL cache try again after RETRY_SECONDS (or its TTL)."""
        return (
            now
            - self.settings.release_ttl_seconds
            + min(RETRY_SECONDS, self.settings.release_ttl_seconds)
        )

    def _list_release_dirs(self) -> list[str]:
        vfs = self.vfs()
        base = _layout.releases_uri(self.root)
        with unavailable_on_tiledb_error(f"listing {base}"):
            if not vfs.is_dir(base):
                return []
            names = [_layout.base_name(uri) for uri in vfs.ls(base)]
        return sorted(n for n in names if _layout.is_release_id(n))

    def list_releases(self) -> list[str]:
        """Complete releases; a damaged manifest makes the store unavailable (DamagedFile)."""
        return [n for n in self.release_dirs() if self._is_complete(n)]

    def _is_complete(self, release_id: str) -> bool:
        try:
            self.resolve(release_id)
        except ReleaseNotFound:
            return False
        return True

    # Arrays and cached tables --------------------------------------------------------

    def data_uri(self, release_id: str) -> str:
        """Where the release's arrays are: the attempt its manifest names."""
        data = self.manifest(release_id).get("data", "")
        return _layout.join(_layout.release_uri(self.root, release_id), data)

    def array_uri(self, release_id: str, name: str) -> str:
        """A table lives in the attempt of the part that wrote it (format 3), or with the
        release's data."""
        table = self.manifest(release_id)["tables"].get(name) or {}
        if "data" in table:
            return _layout.join(_layout.release_uri(self.root, release_id), table["data"], name)
        return _layout.join(self.data_uri(release_id), name)

    def has_table(self, release_id: str, name: str) -> bool:
        return name in self.manifest(release_id)["tables"]

    def array(self, release_id: str, name: str) -> tiledb.Array:
        """An open read handle, kept for the life of the container."""
        uri = self.array_uri(release_id, name)
        with self._lock:
            if uri not in self._arrays:
                import tiledb

                with unavailable_on_tiledb_error(f"opening {name} of release {release_id}"):
                    self._arrays[uri] = tiledb.open(uri, mode="r", ctx=self.ctx)
            return self._arrays[uri]

    def memo(self, release_id: str, key: str, load: Callable[[], T]) -> T:
        """Compute once per container and release: small tables live in memory."""
        slot = (release_id, key)
        if slot not in self._memo:
            with unavailable_on_tiledb_error(f"loading {key} of release {release_id}"):
                self._memo[slot] = load()
        return cast(T, self._memo[slot])

    def read_all(self, release_id: str, name: str) -> dict[str, Any]:
        """Every row of a table, as columns: from the release's pack when the table is small
        (one object for all of them), from its array otherwise."""
        packed = self.manifest(release_id).get("packed") or {}
        if name in packed.get("tables", []):
            import numpy as np

            columns = self._pack(release_id, packed)[name]
            return {column: np.asarray(values) for column, values in columns.items()}
        from omicsgate.storage import _tables

        return self.read(release_id, name, _tables.read_all)

    def _pack(self, release_id: str, packed: dict[str, Any]) -> dict[str, dict[str, Any]]:
        def load() -> dict[str, dict[str, Any]]:
            uri = _layout.join(self.data_uri(release_id), packed["file"])
            document = self.read_json(uri)
            if document is None:
                raise DamagedFile(uri, "missing, though the manifest names it")
            return _manifest.check_pack(document, uri, packed["tables"])

        return self.memo(release_id, "pack", load)

    def read_points(
        self, release_id: str, name: str, points: Sequence[Sequence[Any]]
    ) -> dict[str, Any]:
        """Rows whose coordinates fall on the given values, one list per dimension."""
        from omicsgate.storage import _tables

        return self.read(release_id, name, lambda array: _tables.read_points(array, points))

    def read(self, release_id: str, name: str, read: Callable[[tiledb.Array], T]) -> T:
        """Run a read on an array, reporting storage failures as StoreUnavailable."""
        array = self.array(release_id, name)
        with unavailable_on_tiledb_error(f"reading {name} of release {release_id}"):
            return read(array)


@lru_cache(maxsize=1)
def get_store() -> DataStore:
    return DataStore(get_settings())


def reset_store() -> None:
    """Forget the settings and the store (tests switch data locations), and that S3 failed."""
    global _unreachable_until
    get_settings.cache_clear()
    get_store.cache_clear()
    _unreachable_until = 0.0
