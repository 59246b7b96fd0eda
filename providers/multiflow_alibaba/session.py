"""One region of one Alibaba Cloud account, through the official VPC SDK (alibabacloud-vpc20160428).

Every call goes through :meth:`AlibabaSession._call`: one token from the session's rate limiter per attempt, the
SDK call, SDK exceptions turned into neutral errors at one place (:meth:`AlibabaSession._send`), and the retry
policy of :mod:`multiflow_alibaba.retry` (the SDK's own retries are turned off; that module says why).

Work on many resources (one CreateFlowLog, DeleteFlowLog, ActiveFlowLog or DeactiveFlowLog per id; the pages of
a listing) runs on a thread pool of ``max_concurrency`` workers, all under the one rate limit. Work started from
a worker runs in that worker, so the pool can never deadlock on itself.

Call costs (DescribeFlowLogs pages hold 50 records; ``n`` ids asked for, ``T`` flow logs in the region):

- looking up ``n`` flow logs (by id, or by resource): ``n`` calls when ``n`` ≤ 3, else one probe page of the
  region listing and then whichever is fewer of the remaining pages (``ceil(T/50) - 1``) and one call per id not
  yet found: at most ``min(n, 1 + ceil(T/50) - 1)`` + 1;
- :meth:`AlibabaSession.get` with a ``transitional`` hint: ``ceil(S/50)`` calls listing that state (``S`` flow
  logs in it, ours or not), then, for ids that left it, the lookup above (none for ``deleting``: they are gone);
- creating ``n`` flow logs: the lookup above by resource (to adopt instead of duplicating) + ``n`` creates.
"""

from __future__ import annotations

import logging
import math
import os
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

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

from multiflow.errors import (
    AlreadyExists,
    AuthError,
    Conflict,
    InvalidRequest,
    MultiflowError,
    NotFound,
    ProviderError,
    ResourceFailure,
    ServiceError,
    SpecError,
    UnsupportedFeature,
    WaitTimeout,
)
from multiflow.model import CloudResource, FlowLog, FlowLogStatus
from multiflow.provider import CreateOutcome, DeleteOutcome, DescribeQuery, ModifyChanges
from multiflow.spec import FlowLogSpec, ResourceKind
from multiflow_alibaba.capabilities import API_STATUSES, INTERVALS, RESOURCE_TYPES
from multiflow_alibaba.errors import (
    CONNECTION_ERROR,
    FLOW_LOG_DELETING,
    FLOW_LOG_EXISTS,
    NO_CREDENTIALS,
    SERVICE_NOT_OPENED_CODES,
    UNEXPECTED_RESPONSE,
    make_error,
    service_not_opened_message,
)
from multiflow_alibaba.mapping import (
    create_params,
    differences,
    flow_log_from_params,
    flow_log_from_record,
    records_of,
)
from multiflow_alibaba.retry import RateLimiter, RetryPolicy, Stop
from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE

__all__ = ["PAGE_SIZE", "PER_ID_LOOKUPS", "AlibabaSession"]

log = logging.getLogger("multiflow.alibaba")

T = TypeVar("T")
R = TypeVar("R")

#: The largest DescribeFlowLogs page.
PAGE_SIZE = 50
#: Up to this many ids are looked up one call each; beyond, a probe of the region listing decides.
PER_ID_LOOKUPS = 3

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
    "DescribeVpcs": ("describe_vpcs_with_options", vpc_models.DescribeVpcsRequest),
    "DescribeVSwitches": ("describe_vswitches_with_options", vpc_models.DescribeVSwitchesRequest),
}
#: ECS actions, called through the SDK's generic OpenAPI client (the ECS SDK is not a dependency).
_ECS_ACTIONS: dict[str, str] = {"DescribeNetworkInterfaces": "2014-05-26"}

#: What asks for a listing, by the field named when a kind cannot be listed.
_LISTING_USES = {"resources.where": "selectors", "kinds": "audits"}
#: Resource kind → (action, list key, item key, id key, page size) for ``list_resources`` and ``inventory``.
_LISTERS: dict[ResourceKind, tuple[str, str, str, str, int]] = {
    ResourceKind.VPC: ("DescribeVpcs", "Vpcs", "Vpc", "VpcId", 50),
    ResourceKind.SUBNET: ("DescribeVSwitches", "VSwitches", "VSwitch", "VSwitchId", 50),
    ResourceKind.NETWORK_INTERFACE: (
        "DescribeNetworkInterfaces",
        "NetworkInterfaceSets",
        "NetworkInterfaceSet",
        "NetworkInterfaceId",
        100,
    ),
}

