"""Lambda entry point: ``rnaget_api.handler.handler``."""

from omicsgate.web import make_handler
from rnaget_api.app import app

handler = make_handler(app)
