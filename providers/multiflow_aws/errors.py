"""AWS error codes → neutral error classes, table-driven: each code lands on exactly one class.

Exact codes first, then patterns in order (``Invalid*.NotFound`` before ``Invalid*``), then the HTTP-like
numeric codes some responses carry (``400`` in ``Unsuccessful`` items), then :class:`ProviderError` itself: one
:class:`multiflow.errors.CodeTable`, :data:`ERROR_TABLE`.
"""

from __future__ import annotations

import re
from typing import Any

from multiflow.errors import (
    AlreadyExists,
    AuthError,
    CodeTable,
    Conflict,
    DryRunSucceeded,
    InvalidRequest,
    NotFound,
    ProviderError,
    QuotaExceeded,
    ServiceError,
    Throttled,
)

__all__ = ["ERROR_TABLE", "EXACT_CODES", "PATTERN_CODES", "UNEXPECTED_RESPONSE", "from_client_error"]

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
    # STS and Organizations (entering and listing accounts)
    "AccessDenied": AuthError,
    "AccessDeniedException": AuthError,
    "RegionDisabledException": AuthError,
    "AWSOrganizationsNotInUseException": NotFound,
    "AccountNotFoundException": NotFound,
    "ParentNotFoundException": NotFound,
    "TargetNotFoundException": NotFound,
    "TooManyRequestsException": Throttled,
    "ServiceException": ServiceError,
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


#: The table every AWS error goes through: ``ERROR_TABLE.error(code, message, ...)`` (the class alone: ``classify``).
ERROR_TABLE = CodeTable("aws", EXACT_CODES, PATTERN_CODES)


def from_client_error(exc: Any, operation: str, resource_id: str | None = None) -> ProviderError:
    """A botocore ``ClientError`` as a neutral error."""
    response = getattr(exc, "response", {}) or {}
    error = response.get("Error", {})
    meta = response.get("ResponseMetadata", {})
    return ERROR_TABLE.error(
        str(error.get("Code", "Unknown")),
        str(error.get("Message", "")),
        operation=operation,
        request_id=meta.get("RequestId"),
        http_status=meta.get("HTTPStatusCode"),
        resource_id=resource_id,
    )
