"""The reference group's routers, gathered in one app."""

from omicsgate.web import create_app
from omicsgate.web.errors import GTEX
from reference_api.routes import datasets, exons, genes, tissues, variants

app = create_app(
    "OmicsGate portal API: reference",
    GTEX,
    [datasets.router, tissues.router, genes.router, exons.router, variants.router],
    openapi_path="/api/v4/reference/openapi.json",
)
