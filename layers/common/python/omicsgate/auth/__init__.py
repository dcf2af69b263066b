"""Who is calling, what they may see, and what they may still spend.

Public surface: :class:`Caller`, :func:`can_see`, :class:`AuthError`,
:class:`AllowanceExceeded`, :func:`get_auth` (verifier, users and ledger of this
container). Heavy imports (jwt, boto3, sqlite3) happen inside the backends.
"""

from omicsgate.auth._access import ANONYMOUS_UID, Caller, can_see, restricted_groups
from omicsgate.auth._errors import AllowanceExceeded, AuthError, KeysUnavailable
from omicsgate.auth._service import Auth, get_auth, reset_auth

__all__ = [
    "ANONYMOUS_UID",
    "AllowanceExceeded",
    "Auth",
    "AuthError",
    "Caller",
    "KeysUnavailable",
    "can_see",
    "get_auth",
    "reset_auth",
    "restricted_groups",
]
