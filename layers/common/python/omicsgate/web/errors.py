"""Errors as each API standard shapes them; never HTML, never a stack trace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol


class ApiError(Exception):
    """A client-facing error: status, message and the parameter at fault."""

    def __init__(self, status: int, message: str, parameter: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = f"{parameter}: {message}" if parameter else message
        self.parameter = parameter


@dataclass(frozen=True)
class Problem:
    status: int
    message: str
    parameter: str | None = None
    request_id: str | None = None
    details: list[dict[str, Any]] | None = None
    query: dict[str, str] | None = None  # the request's query (OpenCGA echoes it as params)


class ErrorStyle(Protocol):
    def body(self, problem: Problem) -> dict[str, Any]: ...


class GtexErrors:
    """GTEx Portal v2: ``{"detail": ...}``; validation errors keep FastAPI's list."""

    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["detail"],
        "properties": {
            "detail": {"anyOf": [{"type": "string"}, {"type": "array"}]},
            "message": {"type": "string"},
            "requestId": {"type": "string"},
        },
    }

    def body(self, problem: Problem) -> dict[str, Any]:
        body: dict[str, Any] = {"detail": problem.details or problem.message}
        if problem.details:
            body["message"] = problem.message
        if problem.request_id:
            body["requestId"] = problem.request_id
        return body


class MessageErrors:
    """RNAget and OpenGWAS: ``{"message": ...}`` (RNAget adds nothing else). A request
    that fails validation is a 400, as both document (FastAPI's 422 is in neither)."""

    validation_status = 400

    schema: ClassVar[dict[str, Any]] = {
        "type": "object",
        "required": ["message"],
        "properties": {"message": {"type": "string"}, "requestId": {"type": "string"}},
    }

    def body(self, problem: Problem) -> dict[str, Any]:
        body: dict[str, Any] = {"message": problem.message}
        if problem.request_id:
            body["requestId"] = problem.request_id
        return body


GTEX = GtexErrors()
MESSAGE = MessageErrors()
