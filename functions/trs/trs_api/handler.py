"""Lambda entry point: ``trs_api.handler.handler``."""

from omicsgate.web import make_handler
from trs_api.app import app

handler = make_handler(app)
