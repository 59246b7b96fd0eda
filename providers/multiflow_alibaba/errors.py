"""Alibaba Cloud error codes → neutral error classes: :data:`ERROR_TABLE`, a :class:`~multiflow.errors.CodeTable`
filled with Alibaba's rules, on which each code lands on exactly one class.

How a code is classified, first rule that matches (``ERROR_TABLE.classify(code, http_status)``):

1. any code containing ``Throttling`` (``Throttling``, ``Throttling.User``, ``Throttling.Api``...) → Throttled;
2. any HTTP 5xx → ServiceError (the server failed, whatever it called it);
3. the exact code in :data:`EXACT_CODES` (every code of the CreateFlowLog reference, the gateway's signature and
   flow-control codes, the flow-log lifecycle codes, STS and Resource Directory codes, those the emulator sends);
4. a pattern of :data:`PATTERN_CODES` (``Invalid*.NotFound`` → NotFound, ``IllegalParam.*`` → InvalidRequest...);
5. the HTTP status: 401/403 → AuthError, 404 → NotFound, other 4xx → InvalidRequest;
6. :class:`~multiflow.errors.ProviderError` itself.

Whether an error is retried does not follow its class alone: ``ERROR_TABLE.is_retryable`` says yes for Terraform's list
(``TaskConflict``, ``LastTokenProcessing``, ``OperationFailed.LastTokenProcessing``, ``IncorrectStatus(.flowlog)``,
``InvalidStatus``, ``InvalidHdMonitorStatus``, ``OperationConflict``, ``ServiceUnavailable``, ``SystemBusy``,
``UnknownError``), any ``*Throttling*`` code, any 5xx and dropped connections, and no for everything else, so a
``Conflict`` that time will not cure (``OperationDenied.NisTrafficAnalyzerNotActive``) is not retried. Auth errors
are never retried.

This module imports no SDK: :mod:`multiflow_alibaba.transport` reads the SDK's exceptions and calls
``ERROR_TABLE.error(code, message, ...)``.
"""

from __future__ import annotations

import re

