"""Web plumbing shared by every function: app factory, error shapes, parameters."""

from omicsgate.web.app import create_app, make_handler
from omicsgate.web.errors import ApiError, ErrorStyle

__all__ = ["ApiError", "ErrorStyle", "create_app", "make_handler"]
