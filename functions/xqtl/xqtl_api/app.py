"""The xQTL group's routers, gathered in one app."""

from omicsgate.web import create_app
from omicsgate.web.errors import GTEX
from xqtl_api.routes import dyneqtl, eqtl, single_tissue_eqtl, xqtl

app = create_app(
    "OmicsGate portal API: xQTL",
    GTEX,
    [eqtl.router, single_tissue_eqtl.router, xqtl.router, dyneqtl.router],
    openapi_path="/api/v4/xqtl/openapi.json",
)
