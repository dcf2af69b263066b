from fastapi import APIRouter, Request

from omicsgate import __version__
from omicsgate.trs.models import ServiceInfo
from trs_api.routes import LEGACY_PREFIX, PREFIX, read_route

router = APIRouter(prefix=PREFIX, tags=["service-info"])


@read_route(router, "/service-info", response_model=ServiceInfo, response_model_exclude_none=True)
def service_info(request: Request) -> dict[str, object]:
    """GA4GH service-info 1.0 of type org.ga4gh:trs:2.1.0 (2.0.1 under the legacy base
    path, whose answers have TRS 2.0.1's shapes). Free and public."""
    legacy = request.url.path.startswith(LEGACY_PREFIX)
    return {
        "id": "org.omicsgate.trs",
        "name": "OmicsGate TRS",
        "type": {
            "group": "org.ga4gh",
            "artifact": "trs",
            "version": "2.0.1" if legacy else "2.1.0",
        },
        "description": "GA4GH TRS 2.1 registry whose descriptors are validated on registration",
        "organization": {"name": "OmicsGate", "url": "https://github.com/omicsgate"},
        "documentationUrl": "https://ga4gh.github.io/tool-registry-service-schemas/",
        "environment": "production",
        "version": __version__,
    }
