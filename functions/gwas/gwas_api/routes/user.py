import time

from fastapi import APIRouter, Request

from omicsgate.models.gwas import UserResponse
from omicsgate.web.security import Metered, SignedInCaller, client_ip

router = APIRouter(prefix="/gwas", tags=["user"])
COST = 0  # OpenGWAS charges nothing for /user, but still reports the allowance


@router.get("/user", response_model=UserResponse)
def user(request: Request, caller: SignedInCaller, meter: Metered) -> dict[str, object]:
    meter.charge(COST)
    allowance = request.state.allowance
    expires = caller.token_expires or 0
    claims = caller.claims
    return {
        "user": {
            "uid": caller.uid,
            "first_name": str(claims.get("given_name", "")),
            "last_name": str(claims.get("family_name", "")),
            "jwt_valid_until": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires)),
            "roles": [],
            "tags": sorted(caller.groups),
            "groups": sorted(caller.groups),
            "tier": caller.tier,
            "allowance": {
                "limit": allowance.limit,
                "remaining": allowance.remaining,
                "reset": allowance.reset,
            },
        },
        "request": {"client": request.headers.get("user-agent", ""), "ip": client_ip(request)},
    }
