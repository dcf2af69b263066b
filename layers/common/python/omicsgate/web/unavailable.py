"""What makes an answer a 503 (the service cannot answer now, but will) and when to retry."""

from __future__ import annotations

import math

from omicsgate.settings import get_settings

# Error codes AWS services give when they are overloaded or failing, not when the request
# is wrong: retrying later succeeds.
_TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)


def retry_after() -> str:
    """Seconds a client should wait before retrying a 503: the release pointer's TTL, the
    longest any fault can outlive its cause (the pointer and the release list are re-read
    once per TTL; nothing else that failed is remembered)."""
    return str(max(1, math.ceil(get_settings().release_ttl_seconds)))


def transient_aws_error(error: Exception) -> bool:
    """True for a botocore error that says the service is unreachable or failing (refused
    or timed-out connections, 5xx answers, throttling), False for one that says the call
    itself is wrong (access denied, a missing table, bad parameters, no credentials)."""
    from botocore.exceptions import ClientError, ConnectionError, HTTPClientError

    if isinstance(error, (ConnectionError, HTTPClientError)):
        return True
    if isinstance(error, ClientError):
        meta = error.response.get("ResponseMetadata") or {}
        status = int(meta.get("HTTPStatusCode") or 0)
        code = str((error.response.get("Error") or {}).get("Code") or "")
        return status >= 500 or code in _TRANSIENT_CODES
    return False
