"""The error codes the emulator returns, with the cloud's HTTP statuses and messages, in one table."""

from __future__ import annotations

from dataclasses import dataclass

#: code -> (HTTP status, message). The CreateFlowLog codes and messages are copied from Alibaba's
#: CreateFlowLog reference; the gateway-level ones (signature, throttling, 5xx) from its common error codes.
#: Where the documentation gives no status or message, the value here is a documented best guess.
ERROR_CATALOGUE: dict[str, tuple[int, str]] = {
    # --- gateway: request shape and authentication -------------------------------------------------
    "MissingParameter": (400, "Missing mandatory parameter"),
    "InvalidParameter": (400, "The specified parameter is not valid."),
    "IncompleteSignature": (400, "The request signature does not conform to Aliyun standards."),
    "SignatureDoesNotMatch": (400, "Specified signature is not matched with our calculation."),
    "InvalidAccessKeyId.NotFound": (404, "Specified access key is not found."),
    "InvalidAccessKeyId.Inactive": (400, "Specified access key is disabled."),
    "SignatureNonceUsed": (400, "Specified signature nonce was used already."),
    "InvalidTimeStamp.Expired": (400, "Specified time stamp or date value is expired."),
    "InvalidTimeStamp.Format": (400, "Specified time stamp or date value is not well formatted."),
    "InvalidSecurityToken.Malformed": (400, "Specified SecurityToken is malformed."),
    "InvalidSecurityToken.Expired": (400, "Specified SecurityToken is expired."),
    "InvalidSecurityToken.MismatchWithAccessKey": (400, "Specified SecurityToken mismatch with the AccessKey."),
    "MissingSecurityToken": (400, "SecurityToken is mandatory for this action."),
    "InvalidAction.NotFound": (404, "Specified api is not found, please check your url and method."),
    "InvalidVersion": (400, "Specified parameter Version is not valid."),
    "UnsupportedHTTPMethod": (405, "This http method is not supported."),
    "DryRunOperation": (400, "Request validation has been passed with DryRun flag set."),
    "Forbidden": (403, "User not authorized to operate on the specified resource."),
    "Forbidden.RAM": (
        403,
        "User not authorized to operate on the specified resource, or this API doesn't support RAM.",
    ),
    # --- STS (the AssumeRole error table of Alibaba's STS FAQ) and Resource Directory ------------------
    "NoPermission": (403, "You are not authorized to do this action. You should be authorized by RAM."),
    "EntityNotExist.Role": (404, "The role not exists."),
    "InvalidParameter.RoleArn": (400, "The parameter RoleArn is wrongly formed."),
    "InvalidParameter.RoleSessionName": (400, "The parameter RoleSessionName is wrongly formed."),
    "InvalidParameter.DurationSeconds": (400, "The Min/Max value of DurationSeconds is 15min/1hr."),
    "EntityNotExists.ResourceDirectory": (404, "The resource directory does not exist or is not enabled."),
    "EntityNotExists.Folder": (404, "The specified folder does not exist."),
    # --- gateway: flow control and server faults ----------------------------------------------------
    "Throttling": (400, "Request was denied due to request throttling."),
    "Throttling.User": (400, "Request was denied due to user flow control."),
    "Throttling.Api": (400, "Request was denied due to api flow control."),
    "ServiceUnavailable": (503, "The request has failed due to a temporary failure of the server."),
    "InternalError": (500, "The request processing has failed due to some unknown error, exception or failure."),
    "UnknownError": (500, "The request processing has failed due to some unknown error."),
    "SystemBusy": (503, "System is busy, please try again later."),
    # --- VPC: flow-log lifecycle ---------------------------------------------------------------------
    "InvalidFlowLogId.NotFound": (400, "The specified FlowLogId does not exist."),
    "IncorrectStatus.flowlog": (400, "The current FlowLog instance status does not support this operation."),
    "TaskConflict": (400, "The operation conflicts with a running task."),
    "OperationConflict": (400, "The operation conflicts with other operations."),
    "LastTokenProcessing": (400, "The last token request is processing."),
    "OperationFailed.LastTokenProcessing": (400, "The operation failed because the last token is processing."),
    "InvalidStatus": (400, "The status of the resource is invalid."),
    # --- VPC: tags and paging (best guesses, documented in docs/alibaba-emulator.md) ------------------
    "InvalidTagKey": (400, "The tag keys are not valid."),
    "InvalidTagValue": (400, "The tag values are not valid."),
    "Duplicate.TagKey": (400, "The Tag.N.Key contain duplicate key."),
    "QuotaExceeded.TagNum": (400, "Custom tags quota exceeded."),
    # --- CreateFlowLog reference table (alibaba-vpc-createflowlog-api.txt), all HTTP 400 ---------------
    "IncorrectBusinessStatus.FlowLog": (400, "The business status of flowLog is incorrect."),
    "OptInRequired.FlowLog": (
        400,
        "You are not authorized to use the requested service of flowLog. "
        "Ensure that you have subscribed to the service you are trying to use.",
    ),
    "OperationUnsupported.AdvancedFeature": (400, "Advanced features of the vpc is unsupported."),
    "InvalidInstanceId": (400, "vswitch does not exist."),
    "ProjectOrLogstoreNotExist": (400, "The specified project or logstore does not exist."),
    "SourceProjectNotExist": (400, "The Source Project or logstore does not exist."),
    "Unauthorized": (400, "This api does not support sub user or role."),
    "OperationUnsupported.action": (400, "This action is not support."),
    "ParameterInvalid": (400, "Invalid parameter."),
    "RuleExist": (400, "The rule has already existed."),
    "InvalidHdMonitorStatus": (400, "Current instance status is not valid for this action."),
    "QuotaExceeded.FlowlogCount": (400, "This user has reached the maximum instance number of flowlog."),
    "InvalidResourceId.NotFound": (400, "This resourceId already has flowlog instance existed."),
    "INVALID_PARAMETER": (400, "The parameter invalid."),
    "InvalidRegionId.NotFound": (400, "The RegionId provided does not exist in our records."),
    "InvalidResourceType.NotFound": (400, "Resource type no the same."),
    "OperationUnsupported.ResourceType": (400, "This resource type is not supported."),
    "IllegalParam.AggregationInterval": (400, "The param of aggregationInterval is illegal."),
    "UnsupportedFeature.UserDefinedTrafficPath": (400, "The feature of UserDefinedTrafficPath is not supported."),
    "IllegalParam.TrafficPath": (400, "The param of trafficPath is illegal."),
    "DuplicatedParam.TrafficPath": (400, "The param of trafficPath is duplicated."),
    # The reference spells "ResourceGroupld" with a lower-case L; kept as the cloud sends it.
    "IllegalParam.ResourceGroupId": (400, "Invalid ResourceGroupld value."),
    "OperationDenied.OperateShareResource": (
        400,
        "The operation is not allowed because of OperateShareResource.",
    ),
    "UnsupportedFeature.IpVersion": (400, "The ipversion type is not supported."),
    "UnsupportedFeature.VpcAdvancedFeature": (400, "The VPC does not support some advanced features."),
    "OperationFailed.EniTypeNotSupport": (400, "Operation failed because the ENI type is not supported."),
    "IllegalParam.IpVersion": (400, "The parameter of IpVersion is illegal."),
    "OperationDenied.NisTrafficAnalyzerAggregationIntervalMismatch": (
        400,
        "The sampling interval of the FlowLog is greater than the sampling interval of the NIS Traffic Analyzer.",
    ),
    "OperationDenied.NisTrafficAnalyzerNotFound": (400, "The specified NIS Traffic Analyzer does not exist."),
    "OperationDenied.NisTrafficAnalyzerNotActive": (400, "The specified NIS Traffic Analyzer is not enabled."),
    "OperationFailed.InternalError": (400, "The request processing has failed due to some unknown error."),
    "MissingParam.TrafficAnalyzerIdOrLogProjectOrLogStore": (
        400,
        "TrafficAnalyzerId and ProjectName and LogStoreName parameters are not passed in.",
    ),
    "OperationDenied.AllTrafficPathOfManagedExist": (
        400,
        "The resource you specified has created a flow log instance that collects the traffic of all scenarios. "
        "You cannot create a flow log instance that collects only some scenarios.",
    ),
    "UnsupportedFeature.UserDefinedTrafficPathIpv6": (
        400,
        "Dual-stack flow log instances do not support custom trafficPath.",
    ),
}


