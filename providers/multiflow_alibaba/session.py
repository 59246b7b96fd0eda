"""One region of one Alibaba Cloud account, through the official VPC SDK (alibabacloud-vpc20160428).

:class:`AlibabaSession` is the provider's ``ProviderSession``: creating, deleting, starting, stopping and changing
flow logs, and the flow-log service switch. It composes the rooms that do the rest:

- :mod:`multiflow_alibaba.transport`: one call (rate limit per action, retries, SDK exceptions → neutral errors);
- :mod:`multiflow_alibaba.reads`: DescribeFlowLogs paging and lookups, and resource listings, with their cost;
- :mod:`multiflow_alibaba.workers`: the threads work on many resources runs on, all under the one rate limit.
"""

from __future__ import annotations

import logging
import os
import random
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from multiflow.accounts import RegionListing
from multiflow.backoff import Backoff
from multiflow.errors import (
    AlreadyExists,
    AuthError,
    Conflict,
    MultiflowError,
    ProviderError,
    ResourceFailure,
    ServiceError,
    SpecError,
    UnsupportedFeature,
    WaitTimeout,
)
from multiflow.model import CloudResource, FlowLog, FlowLogStatus
from multiflow.ownership import user_tags
from multiflow.provider import CreateOutcome, DeleteOutcome, DescribeQuery, ModifyChanges, SwitchOutcome
from multiflow.spec import FlowLogSpec, ResourceKind
from multiflow_alibaba.capabilities import INTERVALS
from multiflow_alibaba.credentials import DEFAULT_DURATION, AssumedRole, assumed_role, caller_key
from multiflow_alibaba.errors import (
    ERROR_TABLE,
    FLOW_LOG_DELETING,
    FLOW_LOG_EXISTS,
    SERVICE_NOT_OPENED_CODES,
    service_not_opened_message,
)
from multiflow_alibaba.limits import pool_size
from multiflow_alibaba.mapping import create_params, differences, flow_log_from_params
from multiflow_alibaba.reads import (
    PAGE_SIZE,
    PER_ID_LOOKUPS,
    Reads,
    check_listable,
    item_id_key,
    resource_tags,
    tags_match,
)
from multiflow_alibaba.retry import Stop
from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE
from multiflow_alibaba.transport import Transport
from multiflow_alibaba.workers import account_workers

if TYPE_CHECKING:
    from multiflow_alibaba.credentials import TemporaryCredentials

__all__ = ["PAGE_SIZE", "PER_ID_LOOKUPS", "SETTLE_BACKOFF", "AlibabaSession"]

log = logging.getLogger("multiflow.alibaba")

_SETTLED = (FlowLogStatus.ACTIVE, FlowLogStatus.INACTIVE)
#: What the cloud says of temporary credentials past their expiry, or that it no longer knows: assume the role
#: again and retry once.
RENEW_CODES = frozenset({"InvalidSecurityToken.Expired", "InvalidAccessKeyId.NotFound"})
#: A RAM role's ARN as STS takes it and Alibaba writes it: ``acs:ram::<account id>:role/<role name>``, lower-case.
ROLE_ARN = re.compile(r"^acs:ram::(?P<account>[0-9]{1,32}):role/(?P<name>[a-z0-9.@_-]{1,64})$")
#: AssumeRole's RoleSessionName: 2 to 64 letters, digits and ``.@-_``.
SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
#: The most resources one TagResources call takes (ResourceId.N).
TAG_RESOURCES_PER_CALL = 50
#: The ``alibaba:`` options ``modify`` changes in place (see capabilities.modifiable).
_MODIFIABLE_OPTIONS = frozenset({"ip_version", "resource_group_id"})

#: The sleeps of :meth:`AlibabaSession.wait_settled` between polls: 0.2 s doubling to 5 s, equal jitter.
SETTLE_BACKOFF = Backoff(base=0.2, cap=5.0, factor=2.0, jitter="equal")


