"""Lambda entry point: ``site_api.handler.handler``."""

from omicsgate.web import make_handler
from site_api.app import app

handler = make_handler(app)
