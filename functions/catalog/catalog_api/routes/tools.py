"""/v2/tools: tools of the TRS registry."""

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.routing import resource_router

router = resource_router(RESOURCES["tools"])  # /{ids}/info and /search
