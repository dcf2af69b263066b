"""The GA4GH TRS 2.1 registry: live metadata (DynamoDB in AWS, SQLite locally) and
content-addressed files in the data store. Public surface: :func:`get_registry`,
:class:`Registry`, the models in :mod:`omicsgate.trs.models`, :func:`normalise_path`."""

from omicsgate.trs._paths import normalise_path
from omicsgate.trs._service import (
    WRITER_ROLE,
    Conflict,
    Registry,
    get_registry,
    reset_registry,
)

__all__ = [
    "WRITER_ROLE",
    "Conflict",
    "Registry",
    "get_registry",
    "normalise_path",
    "reset_registry",
]
