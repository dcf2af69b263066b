"""The portal's pages and the API reference, gathered in one app."""

from omicsgate.web import create_app
from omicsgate.web.errors import MESSAGE
from site_api.routes import site

app = create_app("OmicsGate portal and API reference", MESSAGE, [site.router])
