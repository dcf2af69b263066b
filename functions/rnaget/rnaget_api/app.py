"""The RNAget group's routers, gathered in one app; errors are RNAget's ``{"message"}``."""

from omicsgate.web import create_app
from omicsgate.web.errors import MESSAGE
from rnaget_api.routes import continuous, expressions, files, projects, service_info, studies

app = create_app(
    "OmicsGate: GA4GH RNAget 1.2",
    MESSAGE,
    [
        service_info.router,
        projects.router,
        studies.router,
        expressions.router,
        continuous.router,
        files.router,
    ],
    openapi_path="/rnaget/openapi.json",
)
