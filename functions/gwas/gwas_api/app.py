"""The GWAS group's routers, gathered in one app."""

from gwas_api.routes import user
from omicsgate.web import create_app
from omicsgate.web.errors import MESSAGE

app = create_app("OmicsGate OpenGWAS API", MESSAGE, [user.router])
