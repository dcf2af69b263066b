from typing import Annotated

from fastapi import APIRouter, Query

from omicsgate.models.portal import VariantResponse
from omicsgate.portal import reference
from omicsgate.web import ApiError
from omicsgate.web.params import Release, Store, split_ids
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["reference"])


@router.get("/variant", response_model=VariantResponse)
def variant(
    store: Store,
    release: Release,
    meter: Metered,
    variant_id: Annotated[
        list[str], Query(alias="variantId", description="e.g. chr10:100826333; a list")
    ],
) -> dict[str, object]:
    loci = []
    for raw in split_ids(variant_id, "variantId"):
        locus = reference.parse_variant_id(raw)
        if locus is None:
            raise ApiError(400, f"{raw!r} is not a variant ID like chr10:100826333", "variantId")
        loci.append(locus)
    meter.charge()
    return {"variant": reference.variants(store, release, loci)}
