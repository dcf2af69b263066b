"""One router per resource; lookups that fail are answered as 4xx naming the parameter."""

from collections.abc import Iterator
from contextlib import contextmanager

from omicsgate.portal.expression import NoExpression, UnknownIds
from omicsgate.portal.qtl import NoQtl, NotTestable
from omicsgate.web import ApiError


@contextmanager
def client_errors() -> Iterator[None]:
    """Unknown gene, variant or tissue, or one without data: 400 naming the parameter (as
    GTEx v2 answers a not-found ID); a release without QTL, genotype or expression data:
    404 naming datasetId. Never RatGTEx's HTML 500."""
    try:
        yield
    except (UnknownIds, NotTestable) as error:
        raise ApiError(400, str(error), error.parameter) from error
    except (NoQtl, NoExpression) as error:
        raise ApiError(404, str(error), "datasetId") from error
