from typing import Annotated

from fastapi import APIRouter, Query

from expression_api.routes import client_errors
from omicsgate.models.portal import GeneExpressionResponse
from omicsgate.portal import expression
from omicsgate.web.params import Release, Store, one_id
from omicsgate.web.security import Metered

router = APIRouter(prefix="/api/v4", tags=["expression"])


@router.get("/geneExpression", response_model=GeneExpressionResponse)
def gene_expression(
    store: Store,
    release: Release,
    meter: Metered,
    gene_id: Annotated[str, Query(alias="geneId", description="one gene ID")],
) -> dict[str, object]:
    """Every sample's TPM of one gene, one item per tissue with expression, each in the
    order of that tissue's samples: one tile of the expression array."""
    gene = one_id(gene_id, "geneId")
    with client_errors():
        expression.find_genes(store, release, [gene])
        meter.charge()
        return {"geneExpression": expression.gene_expression(store, release, gene)}
