"""Typed dependencies for who is calling and what a route costs them."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from omicsgate.auth import AuthError, Caller, get_auth


def client_ip(request: Request) -> str:
    """The caller's address as API Gateway saw it (the socket's peer locally)."""
    event = request.scope.get("aws.event") or {}
    source = ((event.get("requestContext") or {}).get("http") or {}).get("sourceIp")
    if source:
        return str(source)
    return request.client.host if request.client else "0.0.0.0"


def current_caller(request: Request) -> Caller:
    """Anonymous without a token; 401 for a token that does not verify."""
    return get_auth().caller(request.headers.get("authorization"), client_ip(request))


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def signed_in_caller(caller: CurrentCaller) -> Caller:
    if caller.anonymous:
        raise AuthError("this route needs a bearer token (Authorization: Bearer <JWT>)")
    return caller


SignedInCaller = Annotated[Caller, Depends(signed_in_caller)]


class Meter:
    """Charges the caller's allowance. Routes call :meth:`charge` once their input is
    validated, so a request that fails validation costs nothing."""

    def __init__(self, request: Request, caller: Caller) -> None:
        self.request, self.caller = request, caller

    def charge(self, cost: int = 1) -> None:
        self.request.state.allowance = get_auth().charge(self.caller, cost)


def meter(request: Request, caller: CurrentCaller) -> Meter:
    return Meter(request, caller)


Metered = Annotated[Meter, Depends(meter)]
