from fastapi import APIRouter

from omicsgate import __version__
from omicsgate.models.rnaget import ServiceInfo
from rnaget_api.routes import PREFIX

router = APIRouter(prefix=PREFIX, tags=["service-info"])

# What this server implements of RNAget's four parts; the others are not routed yet.
SUPPORTED = {"projects": True, "studies": True, "expressions": True, "continuous": True}


@router.get("/service-info", response_model=ServiceInfo)
def service_info() -> dict[str, object]:
    """GA4GH service-info 1.0, with RNAget's ``supported`` parts. Free and public."""
    return {
        "id": "org.omicsgate.rnaget",
        "name": "OmicsGate RNAget",
        "type": {"group": "org.ga4gh", "artifact": "rnaget", "version": "1.2.0"},
        "description": "GA4GH RNAget 1.2 over OmicsGate's data releases, read from TileDB",
        "organization": {"name": "OmicsGate", "url": "https://github.com/omicsgate"},
        "documentationUrl": "https://ga4gh-rnaseq.github.io/schema/docs/index.html",
        "environment": "production",
        "version": __version__,
        "supported": SUPPORTED,
    }
