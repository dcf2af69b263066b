from fastapi import APIRouter

from omicsgate import __version__
from omicsgate.trs.models import ServiceInfo
from trs_api.routes import PREFIX, read_route

router = APIRouter(prefix=PREFIX, tags=["service-info"])


@read_route(router, "/service-info", response_model=ServiceInfo, response_model_exclude_none=True)
def service_info() -> dict[str, object]:
    """GA4GH service-info 1.0 of type org.ga4gh:trs:2.1.0. Free and public."""
    return {
        "id": "org.omicsgate.trs",
        "name": "OmicsGate TRS",
        "type": {"group": "org.ga4gh", "artifact": "trs", "version": "2.1.0"},
        "description": "GA4GH TRS 2.1 registry whose descriptors are validated on registration",
        "organization": {"name": "OmicsGate", "url": "https://github.com/omicsgate"},
        "documentationUrl": "https://ga4gh.github.io/tool-registry-service-schemas/",
        "environment": "production",
        "version": __version__,
    }