_SETTLED = (FlowLogStatus.ACTIVE, FlowLogStatus.INACTIVE)

#: Listings multiflow reads: action → (list key, item key, the id every item must carry).
_ITEMS: dict[str, tuple[str, str, str]] = {
    "DescribeFlowLogs": ("FlowLogs", "FlowLog", "FlowLogId"),
    **{action: (outer, inner, id_key) for action, outer, inner, id_key, _ in _LISTERS.values()},
}
#: The key a successful answer of an action must carry.
_REQUIRED: dict[str, str] = {"CreateFlowLog": "FlowLogId"}


class _Redactor:
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


class AlibabaSession:
    """Alibaba Cloud VPC flow logs in one region. Make one with ``multiflow.connect("alibaba", region=..., **options)``.

    :param region: the region id (``cn-hangzhou``...).
    :param access_key_id: an explicit AccessKey id; without it the credential chain of alibabacloud-credentials
        is used (``ALIBABA_CLOUD_ACCESS_KEY_ID``/``ALIBABA_CLOUD_ACCESS_KEY_SECRET``, the CLI's and the SDK's
        profiles, OIDC, the ECS RAM role...).
    :param access_key_secret: the AccessKey secret; never logged, shown or written anywhere.
    :param security_token: an STS token, with temporary keys.
    :param credential: a ready ``alibabacloud_credentials.client.Client`` to use instead.
    :param endpoint: the VPC endpoint (``127.0.0.1:PORT`` for the sandbox); default: ``$MULTIFLOW_ALIBABA_ENDPOINT``
        if set (``multiflow sandbox serve`` prints it), else the SDK's (``vpc.aliyuncs.com`` or
        ``vpc.<region>.aliyuncs.com``).
    :param protocol: ``https`` (default), or ``http`` (the sandbox); default ``$MULTIFLOW_ALIBABA_PROTOCOL`` if set.
    :param ecs_endpoint: the ECS endpoint ``list_resources`` uses for network interfaces; default ``endpoint`` when
        that is given, else ``ecs.<region>.aliyuncs.com``.
    :param max_concurrency: worker threads for per-resource calls and listing pages.
    :param rate_limit: calls per second at most of each API action, across the session's threads (``None``: no
        limit). Alibaba limits each API separately, so polls and lookups do not take creates' turns.
    :param burst: calls allowed at once before the rate applies (default: one second's worth).
    :param max_attempts: attempts per call, the first included (1: no retries).
    :param retry_timeout: seconds after a call's first attempt past which it is not retried.
    :param settle_timeout: seconds ``modify`` waits for a flow log to leave a transitional state.
    :param connect_timeout: seconds to connect.
    :param read_timeout: seconds to wait for an answer.
    :param open_service: open the account's flow-log service (OpenFlowLogService) if it is not opened yet.
    """

    provider = "alibaba"

    def __init__(
        self,
        region: str,
        *,
        access_key_id: str | None = None,
        access_key_secret: str | None = None,
        security_token: str | None = None,
        credential: Any = None,
        endpoint: str | None = None,
        protocol: str | None = None,
        ecs_endpoint: str | None = None,
        max_concurrency: int = 10,
        rate_limit: float | None = 20.0,
        burst: float | None = None,
        max_attempts: int = 8,
        retry_timeout: float = 60.0,
        settle_timeout: float = 300.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        open_service: bool = False,
    ) -> None:
        if (access_key_id is None) != (access_key_secret is None):
            raise ValueError("give both access_key_id and access_key_secret, or neither (to use the credential chain)")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or None
        protocol = protocol or os.environ.get(PROTOCOL_VARIABLE) or None
        self.region = region
        self.endpoint = endpoint
        self.settle_timeout = settle_timeout
        self._redact = _Redactor(access_key_secret, security_token)
        config = open_api_models.Config(
            region_id=region,
            endpoint=endpoint,
            protocol=protocol,
            connect_timeout=int(connect_timeout * 1000),
            read_timeout=int(read_timeout * 1000),
            max_idle_conns=max(max_concurrency, 1),
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
            self._redact = _Redactor(credential=config.credential)
        self._client = VpcClient(config)
        config.endpoint = ecs_endpoint or endpoint or f"ecs.{region}.aliyuncs.com"
        self._ecs = OpenApiClient(config)
        del config
        self._runtime = RuntimeOptions()
        self._limiters: dict[str, RateLimiter] = {}
        self._limits = (rate_limit, burst)
        self._limiters_lock = threading.Lock()
        self._retry = RetryPolicy(max_attempts=max(1, max_attempts), timeout=retry_timeout)
        self._pool = ThreadPoolExecutor(max_workers=max_concurrency, thread_name_prefix="multiflow-alibaba")
        self._worker = threading.local()
        self._service_opened: bool | None = None
        self._unlisted_states: set[str] = set()
        if open_service and not self.service_opened():
            self.open_service()

    def __repr__(self) -> str:
        return f"<AlibabaSession {self.region} {self.endpoint or 'default endpoint'}>"

    # -- calling the SDK -----------------------------------------------------------------------------------

    def _limiter(self, action: str) -> RateLimiter:
        """The token bucket of one API action."""
        with self._limiters_lock:
            if action not in self._limiters:
                self._limiters[action] = RateLimiter(*self._limits)
            return self._limiters[action]

    def _send(self, action: str, params: Mapping[str, Any], resource_id: str | None) -> dict[str, Any]:
        """One attempt of one call, with every SDK failure turned into a neutral error at this one place."""
        self._limiter(action).acquire()
        try:
            body = self._invoke(action, {"RegionId": self.region, **params})
        except AlibabaCloudException as exc:
            error = self._from_response_error(exc, action, resource_id)
        except UnretryableException as exc:
            error = self._from_transport_error(exc.inner_exception, action, resource_id)
        except (RetryError, CredentialException) as exc:
            error = self._from_transport_error(exc, action, resource_id)
        else:
            problem = _unreadable(action, body)
            if problem is None and body is not None:
                log.debug("%s %s ok (request id %s)", action, resource_id or "", body.get("RequestId"))
                return body
            # Not the API's answer: the call's outcome is unknown (a ServiceError, retried like a lost answer).
            request_id = body.get("RequestId") if isinstance(body, dict) else None
            error = make_error(
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
        error = make_error(
            code,
            self._redact(message),
            operation=action,
            request_id=str(request_id) if request_id not in (None, "None") else None,
            http_status=int(status) if status else None,
            resource_id=resource_id,
        )
        retry_after = getattr(exc, "retry_after", None)
        if retry_after:
            error.retry_after = float(retry_after) / 1000  # type: ignore[attr-defined]
        return error

    def _from_transport_error(self, exc: BaseException | None, action: str, resource_id: str | None) -> ProviderError:
        if isinstance(exc, AlibabaCloudException):
            return self._from_response_error(exc, action, resource_id)
        if isinstance(exc, CredentialException):
            return make_error(
                NO_CREDENTIALS,
                # The chain just failed: asking it again would only repeat its lookups.
                self._redact(f"no Alibaba Cloud credentials found: {exc.message}", ask_credential=False),
                operation=action,
                resource_id=resource_id,
            )
        if isinstance(exc, RetryError):
            return make_error(
                CONNECTION_ERROR,
                self._redact(f"no answer from {self.endpoint or 'the VPC endpoint'}: {exc.message}"),
                operation=action,
                resource_id=resource_id,
            )
        return make_error(
            UNEXPECTED_RESPONSE,
            self._redact(f"unreadable answer: {exc!r}"),
            operation=action,
            resource_id=resource_id,
        )

    def _call(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        resource_id: str | None = None,
        before_retry: Callable[[ProviderError], Stop[Any] | None] | None = None,
    ) -> Any:
        """``action`` with ``params``, retried by the session's policy; a closed flow-log service explained."""
        try:
            return self._retry.call(
                lambda: self._send(action, params or {}, resource_id),
                describe=f"{action} {resource_id or ''}".strip(),
                before_retry=before_retry,
            )
        except ProviderError as exc:
            raise self._explain_service(exc) from None

    def _explain_service(self, exc: ProviderError) -> ProviderError:
        """The error, or an AuthError that says how to open the flow-log service when that is the cause."""
        closed = exc.code in SERVICE_NOT_OPENED_CODES
        if not closed and exc.code == "OperationUnsupported.action" and exc.operation != "GetFlowLogServiceStatus":
            try:
                closed = not self.service_opened(refresh=True)
            except ProviderError:
                closed = False
        if not closed:
            return exc
        self._service_opened = False
        return AuthError(
            "alibaba",
            exc.code,
            f"{service_not_opened_message(self.region)} [{exc.message}]",
            request_id=exc.request_id,
            operation=exc.operation,
            http_status=exc.http_status,
            resource_id=exc.resource_id,
            retryable=False,
        )

    # -- the flow-log service ------------------------------------------------------------------------------

    def service_opened(self, *, refresh: bool = False) -> bool:
        """Whether the account has opened the flow-log service (GetFlowLogServiceStatus; cached)."""
        if self._service_opened is None or refresh:
            body = self._call("GetFlowLogServiceStatus")
            self._service_opened = str(body.get("Enabled")).lower() == "true"
        return self._service_opened

    def open_service(self) -> None:
        """Open the account's flow-log service (OpenFlowLogService). Once per account; harmless when open."""
        log.info("opening the flow-log service for this account (region %s)", self.region)
        self._call("OpenFlowLogService")
        self._service_opened = True

    # -- running many calls ----------------------------------------------------------------------------

    def _each(self, fn: Callable[[T], R], items: Sequence[T]) -> list[tuple[T, R | None, MultiflowError | None]]:
        """``fn`` over ``items`` on the pool (inline from a worker, so the pool never waits on itself).

        Each item's result or neutral error is kept; other exceptions (bugs) propagate.
        """

        def run(item: T) -> tuple[T, R | None, MultiflowError | None]:
            try:
                return item, fn(item), None
            except MultiflowError as exc:
                return item, None, exc

        if len(items) <= 1 or getattr(self._worker, "active", False):
            return [run(item) for item in items]

        def in_worker(item: T) -> tuple[T, R | None, MultiflowError | None]:
            self._worker.active = True
            try:
                return run(item)
            finally:
                self._worker.active = False

        return list(self._pool.map(in_worker, items))

    def _all(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``fn`` over ``items`` concurrently; the first error is raised once all are done."""
        results: list[R] = []
        for _, result, error in self._each(fn, items):
            if error is not None:
                raise error
            results.append(result)  # type: ignore[arg-type]
        return results

    # -- reading ---------------------------------------------------------------------------------------

    def _page(self, filters: Mapping[str, Any], number: int) -> dict[str, Any]:
        return self._call("DescribeFlowLogs", {**filters, "PageSize": PAGE_SIZE, "PageNumber": number})

    def _list(self, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every DescribeFlowLogs record for ``filters``: the first page, then the others concurrently."""
        first = self._page(filters, 1)
        return _unique(records_of(first) + self._rest(filters, first))

    def _rest(self, filters: Mapping[str, Any], first: Mapping[str, Any]) -> list[dict[str, Any]]:
        total = int(first.get("TotalCount") or 0)
        size = int(first.get("PageSize") or PAGE_SIZE) or PAGE_SIZE
        pages = math.ceil(total / size)
        if pages <= 1:
            return []
        return [
            r for page in self._all(lambda n: records_of(self._page(filters, n)), range(2, pages + 1)) for r in page
        ]

    def _find(self, key: str, values: Iterable[str], filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Records whose ``key`` (``FlowLogId`` or ``ResourceId``) is one of ``values``, in the fewest calls.

        Few values: one filtered call each. Many: one probe page of the listing tells the region's size; then
        whichever is fewer of the remaining pages and one call per value not yet seen.
        """
        wanted = list(dict.fromkeys(values))
        base = dict(filters or {})
        if not wanted:
            return []
        if len(wanted) <= PER_ID_LOOKUPS:
            return _unique([r for rs in self._all(lambda v: self._list({**base, key: v}), wanted) for r in rs])
        first = self._page(base, 1)
        records = records_of(first)
        seen = {r.get(key) for r in records}
        # A resource may carry several flow logs: only a flow log id is settled by being seen once.
        remaining = [v for v in wanted if key != "FlowLogId" or v not in seen]
        size = int(first.get("PageSize") or PAGE_SIZE) or PAGE_SIZE
        pages_left = max(0, math.ceil(int(first.get("TotalCount") or 0) / size) - 1)
        if remaining and pages_left <= len(remaining):
            records += self._rest(base, first)
        elif remaining:
            records += [r for rs in self._all(lambda v: self._list({**base, key: v}), remaining) for r in rs]
        chosen = set(wanted)
        return _unique([r for r in records if r.get(key) in chosen])

    def _flow_logs(self, records: Iterable[Mapping[str, Any]], include_raw: bool = True) -> list[FlowLog]:
        return [self._flow_log(r, include_raw) for r in records]

    def _flow_log(self, record: Mapping[str, Any], include_raw: bool = True) -> FlowLog:
        """A DescribeFlowLogs record as a FlowLog; one the cloud would never send is a ServiceError, not a crash."""
        try:
            return flow_log_from_record(record, self.region, include_raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise make_error(
                UNEXPECTED_RESPONSE,
                f"unreadable answer: a flow log record multiflow cannot read ({type(exc).__name__})",
                operation="DescribeFlowLogs",
                resource_id=str(record.get("ResourceId") or "") or None,
            ) from exc

    def describe(self, query: DescribeQuery) -> list[FlowLog]:
        """Flow logs matching ``query``, all pages (50 a page); filters the cloud has are applied by it."""
        filters: dict[str, Any] = {}
        if query.resource_kind is not None:
            if query.resource_kind not in RESOURCE_TYPES:
                return []
            filters["ResourceType"] = RESOURCE_TYPES[query.resource_kind]
        if query.tags:
            filters["Tags"] = [{"Key": k, **({"Value": v} if v is not None else {})} for k, v in query.tags.items()]
        if query.ids:
            records = self._find("FlowLogId", query.ids, filters)
        elif query.resource_ids:
            records = self._find("ResourceId", query.resource_ids, filters)
        else:
            records = self._list(filters)
        flow_logs = self._flow_logs(records, query.include_raw)
        return [f for f in flow_logs if _matches(f, query)]

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        """The current state of ``ids``; ids that are gone are absent.

        Cost model, in DescribeFlowLogs calls (pages of 50):

        - with ``transitional`` (what the waiter passes): list that state, ``ceil(S/50)`` calls for the ``S``
          flow logs in it (ours or not). Ids absent from it have left the state (or were never in it: a
          ``deleting`` hint on a flow log nobody deletes must not read as gone), so they are looked up like ids
          without a hint (below): a poll costs ``ceil(S/50)`` while everything is pending and about
          ``ceil(T/50) + 1`` on the poll where many settle at once; the waiter asks about each id until it
          settles, so each is looked up once after it leaves the state.
        - if the cloud refuses that state as a ``Status`` filter, the ids are looked up as without a hint (below),
          from then on.
        - without a hint: ``n`` calls for ``n`` ≤ 3 ids; else one probe page of the region's listing and then the
          fewer of its remaining pages (``ceil(T/50) - 1``, ``T`` flow logs in the region) and one call per id
          not yet seen.
        """
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found: dict[str, FlowLog] = {}
        state = API_STATUSES.get(transitional) if transitional is not None and transitional.transitional else None
        listed = self._list_state(state) if state is not None else None
        if listed is not None:
            chosen = set(wanted)
            found = {f.id: f for f in self._flow_logs(listed) if f.id in chosen}
            wanted = [i for i in wanted if i not in found]
        found.update({f.id: f for f in self._flow_logs(self._find("FlowLogId", wanted))})
        return found

    def _list_state(self, state: str) -> list[dict[str, Any]] | None:
        """Every flow log in ``state``; ``None`` if the cloud refuses that ``Status`` filter.

        DescribeFlowLogs documents ``Status`` values Active, Activating and Inactive; should the cloud refuse
        ``Deleting`` or ``Deactivating`` as a filter, the session stops asking and looks ids up instead.
        """
        if state in self._unlisted_states:
            return None
        try:
            return self._list({"Status": state})
        except InvalidRequest as exc:
            log.info("DescribeFlowLogs refuses Status=%s (%s); looking flow logs up by id instead", state, exc.code)
            self._unlisted_states.add(state)
            return None

    def _listing(self, kind: ResourceKind, filters: Mapping[str, Any], field: str) -> list[dict[str, Any]]:
        """Every item of the VPC, vSwitch or ENI listing for ``filters``: the first page, then the others
        concurrently; once each (a listing that shifts can show an item twice). ``field`` names what asked for a
        kind that cannot be listed, in the UnsupportedFeature."""
        _check_listable(kind, field)
        action, outer, inner, id_key, size = _LISTERS[kind]

        def page(number: int) -> dict[str, Any]:
            return dict(self._call(action, {**filters, "PageSize": size, "PageNumber": number}))

        def items_of(body: Mapping[str, Any]) -> list[dict[str, Any]]:
            return list((body.get(outer) or {}).get(inner) or [])

        first = page(1)
        served = int(first.get("PageSize") or size) or size
        pages = math.ceil(int(first.get("TotalCount") or 0) / served)
        items = items_of(first)
        if items:
            items += [item for body in self._all(page, range(2, pages + 1)) for item in items_of(body)]
        return list({str(item[id_key]): item for item in items}.values())

    def list_resources(self, kind: ResourceKind, tags: Mapping[str, str | None]) -> list[str]:
        """Ids of every VPC, vSwitch or ENI in the region whose tags match (``None``: any value), all pages.

        DescribeVpcs / DescribeVSwitches (VPC, 50 a page) and ECS DescribeNetworkInterfaces (100 a page); the tag
        filter is sent as ``Tag.N`` and checked again on what comes back.
        """
        filters = {"Tag": [{"Key": k, **({"Value": v} if v is not None else {})} for k, v in tags.items()]}
        id_key = _LISTERS[kind][3] if kind in _LISTERS else ""
        items = self._listing(kind, filters, "resources.where")
        return [str(item[id_key]) for item in items if _tags_match(_resource_tags(item), tags)]

    def inventory(self, kinds: Sequence[ResourceKind]) -> list[CloudResource]:
        """Every VPC, vSwitch and ENI of ``kinds`` with its VPC, vSwitch and tags, the kinds listed concurrently.

        One paginated listing per kind (DescribeVpcs and DescribeVSwitches 50 a page, ECS DescribeNetworkInterfaces
        100 a page): ``ceil(n/50)`` or ``ceil(n/100)`` calls for ``n`` resources, never one per resource.
        """
        wanted = list(dict.fromkeys(kinds))
        for kind in wanted:
            _check_listable(kind, "kinds")
        listings = self._all(lambda kind: (kind, self._listing(kind, {}, "kinds")), wanted)
        return [
            CloudResource(
                kind=kind,
                id=str(item[_LISTERS[kind][3]]),
                vpc_id=str(item["VpcId"]) if kind is not ResourceKind.VPC and item.get("VpcId") else None,
                subnet_id=(
                    str(item["VSwitchId"]) if kind is ResourceKind.NETWORK_INTERFACE and item.get("VSwitchId") else None
                ),
                tags=_resource_tags(item),
            )
            for kind, items in listings
            for item in items
        ]

    # -- create ----------------------------------------------------------------------------------------

    def create(self, specs: Sequence[FlowLogSpec], *, extra_tags: Mapping[str, str], dry_run: bool) -> CreateOutcome:
        """One CreateFlowLog per resource, concurrently under the rate limit, adopting what already exists.

        CreateFlowLog has no ClientToken. So, first, the flow logs already on the resources are read (one lookup
        for all of them): a resource that has a flow log with the same settings adopts it instead of getting a
        duplicate; one with other settings fails with AlreadyExists naming that flow log. And a create whose
        outcome is unknown (dropped connection, 5xx) looks again before it is sent again.
        """
        if dry_run:
            raise UnsupportedFeature("dry_run", True, "no dry run", provider="alibaba")
        jobs: list[dict[str, Any]] = []
        for spec in specs:
            jobs += [create_params(spec, rid, self.region, extra_tags) for rid in spec.resources.ids]
        outcome = CreateOutcome()
        if not jobs:
            return outcome
        existing: dict[str, list[dict[str, Any]]] = {}
        try:
            for record in self._find("ResourceId", [job["ResourceId"] for job in jobs]):
                existing.setdefault(record.get("ResourceId", ""), []).append(record)
        except ProviderError as exc:
            outcome.failed += [ResourceFailure(job["ResourceId"], exc.about(job["ResourceId"])) for job in jobs]
            return outcome
        for job, flow_log, error in self._each(lambda job: self._create_one(job, existing), jobs):
            if error is not None:
                outcome.failed.append(ResourceFailure(job["ResourceId"], error))
            elif flow_log is not None:
                outcome.created.append(flow_log)
        return outcome

    def _create_one(self, params: dict[str, Any], existing: Mapping[str, list[dict[str, Any]]]) -> FlowLog:
        resource_id = params["ResourceId"]
        on_resource = existing.get(resource_id)
        if on_resource:
            return self._adopt(params, on_resource)

        def look_again(error: ProviderError) -> Stop[FlowLog] | None:
            # Throttling or a busy resource means the call was refused: nothing to look for.
            if not isinstance(error, ServiceError):
                return None
            records = self._list({"ResourceId": resource_id})
            match = [r for r in records if not differences(r, params) and r.get("Status") != "Deleting"]
            if match:
                log.info("CreateFlowLog %s: answer lost, adopting %s", resource_id, match[0].get("FlowLogId"))
                return Stop(self._flow_log(match[0]))
            return None

        try:
            body = self._call("CreateFlowLog", params, resource_id=resource_id, before_retry=look_again)
        except AlreadyExists as exc:
            records = self._list({"ResourceId": resource_id})
            if not records:
                raise
            return self._adopt(params, records, cause=exc)
        if isinstance(body, FlowLog):  # adopted by look_again
            return body
        return flow_log_from_params(str(body["FlowLogId"]), params, body)

    def _adopt(
        self, params: Mapping[str, Any], records: Sequence[Mapping[str, Any]], cause: ProviderError | None = None
    ) -> FlowLog:
        """The existing flow log with ``params``' settings, or AlreadyExists/Conflict naming the one in the way."""
        resource_id = params["ResourceId"]
        live = [r for r in records if r.get("Status") != "Deleting"]
        for record in live:
            if not differences(record, params):
                log.info(
                    "resource %s already has flow log %s with these settings: adopted", resource_id, record["FlowLogId"]
                )
                return self._flow_log(record)
        if not live:
            raise make_error(
                FLOW_LOG_DELETING,
                f"resource {resource_id} has flow log {records[0].get('FlowLogId')} still being deleted; "
                "create again once it is gone",
                operation="CreateFlowLog",
                resource_id=resource_id,
            )
        other = live[0]
        found = "; ".join(differences(other, params))
        raise AlreadyExists(
            "alibaba",
            cause.code if cause else FLOW_LOG_EXISTS,
            f"resource {resource_id} already has flow log {other.get('FlowLogId')} with other settings ({found})",
            request_id=cause.request_id if cause else None,
            operation="CreateFlowLog",
            http_status=cause.http_status if cause else None,
            resource_id=resource_id,
        )

    # -- delete, start, stop -----------------------------------------------------------------------------

    def _status_of(self, flow_log_id: str) -> FlowLogStatus | None:
        found = self._flow_logs(self._list({"FlowLogId": flow_log_id}))
        return found[0].status if found else None

    def _act(self, action: str, ids: Sequence[str], done: tuple[FlowLogStatus, ...]) -> DeleteOutcome:
        """``action`` on each id concurrently, each retried by the policy, with a look at the flow log between tries.

        Before a retry of a refused (Conflict) or unanswered (ServiceError) call: a flow log already in one of
        ``done`` means the action happened or was not needed; one in a transitional state is waited on until it
        settles (bounded by ``settle_timeout``) and the action tried again; one that is gone after an unanswered
        delete was deleted by it.
        """

        def one(flow_log_id: str) -> None:
            def check(error: ProviderError) -> Stop[None] | None:
                if not isinstance(error, (Conflict, ServiceError)):
                    return None
                status = self._status_of(flow_log_id)
                if status is None:
                    lost_delete = action == "DeleteFlowLog" and isinstance(error, ServiceError)
                    return Stop(None) if lost_delete else None
                if status in done:
                    return Stop(None)
                if status.transitional and status != FlowLogStatus.DELETING:
                    self.wait_settled(flow_log_id)
                return None

            self._call(action, {"FlowLogId": flow_log_id}, resource_id=flow_log_id, before_retry=check)

        outcome = DeleteOutcome()
        for flow_log_id, _, error in self._each(one, list(dict.fromkeys(ids))):
            if error is None:
                outcome.deleted.append(flow_log_id)
            else:
                outcome.failed.append(ResourceFailure(flow_log_id, error))
        return outcome

    def delete(self, ids: Sequence[str]) -> DeleteOutcome:
        """DeleteFlowLog per id, concurrently; the core then waits through ``deleting`` until they are gone.

        A flow log still activating is refused (``IncorrectStatus.flowlog``): it is waited on until it settles and
        deleted then; one already deleting counts as deleted.
        """
        return self._act("DeleteFlowLog", ids, (FlowLogStatus.DELETING,))

    def start(self, ids: Sequence[str]) -> DeleteOutcome:
        """ActiveFlowLog per id; one already active or activating counts as started."""
        return self._act("ActiveFlowLog", ids, (FlowLogStatus.ACTIVE, FlowLogStatus.ACTIVATING))

    def stop(self, ids: Sequence[str]) -> DeleteOutcome:
        """DeactiveFlowLog per id; one already inactive or deactivating counts as stopped."""
        return self._act("DeactiveFlowLog", ids, (FlowLogStatus.INACTIVE, FlowLogStatus.DEACTIVATING))

    # -- modify ----------------------------------------------------------------------------------------

    def wait_settled(self, flow_log_id: str, timeout: float | None = None) -> FlowLog:
        """Wait until the flow log is ``active`` or ``inactive`` (exact states, not a string match), and return it.

        Polls one DescribeFlowLogs per try with jittered backoff (0.2 s doubling to 5 s) for at most ``timeout``
        seconds (default ``settle_timeout``); raises NotFound if it is gone, Conflict if it is being deleted and
        WaitTimeout naming it if it does not settle in time.
        """
        limit = self.settle_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        delay = 0.2
        while True:
            found = self._flow_logs(self._list({"FlowLogId": flow_log_id}))
            if not found:
                raise NotFound(
                    "alibaba",
                    "InvalidFlowLogId.NotFound",
                    f"no flow log {flow_log_id} in {self.region}",
                    resource_id=flow_log_id,
                )
            flow_log = found[0]
            if flow_log.status in _SETTLED:
                return flow_log
            if flow_log.status == FlowLogStatus.DELETING:
                raise Conflict(
                    "alibaba",
                    "IncorrectStatus.flowlog",
                    f"flow log {flow_log_id} is being deleted",
                    resource_id=flow_log_id,
                    retryable=False,
                )
            left = deadline - time.monotonic()
            if left <= 0:
                raise WaitTimeout([flow_log_id], "active or inactive", {flow_log_id: flow_log.status.value}, limit)
            time.sleep(min(left, random.uniform(delay / 2, delay)))
            delay = min(delay * 2, 5.0)

    def modify(self, flow_log_id: str, changes: ModifyChanges) -> None:
        """ModifyFlowLogAttribute (FlowLogName, Description, AggregationInterval), once the flow log is settled.

        The cloud refuses changes while a flow log is Activating/Deactivating, so this first waits (bounded by
        ``settle_timeout``) until it is Active or Inactive.
        """
        params: dict[str, Any] = {"FlowLogId": flow_log_id}
        if changes.name is not None:
            params["FlowLogName"] = changes.name
        if changes.description is not None:
            params["Description"] = changes.description
        if changes.interval is not None:
            if changes.interval not in INTERVALS:
                raise SpecError("interval", changes.interval, INTERVALS, provider="alibaba", reason="seconds")
            params["AggregationInterval"] = changes.interval // 60
        if len(params) == 1:
            return
        self.wait_settled(flow_log_id)
        self._call("ModifyFlowLogAttribute", params, resource_id=flow_log_id)

    def close(self) -> None:
        """Stop the worker threads (the SDK keeps no other resource of ours)."""
        self._pool.shutdown(wait=True)


def _unreadable(action: str, body: Any) -> str | None:
    """What makes an answer unusable (not a JSON object, a required key or an item's id missing, a count that is
    not a number), or ``None`` when multiflow can read it."""
    if not isinstance(body, dict):
        return "not the API's JSON"
    required = _REQUIRED.get(action)
    if required and not body.get(required):
        return f"no {required}"
    if action not in _ITEMS:
        return None
    for name in ("TotalCount", "PageSize", "PageNumber"):
        value = body.get(name)
        if value is not None and not str(value).strip().isdigit():
            return f"{name} is {str(value)[:40]!r}"
    outer, inner, id_key = _ITEMS[action]
    container = body.get(outer)
    if container is None:
        return None
    items = container.get(inner) if isinstance(container, dict) else None
    if isinstance(container, dict) and items is None:
        return None
    if not isinstance(items, list) or not all(isinstance(i, dict) and i.get(id_key) for i in items):
        return f"{outer}.{inner} not a list of items with a {id_key}"
    return None


def _unique(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without repeats (a flow log can show on two pages when the listing shifts), order kept."""
    seen: set[str] = set()
    unique = []
    for record in records:
        key = str(record.get("FlowLogId"))
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique


def _matches(flow_log: FlowLog, query: DescribeQuery) -> bool:
    if query.ids and flow_log.id not in query.ids:
        return False
    if query.resource_ids and flow_log.resource.id not in query.resource_ids:
        return False
    if query.resource_kind is not None and flow_log.resource.kind != query.resource_kind:
        return False
    return _tags_match(flow_log.tags, query.tags)


def _check_listable(kind: ResourceKind, field: str) -> None:
    """An UnsupportedFeature about ``field`` unless multiflow can list resources of ``kind``."""
    if kind not in _LISTERS:
        raise UnsupportedFeature(
            field,
            kind.value,
            "vpc, subnet, network_interface",
            provider="alibaba",
            reason=f"{_LISTING_USES.get(field, 'multiflow')} list VPCs, vSwitches and ENIs only",
        )


def _resource_tags(item: Mapping[str, Any]) -> dict[str, str]:
    """A VPC's or vSwitch's tags (``Key``/``Value``), or an ENI's (ECS spells them ``TagKey``/``TagValue``)."""
    tags = (item.get("Tags") or {}).get("Tag") or []
    return {
        str(t.get("Key", t.get("TagKey"))): str(t.get("Value", t.get("TagValue")) or "")
        for t in tags
        if t.get("Key", t.get("TagKey"))
    }


def _tags_match(have: Mapping[str, str], wanted: Mapping[str, str | None]) -> bool:
    return all(key in have and (value is None or have[key] == value) for key, value in wanted.items())
