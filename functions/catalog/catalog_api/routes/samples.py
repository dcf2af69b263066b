"""/v2/samples: expression samples of a release."""

from omicsgate.catalog import RESOURCES
from omicsgate.catalog.routing import resource_router

router = resource_router(RESOURCES["samples"])  # /{ids}/info and /search
