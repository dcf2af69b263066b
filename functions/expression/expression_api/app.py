"""The expression group's routers, gathered in one app."""

from expression_api.routes import gene_expression, median_expression, top_expressed
from omicsgate.web import create_app
from omicsgate.web.errors import GTEX

app = create_app(
    "OmicsGate portal API: expression",
    GTEX,
    [gene_expression.router, median_expression.router, top_expressed.router],
    openapi_path="/api/v4/expression/openapi.json",
)
