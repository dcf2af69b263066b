"""The OpenCGA 2.x response envelope (``RestResponse`` holding ``OpenCGAResult``s), its
events, and the error style that answers every catalog error in the same envelope."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, Field

from omicsgate.web.errors import Problem

API_VERSION = "v2"
INFO, WARNING, ERROR = "INFO", "WARNING", "ERROR"
# OpenCGA's own words for an ID that is missing *or* forbidden: the two are never told apart.
NOT_FOUND = "Not found or user does not have permissions."
Obj = dict[str, Any]


def event(kind: str, message: str, *, code: int = 0, id: str = "", name: str = "") -> Obj:
    """One event; ``id`` says what it is about (an ID, a parameter, an endpoint)."""
    return {"type": kind, "code": code, "id": id, "name": name or kind.lower(), "message": message}


def data_result(
    results: Sequence[Obj],
    *,
    result_type: str,
    num_matches: int,
    node: Mapping[str, str],
    time_ms: int = 0,
    events: Iterable[Obj] = (),
) -> Obj:
    events = list(events)
    return {
        "time": time_ms,
        "events": events,
        "numResults": len(results),
        "results": list(results),
        "resultType": result_type,
        "numMatches": num_matches,
        "numInserted": 0,
        "numUpdated": 0,
        "numDeleted": 0,
        "numErrors": sum(1 for e in events if e["type"] == ERROR),
        "federationNode": dict(node),
    }


def rest_response(
    params: Mapping[str, str], responses: Sequence[Obj], events: Iterable[Obj], time_ms: int
) -> Obj:
    return {
        "apiVersion": API_VERSION,
        "time": time_ms,
        "params": dict(params),
        "events": list(events),
        "responses": list(responses),
    }


class CatalogErrors:
    """Every error is the envelope itself: no results, one ERROR event saying why (its
    ``id`` the parameter at fault), the request id as ``requestId``."""

    def body(self, problem: Problem) -> Obj:
        body = rest_response(
            problem.query or {},
            [],
            [event(ERROR, problem.message, code=problem.status, id=problem.parameter or "")],
            0,
        )
        if problem.details:
            body["events"][0]["details"] = problem.details
        if problem.request_id:
            body["requestId"] = problem.request_id
        return body


CATALOG = CatalogErrors()


# Models: the OpenAPI document's description of what every route answers -------------


class Event(BaseModel):
    type: Literal["INFO", "WARNING", "ERROR"]
    code: int = Field(description="an HTTP-like status for errors, else 0")
    id: str = Field(description="what the event is about: an ID, a parameter, an endpoint")
    name: str
    message: str


class FederationNode(BaseModel):
    id: str = Field(description="the deployment that answered ('local' for this one's ID)")
    uri: str
    version: str


class DataResult(BaseModel):
    time: int = Field(description="milliseconds this node took")
    events: list[Event]
    numResults: int
    results: list[Any] = Field(description="the records, shaped by include/exclude")
    resultType: str
    numMatches: int = Field(
        description="how many records match in all (-1 unless count=true on a search)"
    )
    numInserted: int
    numUpdated: int
    numDeleted: int
    numErrors: int
    federationNode: FederationNode


class RestResponse(BaseModel):
    apiVersion: str
    time: int = Field(description="milliseconds for the whole call")
    params: dict[str, str] = Field(description="the query options as given")
    events: list[Event]
    responses: list[DataResult] = Field(
        description="this deployment's answer first, then one per federated peer"
    )
