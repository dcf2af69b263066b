"""The GWAS group's routers, gathered in one app."""

from gwas_api.routes import (
    associations,
    batches,
    gwasinfo,
    ld,
    phewas,
    status,
    tophits,
    user,
    variants,
)
from omicsgate.web import create_app
from omicsgate.web.errors import MESSAGE

app = create_app(
    "OmicsGate OpenGWAS API",
    MESSAGE,
    [
        user.router,
        status.router,
        batches.router,
        gwasinfo.router,
        associations.router,
        tophits.router,
        phewas.router,
        variants.router,
        ld.router,
    ],
    openapi_path="/gwas/openapi.json",
)