def is_throttling(code: str) -> bool:
    """Whether ``code`` is a flow-control code (``Throttling``, ``Throttling.User``, ``Throttling.Api``...)."""
    return code == "Throttling" or code.startswith("Throttling.")


@dataclass
class ApiError(Exception):
    """An error response: raised anywhere in request handling, turned into the cloud's JSON by the server.

    ``retry_after_ms``, when set, is sent as the ``x-acs-retry-after`` header, which is what makes the
    official SDK raise ``ThrottlingException`` instead of ``ClientException``/``ServerException``.
    """

    code: str
    message: str
    http_status: int = 400
    retry_after_ms: int | None = None

    def __str__(self) -> str:
        """Return ``"<status> <code>: <message>"``."""
        return f"{self.http_status} {self.code}: {self.message}"


def api_error(
    code: str,
    message: str | None = None,
    http_status: int | None = None,
    retry_after_ms: int | None = None,
) -> ApiError:
    """Build an :class:`ApiError` for ``code``, taking the status and message from the catalogue by default."""
    status, default_message = ERROR_CATALOGUE.get(code, (400, f"The request failed with error code {code}."))
    return ApiError(
        code=code,
        message=default_message if message is None else message,
        http_status=status if http_status is None else http_status,
        retry_after_ms=retry_after_ms,
    )


def missing_parameter(name: str) -> ApiError:
    """``MissingParameter`` worded as the CreateFlowLog reference has it, naming the parameter."""
    return api_error("MissingParameter", f"Missing mandatory parameter {name}.")


def invalid_parameter(name: str, detail: str = "") -> ApiError:
    """``InvalidParameter`` naming the parameter (used for paging values the cloud rejects)."""
    suffix = f" {detail}" if detail else ""
    return api_error("InvalidParameter", f'The specified parameter "{name}" is not valid.{suffix}')
