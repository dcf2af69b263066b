"""The catalog: one OpenCGA-style API (``/v2/{resource}/{ids}/{endpoint}``) over everything
OmicsGate holds, read through the layer's readers, in OpenCGA's envelope and rules.

Public surface: :data:`RESOURCES` (what each resource reads), the envelope helpers and
:data:`CATALOG` error style, the lifecycle registry :data:`LIFECYCLE`, the federation
client (:func:`ask`, :func:`peers`), and in :mod:`omicsgate.catalog.web` what the function's
routes are made of.
"""

from omicsgate.catalog._envelope import (
    API_VERSION,
    CATALOG,
    ERROR,
    INFO,
    NOT_FOUND,
    WARNING,
    RestResponse,
    data_result,
    event,
    rest_response,
)
from omicsgate.catalog._federation import Peer, ask, peers
from omicsgate.catalog._lifecycle import LIFECYCLE, Lifecycle, Stage, lifecycle
from omicsgate.catalog._options import MAX_IDS, MAX_LIMIT, Page, Projection, parse_ids
from omicsgate.catalog._resources import RESOURCES, Resource, Scope

__all__ = [
    "API_VERSION",
    "CATALOG",
    "ERROR",
    "INFO",
    "LIFECYCLE",
    "MAX_IDS",
    "MAX_LIMIT",
    "NOT_FOUND",
    "RESOURCES",
    "WARNING",
    "Lifecycle",
    "Page",
    "Peer",
    "Projection",
    "Resource",
    "RestResponse",
    "Scope",
    "Stage",
    "ask",
    "data_result",
    "event",
    "lifecycle",
    "parse_ids",
    "peers",
    "rest_response",
]
