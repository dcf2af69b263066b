"""Lambda entry point: ``expression_api.handler.handler``."""

from expression_api.app import app
from omicsgate.web import make_handler

handler = make_handler(app)
