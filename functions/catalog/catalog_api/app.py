"""The catalog group's routers, gathered in one app; every answer, errors included, is
OpenCGA's RestResponse envelope."""

from catalog_api.routes import genes, meta, projects, samples, studies, tissues, tools, variants
from omicsgate.catalog import CATALOG
from omicsgate.web import create_app

app = create_app(
    "OmicsGate catalog (OpenCGA REST conventions)",
    CATALOG,
    [
        meta.router,
        projects.router,
        studies.router,
        samples.router,
        tissues.router,
        genes.router,
        variants.router,
        tools.router,
    ],
)
