"""AWS error codes → neutral error classes, table-driven: each code lands on exactly one class.

Exact codes first, then patterns in order (``Invalid*.NotFound`` before ``Invalid*``), then the HTTP-like
numeric codes some responses carry (``400`` in ``Unsuccessful`` items), then :class:`ProviderError` itself.
"""

from __future__ import annotations

import re
from typing import Any

from multiflow.errors import (
    AlreadyExists,
    AuthError,
    Conflict,
    DryRunSucceeded,
    InvalidRequest,
    NotFound,
    ProviderError,
    QuotaExceeded,
    ServiceError,
    Throttled,
)

__all__ = ["EXACT_CODES", "PATTERN_CODES", "UNEXPECTED_RESPONSE", "error_class", "from_client_error", "make_error"]

#: Our own code for an answer that could not be read (not the service's XML, or a record without its id).
UNEXPECTED_RESPONSE = "UnexpectedResponse"

EXACT_CODES: dict[str, type[ProviderError]] = {
    "FlowLogAlreadyExists": AlreadyExists,
    "FlowLogsLimitExceeded": QuotaExceeded,
    "ResourceLimitExceeded": QuotaExceeded,
    "TagLimitExceeded": QuotaExceeded,
    "UnauthorizedOperation": AuthError,
    "AuthFailure": AuthError,
    "InvalidClientTokenId": AuthError,
    "SignatureDoesNotMatch": AuthError,
    "ExpiredToken": AuthError,
    "RequestExpired": AuthError,
    "OptInRequired": AuthError,
    "NoCredentials": AuthError,
    "RequestLimitExceeded": Throttled,
    "Throttling": Throttled,
    "ThrottlingException": Throttled,
    "ServiceUnavailable": ServiceError,
    "Unavailable": ServiceError,
    "InternalError": ServiceError,
    "InternalFailure": ServiceError,
    "ConnectionError": ServiceError,
    UNEXPECTED_RESPONSE: ServiceError,
    "DryRunOperation": DryRunSucceeded,
    "MissingParameter": InvalidRequest,
    "UnknownParameter": InvalidRequest,
    "IdempotentParameterMismatch": Conflict,
    "IncorrectState": Conflict,
}

PATTERN_CODES: tuple[tuple[re.Pattern[str], type[ProviderError]], ...] = (
    (re.compile(r"^Invalid[A-Za-z]*(ID|Id)\.NotFound$"), NotFound),
    (re.compile(r"^Invalid[A-Za-z]*\.NotFound$"), NotFound),
    (re.compile(r"^InvalidParameter"), InvalidRequest),
    (re.compile(r"^Invalid"), InvalidRequest),
    (re.compile(r"^4\d\d$"), InvalidRequest),
    (re.compile(r"^5\d\d$"), ServiceError),
)


def error_class(code: str) -> type[ProviderError]:
    """The one neutral class an AWS code lands on."""
    if code in EXACT_CODES:
        return EXACT_CODES[code]
    for pattern, cls in PATTERN_CODES:
        if pattern.match(code):
            return cls
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
    """A neutral error for an AWS code, keeping code, message and request id."""
    return error_class(code)(
        "aws",
        code,
        message,
        operation=operation,
        request_id=request_id,
        http_status=http_status,
        resource_id=resource_id,
    )


def from_client_error(exc: Any, operation: str, resource_id: str | None = None) -> ProviderError:
    """A botocore ``ClientError`` as a neutral error."""
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    meta = response.get("ResponseMetadata", {})
    return make_error(
        str(error.get("Code", "Unknown")),
        str(error.get("Message", "")),
        operation=operation,
        request_id=meta.get("RequestId"),
        http_status=meta.get("HTTPStatusCode"),
        resource_id=resource_id,
    )
