"""Lambda entry point: ``reference_api.handler.handler``."""

from omicsgate.web import make_handler
from reference_api.app import app

handler = make_handler(app)