from multiflow.errors import (
    AccountStateError,
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

__all__ = [
    "CONNECTION_ERROR",
    "ERROR_TABLE",
    "EXACT_CODES",
    "FLOW_LOG_DELETING",
    "FLOW_LOG_EXISTS",
    "FLOW_LOG_NOT_FOUND",
    "NO_CREDENTIALS",
    "PATTERN_CODES",
    "RETRYABLE_CODES",
    "SERVICE_NOT_OPENED_CODES",
    "UNEXPECTED_RESPONSE",
    "service_not_opened_message",
]

#: The code DescribeFlowLogs-by-id callers see for a flow log that does not exist (the emulator's, the cloud's).
FLOW_LOG_NOT_FOUND = "InvalidFlowLogId.NotFound"
#: Our own code for a connection dropped, refused or timed out before an answer came.
CONNECTION_ERROR = "ConnectionError"
#: Our own code for a credential chain that found no credentials.
NO_CREDENTIALS = "NoCredentials"
#: Our own code for an answer that could not be read (not the cloud's JSON).
UNEXPECTED_RESPONSE = "UnexpectedResponse"
#: Our own code for a resource found, before creating, to have a flow log with other settings.
FLOW_LOG_EXISTS = "FlowLogExists"
#: Our own code for a resource whose flow log is still being deleted.
FLOW_LOG_DELETING = "FlowLogDeleting"

#: Codes that say the account's flow-log service is not opened (``OperationUnsupported.action`` only sometimes:
#: the session asks GetFlowLogServiceStatus before calling it that).
SERVICE_NOT_OPENED_CODES = frozenset({"OptInRequired.FlowLog"})

EXACT_CODES: dict[str, type[ProviderError]] = {
    # --- CreateFlowLog reference table (alibaba-vpc-createflowlog-api.txt) --------------------------------
    # The account's business state (overdue payment, suspension): not a parameter, not passing with time.
    "IncorrectBusinessStatus.FlowLog": AccountStateError,
    "OptInRequired.FlowLog": AuthError,
    "OperationUnsupported.AdvancedFeature": InvalidRequest,
    "InvalidInstanceId": NotFound,
    "ProjectOrLogstoreNotExist": NotFound,
    "SourceProjectNotExist": NotFound,
    "Unauthorized": AuthError,
    # Seen when the flow-log service is not opened; the session refines it then (see SERVICE_NOT_OPENED_CODES).
    "OperationUnsupported.action": InvalidRequest,
    "ParameterInvalid": InvalidRequest,
    "RuleExist": AlreadyExists,
    "InvalidHdMonitorStatus": Conflict,
    "QuotaExceeded.FlowlogCount": QuotaExceeded,
    # Despite its name: "This resourceId already has flowlog instance existed."
    "InvalidResourceId.NotFound": AlreadyExists,
    "INVALID_PARAMETER": InvalidRequest,
    "MissingParameter": InvalidRequest,
    "InvalidRegionId.NotFound": InvalidRequest,
    "InvalidResourceType.NotFound": InvalidRequest,
    "OperationUnsupported.ResourceType": InvalidRequest,
    "IllegalParam.AggregationInterval": InvalidRequest,
    "UnsupportedFeature.UserDefinedTrafficPath": InvalidRequest,
    "IllegalParam.TrafficPath": InvalidRequest,
    "DuplicatedParam.TrafficPath": InvalidRequest,
    "IllegalParam.ResourceGroupId": InvalidRequest,
    "OperationDenied.OperateShareResource": InvalidRequest,
    "UnsupportedFeature.IpVersion": InvalidRequest,
    "UnsupportedFeature.VpcAdvancedFeature": InvalidRequest,
    "OperationFailed.EniTypeNotSupport": InvalidRequest,
    "IllegalParam.IpVersion": InvalidRequest,
    "OperationDenied.NisTrafficAnalyzerAggregationIntervalMismatch": InvalidRequest,
    "OperationDenied.NisTrafficAnalyzerNotFound": NotFound,
    "OperationDenied.NisTrafficAnalyzerNotActive": Conflict,
    # HTTP 400, but "unknown error, please retry": the server's failure.
    "OperationFailed.InternalError": ServiceError,
    "MissingParam.TrafficAnalyzerIdOrLogProjectOrLogStore": InvalidRequest,
    "OperationDenied.AllTrafficPathOfManagedExist": AlreadyExists,
    "UnsupportedFeature.UserDefinedTrafficPathIpv6": InvalidRequest,
    # --- gateway: flow control and server faults -------------------------------------------------------------
    "Throttling": Throttled,
    "Throttling.User": Throttled,
    "Throttling.Api": Throttled,
    "ServiceUnavailable": ServiceError,
    "InternalError": ServiceError,
    "SystemBusy": ServiceError,
    "UnknownError": ServiceError,
    CONNECTION_ERROR: ServiceError,
    UNEXPECTED_RESPONSE: ServiceError,
    # --- gateway: signature and credentials --------------------------------------------------------------------
    "SignatureDoesNotMatch": AuthError,
    "IncompleteSignature": AuthError,
    "InvalidAccessKeyId.NotFound": AuthError,
    "InvalidAccessKeyId.Inactive": AuthError,
    "InvalidTimeStamp.Expired": AuthError,
    "InvalidTimeStamp.Format": AuthError,
    "SignatureNonceUsed": AuthError,
    "InvalidSecurityToken.Malformed": AuthError,
    "InvalidSecurityToken.Expired": AuthError,
    "InvalidSecurityToken.MismatchWithAccessKey": AuthError,
    "Forbidden": AuthError,
    "Forbidden.RAM": AuthError,
    "InvalidCredentials": AuthError,
    NO_CREDENTIALS: AuthError,
    # --- entering accounts: STS AssumeRole and the Resource Directory ----------------------------------------
    # The role is not in the member (not created, or deleted): the account cannot be entered.
    "EntityNotExist.Role": AuthError,
    # The caller may not assume the role (its trust policy, a missing sts:AssumeRole, a root key).
    "NoPermission": AuthError,
    # Temporary keys sent without their token.
    "MissingSecurityToken": AuthError,
    "InvalidParameter.RoleArn": InvalidRequest,
    "InvalidParameter.RoleSessionName": InvalidRequest,
    "InvalidParameter.DurationSeconds": InvalidRequest,
    # The caller's account has no Resource Directory (or is not its management account): its state, not a typo.
    "EntityNotExists.ResourceDirectory": AccountStateError,
    # A folder the fleet names is not in the directory.
    "EntityNotExists.Folder": NotFound,
    # --- flow-log lifecycle: busy or in the wrong state --------------------------------------------------------
    "OperationConflict": Conflict,
    "TaskConflict": Conflict,
    "LastTokenProcessing": Conflict,
    "OperationFailed.LastTokenProcessing": Conflict,
    "IncorrectStatus": Conflict,
    "IncorrectStatus.flowlog": Conflict,
    "InvalidStatus": Conflict,
    FLOW_LOG_DELETING: Conflict,
    FLOW_LOG_EXISTS: AlreadyExists,
    FLOW_LOG_NOT_FOUND: NotFound,
    # --- request shape, tags (codes the emulator also sends) -----------------------------------------------
    "InvalidParameter": InvalidRequest,
    "InvalidAction.NotFound": InvalidRequest,
    "InvalidVersion": InvalidRequest,
    "UnsupportedHTTPMethod": InvalidRequest,
    "InvalidTagKey": InvalidRequest,
    "InvalidTagValue": InvalidRequest,
    "Duplicate.TagKey": InvalidRequest,
    "QuotaExceeded.TagNum": QuotaExceeded,
    "DryRunOperation": DryRunSucceeded,
}

PATTERN_CODES: tuple[tuple[re.Pattern[str], type[ProviderError]], ...] = (
    (re.compile(r"^(InvalidAccessKeyId|InvalidSecurityToken|SignatureDoesNotMatch|Forbidden)"), AuthError),
    (re.compile(r"^OptInRequired"), AuthError),
    (re.compile(r"^QuotaExceeded"), QuotaExceeded),
    (re.compile(r"^IncorrectStatus|^InvalidStatus|Conflict$|^LastTokenProcessing"), Conflict),
    (re.compile(r"^Invalid[A-Za-z]*Id\.NotFound$"), NotFound),
    (re.compile(r"^(IllegalParam|InvalidParam|MissingParam|DuplicatedParam|Invalid)"), InvalidRequest),
    (re.compile(r"^(UnsupportedFeature|OperationUnsupported|OperationDenied)"), InvalidRequest),
)

#: Codes retried whatever their class: Terraform's list for flow logs (less the throttling/5xx rules), the
#: reference's "please retry" OperationFailed.InternalError, and our own codes for no or unreadable answers.
RETRYABLE_CODES = frozenset(
    {
        "TaskConflict",
        "LastTokenProcessing",
        "OperationFailed.LastTokenProcessing",
        "IncorrectStatus",
        "IncorrectStatus.flowlog",
        "InvalidStatus",
        "InvalidHdMonitorStatus",
        "OperationConflict",
        "ServiceUnavailable",
        "SystemBusy",
        "UnknownError",
        "InternalError",
        "OperationFailed.InternalError",
        CONNECTION_ERROR,
        UNEXPECTED_RESPONSE,
        FLOW_LOG_DELETING,
    }
)


def _retryable(code: str, http_status: int | None) -> bool:
    """Whether a later identical call may succeed: Terraform's list, ``*Throttling*``, 5xx, dropped connections."""
    if ERROR_TABLE.classify(code, http_status) in (AuthError, AccountStateError):
        return False
    return "Throttling" in code or (http_status is not None and http_status >= 500) or code in RETRYABLE_CODES


#: Every Alibaba error goes through this table: ``ERROR_TABLE.error(code, message, ...)``; the class alone is
#: ``ERROR_TABLE.classify(code, http_status)``, whether it is retried ``ERROR_TABLE.is_retryable(code, http_status)``.
ERROR_TABLE = CodeTable(
    "alibaba",
    EXACT_CODES,
    PATTERN_CODES,
    statuses={401: AuthError, 403: AuthError, 404: NotFound, range(400, 500): InvalidRequest},
    overrides=[("Throttling", Throttled), (range(500, 600), ServiceError)],
    retryable=_retryable,
)


def service_not_opened_message(region: str) -> str:
    """What to tell a user whose account has not opened the flow-log service."""
    return (
        f"the VPC flow-log service is not opened for this account (region {region}). Open it once per account: "
        "in the VPC console (Flow Logs → Activate), or with multiflow: "
        f'multiflow.connect("alibaba", region="{region}", open_service=True) '
        "or client.session.open_service() (calls OpenFlowLogService)"
    )