class AlibabaSession:
    """Alibaba Cloud VPC flow logs in one region. Make one with ``multiflow.connect("alibaba", region=..., **options)``.

    :param region: the region id (``cn-hangzhou``...).
    :param access_key_id: an explicit AccessKey id; without it the credential chain of alibabacloud-credentials
        is used (``ALIBABA_CLOUD_ACCESS_KEY_ID``/``ALIBABA_CLOUD_ACCESS_KEY_SECRET``, the CLI's and the SDK's
        profiles, OIDC, the ECS RAM role...).
    :param access_key_secret: the AccessKey secret; never logged, shown or written anywhere.
    :param security_token: an STS token, with temporary keys.
    :param credential: a ready ``alibabacloud_credentials.client.Client`` to use instead.
    :param profile_name: a profile of the Alibaba Cloud CLI's ``~/.aliyun/config.json`` to take credentials from.
    :param endpoint: the VPC endpoint (``127.0.0.1:PORT`` for the sandbox); default: ``$MULTIFLOW_ALIBABA_ENDPOINT``
        if set (``multiflow sandbox serve`` prints it), else the SDK's (``vpc.aliyuncs.com`` or
        ``vpc.<region>.aliyuncs.com``).
    :param protocol: ``https`` (default), or ``http`` (the sandbox); default ``$MULTIFLOW_ALIBABA_PROTOCOL`` if set.
    :param ecs_endpoint: the ECS endpoint ``list_resources`` uses for network interfaces; default ``endpoint`` when
        that is given, else ``ecs.<region>.aliyuncs.com``.
    :param max_concurrency: the most worker threads for per-resource calls and listing pages, per account: the
        sessions of an account's regions share one pool, of ``min(max_concurrency, 2 × rate_limit × 0.5 s)``
        threads (at least 2; :func:`multiflow_alibaba.limits.pool_size`), since its rate limits are the account's.
    :param rate_limit: the starting rate of each API action where Alibaba documents none, calls per second across
        the threads of every session of the account; it then adapts to the cloud's throttling (see
        :mod:`multiflow_alibaba.retry`). ``None``: no limiting. Alibaba limits each API separately, per account, so
        polls and lookups do not take creates' turns and the regions of one account share the account's budget.
    :param rate_limit_known: ``rate_limit`` is the account's limit as far as you know: the limiters start there
        and do not probe fast above it (no slow start; they still follow the cloud's throttling, and probe 0.2 % a
        call once throttled). By default ``rate_limit`` is a guess, probed fast until the first throttle.
    :param burst: calls allowed at once before the rate applies (default: a third of a second's worth).
    :param max_attempts: attempts per call, the first included (1: no retries).
    :param retry_timeout: seconds after a call's first attempt past which it is not retried.
    :param settle_timeout: seconds ``modify`` waits for a flow log to leave a transitional state.
    :param connect_timeout: seconds to connect.
    :param read_timeout: seconds to wait for an answer.
    :param open_service: open the account's flow-log service (OpenFlowLogService) if it is not opened yet.
    :param role_arn: a RAM role to work as (``acs:ram::<account id>:role/<name>``): STS AssumeRole with the
        credentials above, once for every region of the account (shared, renewed before expiry); a refusal is an
        AuthError here, at connect, with the cloud's code (``EntityNotExist.Role``, ``NoPermission``...).
    :param role_session_name: the RoleSessionName (default ``multiflow``; shows in ActionTrail).
    :param external_id: the role's ExternalId, where its trust policy asks for one.
    :param role_duration: seconds the temporary credentials last (900 up to the role's maximum; default 3600).
    :param sts_endpoint: the STS endpoint; default ``endpoint`` when that is given, else the SDK's.
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
        profile_name: str | None = None,
        endpoint: str | None = None,
        protocol: str | None = None,
        ecs_endpoint: str | None = None,
        max_concurrency: int = 10,
        rate_limit: float | None = 20.0,
        rate_limit_known: bool = False,
        burst: float | None = None,
        max_attempts: int = 8,
        retry_timeout: float = 60.0,
        settle_timeout: float = 300.0,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        open_service: bool = False,
        role_arn: str | None = None,
        role_session_name: str = "multiflow",
        external_id: str | None = None,
        role_duration: int = DEFAULT_DURATION,
        sts_endpoint: str | None = None,
    ) -> None:
        self.region = region
        _check_key_pair(access_key_id, access_key_secret)
        if max_concurrency < 1:
            raise SpecError("max_concurrency", max_concurrency, "1 or more", provider="alibaba")
        self.endpoint = endpoint or os.environ.get(ENDPOINT_VARIABLE) or None
        caller: dict[str, Any] = {
            "access_key_id": access_key_id,
            "access_key_secret": access_key_secret,
            "security_token": security_token,
            "credential": credential,
            "profile_name": profile_name,
            "endpoint": self.endpoint,
            "protocol": protocol,
            "sts_endpoint": sts_endpoint,
            "max_attempts": max_attempts,
            "retry_timeout": retry_timeout,
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
        }
        # Whose rate limits the calls count against: the role's account, else the calling identity's (by its key
        # id or profile, never a secret).
        self._account_key = caller_key(caller)
        self._role: AssumedRole | None = None
        if role_arn is not None:
            match = _check_role(role_arn, role_session_name, role_duration)
            self._account_key = match.group("account")
            self._role = assumed_role(
                caller, region, role_arn, role_session_name, external_id=external_id, duration=role_duration
            )
            self._role.current()  # a refusal surfaces here, at connect, as the cloud's error
            access_key_id = access_key_secret = security_token = None
            credential = _role_credential(self._role)
        elif profile_name is not None and credential is None and access_key_id is None:
            credential = _profile_credential(profile_name)
        self.settle_timeout = settle_timeout
        try:
            self._transport = Transport(
                region,
                access_key_id=access_key_id,
                access_key_secret=access_key_secret,
                security_token=security_token,
                credential=credential,
                endpoint=self.endpoint,
                protocol=protocol or os.environ.get(PROTOCOL_VARIABLE) or None,
                ecs_endpoint=ecs_endpoint,
                pool_size=max_concurrency,
                rate_limit=rate_limit,
                burst=burst,
                max_attempts=max_attempts,
                retry_timeout=retry_timeout,
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                account=self._account_key,
                rate_known=rate_limit_known,
            )
        except MultiflowError:
            raise
        except Exception as exc:  # the SDK's configuration errors (a broken profile, a bad credential setting)
            raise AuthError(
                "alibaba",
                type(exc).__name__,
                f"{exc}; check ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_PROFILE "
                "and ~/.alibabacloud/credentials (or ALIBABA_CLOUD_CREDENTIALS_FILE)",
            ) from None
        # One pool per account, shared by its regions' sessions and sized from its limits (workers.py says why).
        self._workers = account_workers(self._account_key, pool_size(rate_limit, max_concurrency))
        self._reads = Reads(self._call, self._workers, region)
        self._service_opened: bool | None = None
        if open_service and not self.service_opened():
            self.open_service()

    def __repr__(self) -> str:
        # getattr: a session whose __init__ failed part-way (say, refusing its options) must still show itself.
        region = getattr(self, "region", "?")
        endpoint = getattr(self, "endpoint", None)
        role = getattr(self, "_role", None)
        who = f" as {role.role_arn}" if role is not None else ""
        return f"<AlibabaSession {region} {endpoint or 'default endpoint'}{who}>"

    # -- calling -------------------------------------------------------------------------------------------

    def _call(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        resource_id: str | None = None,
        before_retry: Callable[[ProviderError], Stop[Any] | None] | None = None,
    ) -> Any:
        """``action`` with ``params`` through the transport (retried); a closed flow-log service explained.

        Working as a role, temporary credentials the cloud calls expired are renewed (one AssumeRole for every
        thread and region of the account) and the call is made once more."""
        for attempt in (1, 2):
            used: TemporaryCredentials | None = self._role.current() if self._role is not None else None
            try:
                return self._transport.call(action, params, resource_id=resource_id, before_retry=before_retry)
            except ProviderError as exc:
                if used is not None and self._role is not None and exc.code in RENEW_CODES and attempt == 1:
                    log.debug("%s: temporary credentials of %s expired; assuming it again", action, self._role)
                    self._role.expired(used.access_key_id)
                    continue
                raise self._explain_service(exc) from None
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

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

    # -- reading ---------------------------------------------------------------------------------------

    def describe(self, query: DescribeQuery) -> list[FlowLog]:
        """Flow logs matching ``query``, all pages (50 a page); filters the cloud has are applied by it."""
        return self._reads.describe(query)

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        """The current state of ``ids``; ids that are gone are absent.

        With ``transitional`` (what the waiter passes) that state is listed a page at a time first; the cost of
        each way is in :mod:`multiflow_alibaba.reads`.
        """
        return self._reads.get(ids, transitional)

    def list_resources(self, kind: ResourceKind, tags: Mapping[str, str | None]) -> list[str]:
        """Ids of every VPC, vSwitch or ENI in the region whose tags match (``None``: any value), all pages.

        DescribeVpcs / DescribeVSwitches (VPC, 50 a page) and ECS DescribeNetworkInterfaces (100 a page); the tag
        filter is sent as ``Tag.N`` and checked again on what comes back.
        """
        filters = {"Tag": [{"Key": k, **({"Value": v} if v is not None else {})} for k, v in tags.items()]}
        id_key = item_id_key(kind)
        items = self._reads.listing(kind, filters, "resources.where")
        return [str(item[id_key]) for item in items if tags_match(resource_tags(item), tags)]

    def existing_resources(self, kind: ResourceKind, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` (VPCs, vSwitches or ENIs) that exist in the region: by id (DescribeVpcs 20 a call,
        DescribeVSwitches one, ECS DescribeNetworkInterfaces 100), or the region's listing where that is fewer
        calls (the cost is in :meth:`multiflow_alibaba.reads.Reads.existing`)."""
        return self._reads.existing(kind, ids)

    def inventory(self, kinds: Sequence[ResourceKind]) -> list[CloudResource]:
        """Every VPC, vSwitch and ENI of ``kinds`` with its VPC, vSwitch and tags, the kinds listed concurrently.

        One paginated listing per kind (DescribeVpcs and DescribeVSwitches 50 a page, ECS DescribeNetworkInterfaces
        100 a page): ``ceil(n/50)`` or ``ceil(n/100)`` calls for ``n`` resources, never one per resource.
        """
        wanted = list(dict.fromkeys(kinds))
        for kind in wanted:
            check_listable(kind, "kinds")
        listings = self._workers.all(lambda kind: (kind, self._reads.listing(kind, {}, "kinds")), wanted)
        return [
            CloudResource(
                kind=kind,
                id=str(item[item_id_key(kind)]),
                vpc_id=str(item["VpcId"]) if kind is not ResourceKind.VPC and item.get("VpcId") else None,
                subnet_id=(
                    str(item["VSwitchId"]) if kind is ResourceKind.NETWORK_INTERFACE and item.get("VSwitchId") else None
                ),
                tags=resource_tags(item),
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
        # Resources plan's listing of the region showed without a flow log are not looked up again.
        known_bare = self._reads.without_flow_logs(job["ResourceId"] for job in jobs)
        try:
            for record in self._reads.find(
                "ResourceId", [j["ResourceId"] for j in jobs if j["ResourceId"] not in known_bare]
            ):
                existing.setdefault(record.get("ResourceId", ""), []).append(record)
        except ProviderError as exc:
            outcome.failed += [ResourceFailure(job["ResourceId"], exc.about(job["ResourceId"])) for job in jobs]
            return outcome
        for job, flow_log, error in self._workers.each(lambda job: self._create_one(job, existing), jobs):
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
            records = self._reads.records({"ResourceId": resource_id})
            match = [r for r in records if not differences(r, params) and r.get("Status") != "Deleting"]
            if match:
                log.info("CreateFlowLog %s: answer lost, adopting %s", resource_id, match[0].get("FlowLogId"))
                return Stop(self._reads.flow_log(match[0]))
            return None

        try:
            body = self._call("CreateFlowLog", params, resource_id=resource_id, before_retry=look_again)
        except AlreadyExists as exc:
            records = self._reads.records({"ResourceId": resource_id})
            if not records:
                raise
            return self._adopt(params, records, cause=exc)
        if isinstance(body, FlowLog):  # adopted by look_again
            return body
        made = flow_log_from_params(str(body["FlowLogId"]), params, body)
        self._reads.remember(made)
        return made

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
                return self._reads.flow_log(record)
        if not live:
            raise ERROR_TABLE.error(
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
                status = self._reads.status_of(flow_log_id)
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
        for flow_log_id, _, error in self._workers.each(one, list(dict.fromkeys(ids))):
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

    def start(self, ids: Sequence[str]) -> SwitchOutcome:
        """ActiveFlowLog per id; one already active or activating counts as started."""
        outcome = self._act("ActiveFlowLog", ids, (FlowLogStatus.ACTIVE, FlowLogStatus.ACTIVATING))
        return SwitchOutcome(outcome.deleted, outcome.failed)

    def stop(self, ids: Sequence[str]) -> SwitchOutcome:
        """DeactiveFlowLog per id; one already inactive or deactivating counts as stopped."""
        outcome = self._act("DeactiveFlowLog", ids, (FlowLogStatus.INACTIVE, FlowLogStatus.DEACTIVATING))
        return SwitchOutcome(outcome.deleted, outcome.failed)

    # -- modify ----------------------------------------------------------------------------------------

    def wait_settled(self, flow_log_id: str, timeout: float | None = None) -> FlowLog:
        """Wait until the flow log is ``active`` or ``inactive`` (exact states, not a string match), and return it.

        Polls one DescribeFlowLogs per try, sleeping by :data:`SETTLE_BACKOFF` (0.2 s doubling to 5 s, equal
        jitter) for at most ``timeout`` seconds (default ``settle_timeout``); raises NotFound if it is gone,
        Conflict if it is being deleted and WaitTimeout naming it if it does not settle in time.
        """
        # Not the core's wait_until: it waits for one wanted state (here either of two will do), waits through
        # ``deleting`` (here that is a Conflict at once) and lists the whole transitional state per poll (here one
        # id is looked up, one call).
        limit = self.settle_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        rng = random.Random()
        attempt = 0
        while True:
            flow_log = self._reads.one(flow_log_id)
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
            time.sleep(min(left, SETTLE_BACKOFF.delay(attempt, rng)))
            attempt += 1

    def modify(self, flow_log_id: str, changes: ModifyChanges) -> None:
        """Change the flow log in place, once it is settled (the cloud refuses changes while a flow log is
        Activating or Deactivating, so this first waits, bounded by ``settle_timeout``, for Active or Inactive):

        - name, description, interval and ``ip_version``: one ModifyFlowLogAttribute;
        - ``resource_group_id``: MoveResourceGroup (``ResourceType`` FLOWLOG), if it is another group;
        - tags (the user tags as they should be, whole): UnTagResources for the user tags to drop, then
          TagResources for those to add or change (``ResourceType`` FLOWLOG); ``multiflow:`` tags are never touched.
        """
        options = dict(changes.options or {})
        unknown = sorted(set(options) - _MODIFIABLE_OPTIONS)
        if unknown:
            raise UnsupportedFeature(
                f"options.alibaba.{unknown[0]}",
                options[unknown[0]],
                f"in-place changes of {', '.join(sorted(_MODIFIABLE_OPTIONS))}",
                provider="alibaba",
                reason="other options change by replacing the flow log",
            )
        params: dict[str, Any] = {"FlowLogId": flow_log_id}
        if changes.name is not None:
            params["FlowLogName"] = changes.name
        if changes.description is not None:
            params["Description"] = changes.description
        if changes.interval is not None:
            if changes.interval not in INTERVALS:
                raise SpecError("interval", changes.interval, INTERVALS, provider="alibaba", reason="seconds")
            params["AggregationInterval"] = changes.interval // 60
        if options.get("ip_version") is not None:
            params["IpVersion"] = options["ip_version"]
        group = options.get("resource_group_id")
        if len(params) == 1 and group is None and changes.tags is None:
            return
        current = self.wait_settled(flow_log_id)
        if len(params) > 1:
            self._call("ModifyFlowLogAttribute", params, resource_id=flow_log_id)
        if group is not None and getattr(current.options, "resource_group_id", None) != group:
            self._call(
                "MoveResourceGroup",
                {"ResourceId": flow_log_id, "ResourceType": "FLOWLOG", "NewResourceGroupId": group},
                resource_id=flow_log_id,
            )
        if changes.tags is not None:
            self._retag(flow_log_id, user_tags(current.tags), dict(changes.tags))

    def add_tags(self, flow_log_ids: Sequence[str], tags: Mapping[str, str]) -> None:
        """TagResources on flow logs (:class:`multiflow.provider.TagWriter`, for adopt): add ``tags``, or overwrite
        those of the same key, multiflow's own included; 50 flow logs a call, the most TagResources takes."""
        listed = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
        ids = list(flow_log_ids)
        for start in range(0, len(ids), TAG_RESOURCES_PER_CALL):
            batch = ids[start : start + TAG_RESOURCES_PER_CALL]
            self._call("TagResources", {"ResourceType": "FLOWLOG", "ResourceId": batch, "Tag": listed})

    def _retag(self, flow_log_id: str, have: Mapping[str, str], want: Mapping[str, str]) -> None:
        """Make the user tags ``want`` out of ``have``: drop first (so the count stays under the limit), then add."""
        drop = sorted(key for key in have if key not in want)
        add = {key: value for key, value in sorted(want.items()) if have.get(key) != value}
        target = {"ResourceType": "FLOWLOG", "ResourceId": [flow_log_id]}
        if drop:
            self._call("UnTagResources", {**target, "TagKey": drop}, resource_id=flow_log_id)
        if add:
            tags = [{"Key": key, "Value": value} for key, value in add.items()]
            self._call("TagResources", {**target, "Tag": tags}, resource_id=flow_log_id)

    def list_regions(self) -> RegionListing:
        """Every region the account can use: VPC DescribeRegions, one call (it names no region it would skip)."""
        body = self._call("DescribeRegions", {"AcceptLanguage": "en-US"})
        container = body.get("Regions") if isinstance(body, dict) else None
        items = container.get("Region") if isinstance(container, dict) else None
        names = {str(i["RegionId"]) for i in items or [] if isinstance(i, dict) and i.get("RegionId")}
        return RegionListing(enabled=sorted(names))

    def close(self) -> None:
        """Give the account's worker pool back (its threads stop when its last session closes; the SDK keeps no
        other resource of ours)."""
        self._workers.close()


def _check_role(role_arn: str, session_name: str, duration: int) -> re.Match[str]:
    """SpecErrors naming the option, before any call: a role ARN, a session name and a duration STS takes."""
    match = ROLE_ARN.match(role_arn) if isinstance(role_arn, str) else None
    if match is None:
        raise SpecError(
            "role_arn",
            role_arn,
            "a RAM role ARN acs:ram::<account id>:role/<role name>, lower-case as Alibaba writes it",
            provider="alibaba",
        )
    if not isinstance(session_name, str) or not SESSION_NAME.match(session_name):
        raise SpecError("role_session_name", session_name, "2 to 64 letters, digits and . @ - _", provider="alibaba")
    if not isinstance(duration, int) or isinstance(duration, bool) or not 900 <= duration <= 43200:
        raise SpecError("role_duration", duration, "seconds from 900 to 43200 (the role's maximum)", provider="alibaba")
    return match


def _role_credential(role: AssumedRole) -> Any:
    """A credentials client that asks ``role`` for its current temporary keys at every request."""
    from alibabacloud_credentials.client import Client as CredentialClient

    return CredentialClient(provider=role)


def _profile_credential(profile_name: str) -> Any:
    """The credential of one profile of the Alibaba Cloud CLI's configuration (read at the first call)."""
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.provider.cli_profile import CLIProfileCredentialsProvider

    return CredentialClient(provider=CLIProfileCredentialsProvider(profile_name=profile_name))


def _check_key_pair(access_key_id: str | None, access_key_secret: str | None) -> None:
    """A SpecError naming the missing half when only one of an AccessKey pair is given (never showing the other)."""
    if (access_key_id is None) == (access_key_secret is None):
        return
    given, missing = (
        ("access_key_id", "access_key_secret") if access_key_secret is None else ("access_key_secret", "access_key_id")
    )
    raise SpecError(
        missing,
        None,
        f"a value, since {given} is given",
        provider="alibaba",
        reason="an AccessKey pair is given whole, or not at all to use the credential chain",
    )
