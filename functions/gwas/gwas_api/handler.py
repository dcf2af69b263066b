"""Lambda entry point: ``gwas_api.handler.handler``."""

from gwas_api.app import app
from omicsgate.web import make_handler

handler = make_handler(app)
