class StorageError(Exception):
    """Base of the storage errors."""


class StoreUnavailable(StorageError):
    """The data store cannot be reached or read (answered as 503)."""


class DamagedFile(StoreUnavailable):
    """A pointer, manifest or pack that cannot be read as what it should be (a 503: the
    store is broken until someone repairs that file, which the message names)."""

    def __init__(self, uri: str, problem: str) -> None:
        super().__init__(f"{uri} is damaged: {problem}")
        self.uri = uri


class ReleaseNotFound(StorageError):
    """No complete release has this ID (or no release is current yet)."""


class InvalidRelease(StorageError):
    """A release ID that can never exist (bad characters or length)."""


class ReleaseExists(StorageError):
    """Releases are immutable: a complete release cannot be written again (also what the
    loser of two concurrent ingestions of one release ID gets)."""


class RestrictedRelease(StorageError):
    """A release restricted to groups cannot be the current (default) release."""
