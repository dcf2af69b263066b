class StorageError(Exception):
    """Base of the storage errors."""


class StoreUnavailable(StorageError):
    """The data store cannot be reached or read (answered as 503)."""


class ReleaseNotFound(StorageError):
    """No complete release has this ID (or no release is current yet)."""


class InvalidRelease(StorageError):
    """A release ID that can never exist (bad characters or length)."""


class ReleaseExists(StorageError):
    """Releases are immutable: a complete release cannot be written again."""


class RestrictedRelease(StorageError):
    """A release restricted to groups cannot be the current (default) release."""
