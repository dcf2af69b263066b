"""The per-container data store: one TileDB context, cached handles and tables."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from omicsgate.settings import Settings, get_settings
from omicsgate.storage import _layout
from omicsgate.storage._context import tiledb_config
from omicsgate.storage._errors import InvalidRelease, ReleaseNotFound, StoreUnavailable

if TYPE_CHECKING:
    import tiledb

T = TypeVar("T")


@contextmanager
def unavailable_on_tiledb_error(what: str) -> Iterator[None]:
    """Turn storage failures into one error the web layer answers with a 503."""
    import tiledb

    try:
        yield
    except tiledb.TileDBError as error:
        raise StoreUnavailable(f"{what}: {error}") from error


class DataStore:
    """Reads releases. Nothing is opened until first used; everything opened is kept."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.data_uri
        self._ctx: tiledb.Ctx | None = None
        self._arrays: dict[str, tiledb.Array] = {}
        self._memo: dict[tuple[str, str], Any] = {}
        self._complete: set[str] = set()
        self._current: tuple[str, float] | None = None
        self._lock = threading.Lock()

    @property
    def ctx(self) -> tiledb.Ctx:
        if self._ctx is None:
            import tiledb

            self._ctx = tiledb.Ctx(tiledb.Config(tiledb_config(self.settings)))
        return self._ctx

    def vfs(self) -> tiledb.VFS:
        import tiledb

        return tiledb.VFS(ctx=self.ctx)

    def read_json(self, uri: str) -> Any | None:
        """The JSON document at ``uri``, or None if there is none."""
        vfs = self.vfs()
        with unavailable_on_tiledb_error(f"reading {uri}"):
            if not vfs.is_file(uri):
                return None
            with vfs.open(uri, "rb") as handle:
                return json.loads(handle.read())

    # Releases -----------------------------------------------------------------------

    def current_release(self) -> str:
        """The current release ID, re-read from the pointer at most once per TTL."""
        now = time.monotonic()
        if self._current and now - self._current[1] < self.settings.release_ttl_seconds:
            return self._current[0]
        pointer = self.read_json(_layout.pointer_uri(self.root))
        if not pointer:
            raise ReleaseNotFound("no data release has been published yet")
        self._current = (pointer["release"], now)
        return pointer["release"]

    def resolve(self, release_id: str | None) -> str:
        """A complete release: the one asked for, or the current one."""
        if release_id is None:
            return self.current_release()
        _layout.check_release_id(release_id)
        if release_id not in self._complete:
            # Releases are immutable once complete, so a positive answer is cached for good.
            if self.read_json(_layout.manifest_uri(self.root, release_id)) is None:
                raise ReleaseNotFound(f"unknown release {release_id!r}")
            self._complete.add(release_id)
        return release_id

    def manifest(self, release_id: str) -> dict[str, Any]:
        return self.memo(release_id, "manifest", lambda: self._read_manifest(release_id))

    def _read_manifest(self, release_id: str) -> dict[str, Any]:
        manifest = self.read_json(_layout.manifest_uri(self.root, release_id))
        if manifest is None:
            raise ReleaseNotFound(f"unknown release {release_id!r}")
        return dict(manifest)

    def list_releases(self) -> list[str]:
        vfs = self.vfs()
        base = _layout.join(self.root, _layout.RELEASES_DIR)
        with unavailable_on_tiledb_error(f"listing {base}"):
            if not vfs.is_dir(base):
                return []
            names = [uri.rstrip("/").rsplit("/", 1)[-1] for uri in vfs.ls(base)]
        return sorted(n for n in names if self._is_complete(n))

    def _is_complete(self, release_id: str) -> bool:
        try:
            self.resolve(release_id)
        except (ReleaseNotFound, InvalidRelease):
            return False
        return True

    # Arrays and cached tables --------------------------------------------------------

    def array_uri(self, release_id: str, name: str) -> str:
        return _layout.join(_layout.release_uri(self.root, release_id), name)

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
        """Every row of a table, as columns."""
        from omicsgate.storage import _tables

        return self.read(release_id, name, _tables.read_all)

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
    """Forget the settings and the store (tests switch data locations)."""
    get_settings.cache_clear()
    get_store.cache_clear()
