"""/v2/tissues: tissues of a release."""

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.routing import resource_router

router = resource_router(RESOURCES["tissues"])  # /{ids}/info and /search
