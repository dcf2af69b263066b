"""One router per resource; lookups that fail are answered as 4xx naming the parameter."""

from collections.abc import Iterator
from contextlib import contextmanager

from omicsgate.portal.expression import NoExpression, UnknownIds
from omicsgate.web import ApiError


@contextmanager
def client_errors() -> Iterator[None]:
    """Unknown gene or tissue: 400 naming the parameter (GTEx v2 answers a not-found ID
    with 400, as we answer an unknown datasetId); a release without expression: 404 naming
    datasetId. Never RatGTEx's HTML 500."""
    try:
        yield
    except UnknownIds as error:
        raise ApiError(400, str(error), error.parameter) from error
    except NoExpression as error:
        raise ApiError(404, str(error), "datasetId") from error
