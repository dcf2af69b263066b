"""Shared pieces of the TRS routes: prefix, descriptor types, URLs, the writer check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends

from omicsgate.auth import Caller
from omicsgate.trs import WRITER_ROLE
from omicsgate.trs.models import trs_2_0_1
from omicsgate.web import ApiError
from omicsgate.web.security import SignedInCaller

PREFIX = "/ga4gh/trs/v2"
TYPES = ("CWL", "WDL", "NFL", "GALAXY", "SMK")
Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


# The pre-2.1 base path that cwltool's TRS resolver (and Dockstore) use: every read route
# is served there too, so `cwltool --add-ga4gh-tool-registry <server>` finds tools. It
# answers in TRS 2.0.1's shapes (trs-cli 0.7.0 and other 2.0.1 clients forbid the fields
# 2.1 added); /ga4gh/trs/v2 answers in 2.1's.
LEGACY_PREFIX = "/api/ga4gh/v2"
legacy = APIRouter(prefix=LEGACY_PREFIX, tags=["legacy"])


def read_route(router: APIRouter, path: str, **options: Any) -> Callable[[Endpoint], Endpoint]:
    """A GET route that answers HEAD too (Starlette would answer 405; cwltool sends HEAD
    first), under the TRS prefix and the legacy one (with TRS 2.0.1's answer model): one
    route per method and prefix, so each has an operation ID of its own."""
    model = options.pop("response_model")
    targets = ((router, model), (legacy, trs_2_0_1(model)))

    def register(endpoint: Endpoint) -> Endpoint:
        for target, answer in targets:
            for method in ("GET", "HEAD"):
                target.add_api_route(
                    path, endpoint, methods=[method], response_model=answer, **options
                )
        return endpoint

    return register


def parse_type(raw: str) -> tuple[str, bool]:
    """``CWL`` -> (CWL, False); ``PLAIN_CWL`` and cwltool's ``plain-CWL`` -> (CWL, True)."""
    name = raw.upper().replace("-", "_")
    plain = name.startswith("PLAIN_")
    name = name.removeprefix("PLAIN_")
    if name not in TYPES:
        # A 404 (what TRS lists for these routes): no version has files of that type.
        raise ApiError(404, f"{raw!r} is not one of {', '.join(TYPES)} (or PLAIN_ + one)", "type")
    return name, plain


def roles(caller: Caller) -> frozenset[str]:
    """The roles a token carries: claim ``roles``, a list or a comma-separated string."""
    raw = caller.claims.get("roles") or []
    if isinstance(raw, str):
        raw = raw.split(",")
    return frozenset(str(r).strip() for r in raw if str(r).strip())


def registry_writer(caller: SignedInCaller) -> Caller:
    """401 without a token; 403 for a token without the ``trs-writer`` role."""
    if WRITER_ROLE not in roles(caller):
        raise ApiError(403, f"writing to the registry needs the {WRITER_ROLE!r} role")
    return caller


Writer = Annotated[Caller, Depends(registry_writer)]
