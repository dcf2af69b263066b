from collections import Counter

from fastapi import APIRouter

from gwas_api.routes import Gwas
from omicsgate.models.gwas import Batch
from omicsgate.web.security import CurrentCaller, Metered

router = APIRouter(prefix="/gwas", tags=["batches"])


@router.get("/batches", response_model=list[Batch])
def batches(gwas: Gwas, caller: CurrentCaller, meter: Metered) -> list[dict[str, object]]:
    """Study batches (ID prefixes: ``ieu-a`` holds ``ieu-a-2``) with the number of
    studies the caller may see in each, by ID. Costs nothing."""
    meter.charge(0)
    counts = Counter(study.batch for study in gwas.visible(caller).values())
    return [{"id": batch, "count": count} for batch, count in sorted(counts.items())]
