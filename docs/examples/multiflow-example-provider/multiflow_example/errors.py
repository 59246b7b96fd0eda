"""ExampleCloud error codes → neutral error classes, table-driven: each code lands on exactly one class.

First the exact code in :data:`CODES`, then the HTTP status (:data:`BY_STATUS`: 401/403 auth, 404 not found,
409 conflict, 429 throttled, 5xx service, other 4xx invalid request), then :class:`ProviderError` itself.
Throttling and the cloud's own failures are retried (see :mod:`multiflow_example.session`).
"""

from __future__ import annotations

from multiflow.errors import (
    AlreadyExists,
    AuthError,
    Conflict,
    InvalidRequest,
    NotFound,
    ProviderError,
    QuotaExceeded,
    ServiceError,
    Throttled,
)

__all__ = ["CODES", "CONNECTION_ERROR", "NO_CREDENTIALS", "error_class", "make_error"]

#: Our own code for a call that got no answer.
CONNECTION_ERROR = "ConnectionError"
#: Our own code for a session opened without an API key.
NO_CREDENTIALS = "NoCredentials"

CODES: dict[str, type[ProviderError]] = {
    "Unauthenticated": AuthError,
    "PermissionDenied": AuthError,
    NO_CREDENTIALS: AuthError,
    "InvalidArgument": InvalidRequest,
    "UnknownOperation": InvalidRequest,
    "ResourceNotFound": NotFound,
    "BucketNotFound": NotFound,
    "FlowLogNotFound": NotFound,
    "FlowLogExists": AlreadyExists,
    "FailedPrecondition": Conflict,
    "QuotaExceeded": QuotaExceeded,
    "RateLimited": Throttled,
    "Internal": ServiceError,
    "Unavailable": ServiceError,
    CONNECTION_ERROR: ServiceError,
}

#: HTTP status → class, for codes not in :data:`CODES`.
BY_STATUS: dict[int, type[ProviderError]] = {
    401: AuthError,
    403: AuthError,
    404: NotFound,
    409: Conflict,
    429: Throttled,
}


def error_class(code: str, http_status: int | None = None) -> type[ProviderError]:
    """The one neutral class an ExampleCloud code (with its HTTP status) lands on."""
    if code in CODES:
        return CODES[code]
    if http_status is not None:
        if http_status >= 500:
            return ServiceError
        if http_status in BY_STATUS:
            return BY_STATUS[http_status]
        if http_status >= 400:
            return InvalidRequest
    return ProviderError


def make_error(
    code: str,
    message: str,
    *,
    operation: str | None = None,
    request_id: str | None = None,
    http_status: int | None = None,
    resource_id: str | None = None,
) -> ProviderError:
    """A neutral error for an ExampleCloud code, keeping code, message, request id and HTTP status."""
    return error_class(code, http_status)(
        "example",
        code,
        message,
        operation=operation,
        request_id=request_id,
        http_status=http_status,
        resource_id=resource_id,
    )
