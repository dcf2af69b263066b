from fastapi import APIRouter

from gwas_api.routes import Gwas
from omicsgate.models.gwas import Status
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["status"])
VERSION = "4.0.0-omicsgate"


@router.get("/status", response_model=Status)
def status(gwas: Gwas, caller: CurrentCaller, meter: Metered) -> dict[str, object]:
    """Service status in OpenGWAS's keys. Study counts are of what the caller may see
    (a restricted study is not counted for others). Costs nothing."""
    meter.charge(0)
    visible = gwas.visible(caller)
    return {
        "API__VERSION": VERSION,
        "SERVICES__METADATA": "Operational",
        "SERVICES__ASSOCIATIONS": "Operational",
        "REFERENCES__LD_REF_PANEL": "Unavailable",  # LD panels come with the next issue
        "STATISTICS__N_DATASETS": len(visible),
        "STATISTICS__N_PUBLIC_DATASETS": sum(1 for s in visible.values() if not s.groups),
    }
