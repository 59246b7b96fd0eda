"""One call to Alibaba Cloud's API through the official SDK, and everything that belongs to a single call.

:meth:`Transport.call` is the only way the provider reaches the SDK. Per attempt: one token from the rate limiter
of that API action's adaptive limiter (Alibaba limits each API separately, so polls and lookups do not take
creates' turns), the SDK call, the answer checked (:func:`unreadable`), and the limiter told whether the cloud
accepted or throttled the call. Every SDK exception becomes a neutral error here and nowhere
else (:meth:`Transport.send`), with known secrets redacted from the SDK's messages (:class:`Redactor`). Failed
attempts are retried by the policy of :mod:`multiflow_alibaba.retry`; the SDK's own retries are turned off (that
module says why).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from alibabacloud_credentials.client import Client as CredentialClient
from alibabacloud_credentials.exceptions import CredentialException
from alibabacloud_tea_openapi import utils_models as open_api_models
from alibabacloud_tea_openapi.client import Client as OpenApiClient
from alibabacloud_tea_openapi.exceptions import AlibabaCloudException
from alibabacloud_tea_openapi.utils import Utils as OpenApiUtils
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as VpcClient
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

from multiflow.errors import ProviderError, SpecError, Throttled
from multiflow.limiter import Limiters, LimiterTimeout
from multiflow_alibaba.capabilities import REGION_PATTERN
from multiflow_alibaba.errors import CONNECTION_ERROR, ERROR_TABLE, NO_CREDENTIALS, UNEXPECTED_RESPONSE
from multiflow_alibaba.limits import account_limiters
from multiflow_alibaba.retry import RetryPolicy, Stop

__all__ = ["ACCESS_KEY_VARIABLES", "LISTINGS", "Redactor", "Transport", "half_pair_hint", "unreadable"]

log = logging.getLogger("multiflow.alibaba")

#: The credential chain's environment variables for an AccessKey pair (id, secret).
ACCESS_KEY_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET")

#: Action → (SDK method, SDK request model).
_ACTIONS: dict[str, tuple[str, type[Any]]] = {
    "CreateFlowLog": ("create_flow_log_with_options", vpc_models.CreateFlowLogRequest),
    "DescribeFlowLogs": ("describe_flow_logs_with_options", vpc_models.DescribeFlowLogsRequest),
    "DeleteFlowLog": ("delete_flow_log_with_options", vpc_models.DeleteFlowLogRequest),
    "ActiveFlowLog": ("active_flow_log_with_options", vpc_models.ActiveFlowLogRequest),
    "DeactiveFlowLog": ("deactive_flow_log_with_options", vpc_models.DeactiveFlowLogRequest),
    "ModifyFlowLogAttribute": ("modify_flow_log_attribute_with_options", vpc_models.ModifyFlowLogAttributeRequest),
    "GetFlowLogServiceStatus": (
        "get_flow_log_service_status_with_options",
        vpc_models.GetFlowLogServiceStatusRequest,
    ),
    "OpenFlowLogService": ("open_flow_log_service_with_options", vpc_models.OpenFlowLogServiceRequest),
    "TagResources": ("tag_resources_with_options", vpc_models.TagResourcesRequest),
    "UnTagResources": ("un_tag_resources_with_options", vpc_models.UnTagResourcesRequest),
    "MoveResourceGroup": ("move_resource_group_with_options", vpc_models.MoveResourceGroupRequest),
    "DescribeVpcs": ("describe_vpcs_with_options", vpc_models.DescribeVpcsRequest),
    "DescribeVSwitches": ("describe_vswitches_with_options", vpc_models.DescribeVSwitchesRequest),
    "DescribeRegions": ("describe_regions_with_options", vpc_models.DescribeRegionsRequest),
}
#: ECS actions, called through the SDK's generic OpenAPI client (the ECS SDK is not a dependency).
_ECS_ACTIONS: dict[str, str] = {"DescribeNetworkInterfaces": "2014-05-26"}

#: Listings multiflow reads: action → (list key, item key, the id every item must carry).
LISTINGS: dict[str, tuple[str, str, str]] = {
    "DescribeFlowLogs": ("FlowLogs", "FlowLog", "FlowLogId"),
    "DescribeVpcs": ("Vpcs", "Vpc", "VpcId"),
    "DescribeVSwitches": ("VSwitches", "VSwitch", "VSwitchId"),
    "DescribeNetworkInterfaces": ("NetworkInterfaceSets", "NetworkInterfaceSet", "NetworkInterfaceId"),
}
#: The key a successful answer of an action must carry.
_REQUIRED: dict[str, str] = {"CreateFlowLog": "FlowLogId"}


class Redactor:
    """Replaces known secrets in text; shows nothing of them in its own repr.

    ``credential`` (a credentials client, for the credential chain) is asked for its current secret and STS token
    each time, as they may rotate: those reach the SDK without passing through the session's arguments.
    """

    def __init__(self, *secrets: str | None, credential: Any = None) -> None:
        self._secrets = tuple(s for s in secrets if s and len(s) >= 4)
        self._credential = credential

    def __repr__(self) -> str:
        return "<redactor>"

    def __call__(self, text: str, *, ask_credential: bool = True) -> str:
        secrets = list(self._secrets)
        if self._credential is not None and ask_credential:
            try:
                current = self._credential.get_credential()
            except Exception:  # no credentials (the error being redacted may say so): nothing more to hide
                current = None
            for name in ("access_key_secret", "security_token", "bearer_token"):
                value = getattr(current, name, None)
                if isinstance(value, str) and len(value) >= 4:
                    secrets.append(value)
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


class Transport:
    """The SDK clients of one region (VPC, and ECS through the generic client), each call rate-limited and retried.

    The parameters are :class:`~multiflow_alibaba.session.AlibabaSession`'s, which documents them; ``pool_size``
    is the number of connections kept open (the session's ``max_concurrency``). ``limits`` is the budget the calls
    take from (one adaptive limiter per API action, :class:`~multiflow.limiter.Limiters`); by default that of
    ``account`` (its id, or a key of the calling identity's credentials), shared with the account's other
    sessions, as Alibaba counts its API rate limits per account (:mod:`multiflow_alibaba.limits`).
    """

    def __init__(
        self,
        region: str,
        *,
        access_key_id: str | None,
        access_key_secret: str | None,
        security_token: str | None,
        credential: Any,
        endpoint: str | None,
        protocol: str | None,
        ecs_endpoint: str | None,
        pool_size: int,
        rate_limit: float | None,
        burst: float | None,
        max_attempts: int,
        retry_timeout: float,
        connect_timeout: float,
        read_timeout: float,
        account: str = "",
        limits: Limiters | None = None,
        rate_known: bool = False,
    ) -> None:
        if not isinstance(region, str) or not re.fullmatch(REGION_PATTERN, region):
            # The last line: the SDK makes vpc.<region>.aliyuncs.com by string replacement, so a region that is
            # not a region name never reaches it (multiflow.validate.check_region refuses it long before).
            raise SpecError("region", region, f"an Alibaba region name matching {REGION_PATTERN}", provider="alibaba")
        self.region = region
        self.endpoint = endpoint
        self._redact = Redactor(access_key_secret, security_token)
        config = open_api_models.Config(
            region_id=region,
            endpoint=endpoint,
            protocol=protocol,
            connect_timeout=int(connect_timeout * 1000),
            read_timeout=int(read_timeout * 1000),
            max_idle_conns=max(pool_size, 1),
            user_agent="multiflow",
            # Our own policy retries (see multiflow_alibaba.retry); the SDK must not retry underneath it.
            retry_options=RetryOptions({"retryable": False}),
        )
        if access_key_id is not None:
            config.access_key_id = access_key_id
            config.access_key_secret = access_key_secret
            config.security_token = security_token
        else:
            config.credential = credential if credential is not None else CredentialClient()
            self._redact = Redactor(credential=config.credential)
        self._client = VpcClient(config)
        config.endpoint = ecs_endpoint or endpoint or f"ecs.{region}.aliyuncs.com"
        self._ecs = OpenApiClient(config)
        del config
        self._runtime = RuntimeOptions()
        self.limits = limits if limits is not None else account_limiters(account, rate_limit, burst, rate_known)
        self._retry = RetryPolicy(max_attempts=max(1, max_attempts), timeout=retry_timeout)

    def __repr__(self) -> str:
        return f"<Transport {self.region} {self.endpoint or 'default endpoint'}>"

    def call(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        resource_id: str | None = None,
        before_retry: Callable[[ProviderError], Stop[Any] | None] | None = None,
    ) -> Any:
        """``action`` with ``params``, retried by the policy; ``before_retry`` may end the retries (see RetryPolicy)."""
        return self._retry.call(
            lambda: self.send(action, params or {}, resource_id),
            describe=f"{action} {resource_id or ''}".strip(),
            before_retry=before_retry,
        )

    def send(self, action: str, params: Mapping[str, Any], resource_id: str | None) -> dict[str, Any]:
        """One attempt of one call, with every SDK failure turned into a neutral error at this one place."""
        limiter = self.limits(action)
        try:
            ticket = limiter.acquire()
        except LimiterTimeout as exc:
            raise ERROR_TABLE.error(
                "Throttling.Local", f"multiflow's own rate limiter: {exc}", operation=action, resource_id=resource_id
            ) from None
        try:
            body = self._attempt(action, params, resource_id)
        except Throttled:
            limiter.throttled(ticket)
            raise
        limiter.succeeded(ticket)
        return body

    def _attempt(self, action: str, params: Mapping[str, Any], resource_id: str | None) -> dict[str, Any]:
        try:
            body = self._invoke(action, {"RegionId": self.region, **params})
        except AlibabaCloudException as exc:
            error = self._from_response_error(exc, action, resource_id)
        except UnretryableException as exc:
            error = self._from_transport_error(exc.inner_exception, action, resource_id)
        except (RetryError, CredentialException) as exc:
            error = self._from_transport_error(exc, action, resource_id)
        else:
            problem = unreadable(action, body)
            if problem is None and body is not None:
                log.debug("%s %s ok (request id %s)", action, resource_id or "", body.get("RequestId"))
                return body
            # Not the API's answer: the call's outcome is unknown (a ServiceError, retried like a lost answer).
            request_id = body.get("RequestId") if isinstance(body, dict) else None
            error = ERROR_TABLE.error(
                UNEXPECTED_RESPONSE,
                f"unreadable answer: {problem}",
                operation=action,
                request_id=str(request_id) if request_id else None,
                resource_id=resource_id,
            )
        log.debug("%s %s failed: %s", action, resource_id or "", error)
        raise error

    def _invoke(self, action: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The SDK call itself: a VPC client method with its request model, or ECS through the generic client.

        ``None`` when the SDK could not make a body of the answer (JSON of another shape)."""
        if action in _ECS_ACTIONS:
            api = open_api_models.Params(
                action=action,
                version=_ECS_ACTIONS[action],
                protocol="HTTPS",
                pathname="/",
                method="POST",
                auth_type="AK",
                style="RPC",
                req_body_type="formData",
                body_type="json",
            )
            request = open_api_models.OpenApiRequest(query=OpenApiUtils.query(dict(params)))
            answer = self._ecs.call_api(api, request, self._runtime)
            body = answer.get("body")
            return dict(body) if isinstance(body, dict) else None
        method_name, request_model = _ACTIONS[action]
        response = getattr(self._client, method_name)(request_model().from_map(dict(params)), self._runtime)
        return response.body.to_map() if response.body is not None else None

    def _from_response_error(self, exc: Any, action: str, resource_id: str | None) -> ProviderError:
        data = exc.data if isinstance(getattr(exc, "data", None), dict) else {}
        status = getattr(exc, "status_code", None) or data.get("statusCode")
        code = str(exc.code or data.get("Code") or status or "Unknown")
        message = str(data.get("Message") or exc.message or "")
        request_id = data.get("RequestId") or getattr(exc, "request_id", None)
        retry_after = getattr(exc, "retry_after", None)  # the SDK's, in milliseconds
        return ERROR_TABLE.error(
            code,
            self._redact(message),
            operation=action,
            request_id=str(request_id) if request_id not in (None, "None") else None,
            http_status=int(status) if status else None,
            resource_id=resource_id,
            retry_after=float(retry_after) / 1000 if retry_after else None,
        )

    def _from_transport_error(self, exc: BaseException | None, action: str, resource_id: str | None) -> ProviderError:
        if isinstance(exc, AlibabaCloudException):
            return self._from_response_error(exc, action, resource_id)
        if isinstance(exc, CredentialException):
            return ERROR_TABLE.error(
                NO_CREDENTIALS,
                self._redact(
                    f"no Alibaba Cloud credentials found{half_pair_hint(os.environ)}: {exc.message}",
                    ask_credential=False,
                ),
                operation=action,
                resource_id=resource_id,
            )
        if isinstance(exc, RetryError):
            return ERROR_TABLE.error(
                CONNECTION_ERROR,
                self._redact(f"no answer from {self.endpoint or 'the VPC endpoint'}: {exc.message}"),
                operation=action,
                resource_id=resource_id,
            )
        return ERROR_TABLE.error(
            UNEXPECTED_RESPONSE,
            self._redact(f"unreadable answer: {exc!r}"),
            operation=action,
            resource_id=resource_id,
        )


def half_pair_hint(environment: Mapping[str, str]) -> str:
    """`` (X is set but Y is not)`` when the environment holds one half of an AccessKey pair, else ``""``.

    The credential chain then skips the environment silently and says only that it found nothing."""
    given = [bool(environment.get(name)) for name in ACCESS_KEY_VARIABLES]
    if given[0] == given[1]:
        return ""
    key_id, secret = ACCESS_KEY_VARIABLES
    have, missing = (key_id, secret) if given[0] else (secret, key_id)
    return f" ({have} is set but {missing} is not)"


def unreadable(action: str, body: Any) -> str | None:
    """What makes an answer unusable (not a JSON object, a required key or an item's id missing, a count that is
    not a number), or ``None`` when multiflow can read it."""
    if not isinstance(body, dict):
        return "not the API's JSON"
    required = _REQUIRED.get(action)
    if required and not body.get(required):
        return f"no {required}"
    if action not in LISTINGS:
        return None
    for name in ("TotalCount", "PageSize", "PageNumber"):
        value = body.get(name)
        if value is not None and not str(value).strip().isdigit():
            return f"{name} is {str(value)[:40]!r}"
    outer, inner, id_key = LISTINGS[action]
    container = body.get(outer)
    if container is None:
        return None
    items = container.get(inner) if isinstance(container, dict) else None
    if isinstance(container, dict) and items is None:
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get(id_key) for i in items):
        return f"{outer}.{inner} not a list of items with a {id_key}"
    return None
