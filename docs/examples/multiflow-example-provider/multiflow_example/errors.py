"""ExampleCloud error codes → neutral error classes, table-driven: each code lands on exactly one class.

First the exact code in :data:`CODES`, then the HTTP status (:data:`BY_STATUS`: 401/403 auth, 404 not found,
409 conflict, 429 throttled, 5xx service, other 4xx invalid request), then :class:`ProviderError` itself: one
:class:`multiflow.errors.CodeTable`, :data:`ERROR_TABLE`.
Throttling and the cloud's own failures are retried (see :mod:`multiflow_example.session`).
"""

from __future__ import annotations

from multiflow.errors import (
    AlreadyExists,
    AuthError,
    CodeTable,
    Conflict,
    InvalidRequest,
    NotFound,
    ProviderError,
    QuotaExceeded,
    ServiceError,
    Throttled,
)

__all__ = ["BY_STATUS", "CODES", "CONNECTION_ERROR", "ERROR_TABLE", "NO_CREDENTIALS"]

#: Our own code for a call that got no answer.
CONNECTION_ERROR = "ConnectionError"
#: Our own code for a session opened without an API key.
NO_CREDENTIALS = "NoCredentials"

CODES: dict[str, type[ProviderError]] = {
    "Unauthenticated": AuthError,
    "ExpiredToken": AuthError,
    "PermissionDenied": AuthError,
    "AccessDenied": AuthError,
    "RegionNotEnabled": AuthError,
    "AccountSuspended": AuthError,
    NO_CREDENTIALS: AuthError,
    "InvalidArgument": InvalidRequest,
    "UnknownOperation": InvalidRequest,
    "ResourceNotFound": NotFound,
    "BucketNotFound": NotFound,
    "FlowLogNotFound": NotFound,
    "AccountNotFound": NotFound,
    "FlowLogExists": AlreadyExists,
    "FailedPrecondition": Conflict,
    "QuotaExceeded": QuotaExceeded,
    "RateLimited": Throttled,
    "Internal": ServiceError,
    "Unavailable": ServiceError,
    CONNECTION_ERROR: ServiceError,
}

#: HTTP status → class, for codes not in :data:`CODES`.
BY_STATUS: dict[int | range, type[ProviderError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFound,
    409: Conflict,
    429: Throttled,
    range(500, 600): ServiceError,
    range(400, 500): InvalidRequest,
}

#: The table every ExampleCloud error goes through: ``ERROR_TABLE.error(code, message, http_status=...)``.
ERROR_TABLE = CodeTable("example", CODES, statuses=BY_STATUS)
