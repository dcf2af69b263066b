"""Lambda entry point: ``catalog_api.handler.handler``."""

from catalog_api.app import app
from omicsgate.web import make_handler

handler = make_handler(app)
