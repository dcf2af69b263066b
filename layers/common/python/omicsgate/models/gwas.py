"""Response models of the OpenGWAS API group."""

from __future__ import annotations

from pydantic import BaseModel


class Allowance(BaseModel):
    limit: int
    remaining: int
    reset: int


class UserInfo(BaseModel):
    uid: str
    first_name: str
    last_name: str
    jwt_valid_until: str
    roles: list[str]
    tags: list[str]
    groups: list[str]
    tier: str
    allowance: Allowance


class RequestInfo(BaseModel):
    client: str
    ip: str


class UserResponse(BaseModel):
    user: UserInfo
    request: RequestInfo
