"""Lambda entry point: ``xqtl_api.handler.handler``."""

from omicsgate.web import make_handler
from xqtl_api.app import app

handler = make_handler(app)
