"""ExampleCloud: a tiny flow-log cloud served over HTTP on loopback (multiflow.loopback), standard library only.

It stands in for a real cloud's API so that the example provider has something real to talk to: JSON over HTTP,
bearer-token authentication, request ids, error codes with HTTP statuses, pagination, per-resource failures in a
successful answer, idempotency tokens, and asynchronous states (``PROVISIONING`` → ``ACTIVE``; ``DELETING`` → gone).

The API: ``POST /v1/<Operation>`` with a JSON object; ``Authorization: Bearer <api key>``.

====================  ======================================================================================
``CreateFlowLogs``    ``region, resource_type (network|subnetwork), resource_ids (≤10), bucket, prefix?,
                      traffic? (ALL|ALLOWED|DENIED), interval_seconds? (30|60|300), fields?, display_name?,
                      description?, labels?, sampling?, client_token?`` → ``flow_logs``, ``failures``
``ListFlowLogs``      ``region, ids?, resource_ids?, resource_type?, labels? (value null: any), page_size? (≤20),
                      page_token?`` → ``flow_logs``, ``next_page_token``
``DeleteFlowLog``     ``region, id`` → ``flow_log`` (``DELETING``)
``ListResources``     ``region, resource_type, labels?, page_token?`` → ``resources`` (``id``, ``network``,
                      ``labels``), ``next_page_token``
``GetIdentity``       ``{}`` → ``account_id``, ``organization`` (the management account's id)
``ListAccounts``      ``page_size? (≤10), page_token?`` → ``accounts`` (``id``, ``name``, ``unit``, ``labels``,
                      ``status`` ACTIVE|SUSPENDED, ``management``), ``next_page_token``; management key only
``AssumeAccount``     ``account_id, session_name?`` → ``credentials`` (``api_key``, ``expires_in`` seconds,
                      ``expiration``): a short-lived key for a member; management key only
``ListRegions``       ``{}`` → ``regions`` (``name``, ``status`` ENABLED|NOT_ENABLED) of the caller's account
====================  ======================================================================================

**An organization.** Every key belongs to an account; each account has its own resources and flow logs, per
region. The management account (:data:`MANAGEMENT_ACCOUNT`) lists the members and enters one with
``AssumeAccount``, unless the member refuses it (``AccessDenied``). ``local-3`` is an opt-in region: a call there
from an account that has not enabled it answers ``RegionNotEnabled``. Buckets are one namespace for all accounts
(an organization's members deliver to a central bucket). The last four operations are account-wide and take no
``region``.

Errors answer ``{"error": {"code": ..., "message": ...}, "request_id": ...}`` with the code's HTTP status.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler
from typing import Any

from multiflow.loopback import LoopbackHTTPServer, LoopbackServer

__all__ = ["MANAGEMENT_ACCOUNT", "OPT_IN_REGIONS", "REGIONS", "STATUSES", "CloudError", "ExampleCloud"]

REGIONS = ("local-1", "local-2", "local-3")
#: Regions an account must enable before it can use them (members do not, unless added with them).
OPT_IN_REGIONS = ("local-3",)
#: The account of every key added without an account: the organization's management account.
MANAGEMENT_ACCOUNT = "100000000000"
ACCOUNT_PAGE_SIZE = 10
#: Seconds an AssumeAccount key is good for, by default.
KEY_LIFETIME = 900.0
#: Operations about the caller's account or organization, not a region: they take no ``region``.
ACCOUNT_WIDE = ("GetIdentity", "ListAccounts", "AssumeAccount", "ListRegions")
RESOURCE_TYPES = ("network", "subnetwork")
TRAFFIC = ("ALL", "ALLOWED", "DENIED")
INTERVALS = (30, 60, 300)
FIELDS = ("srcIp", "dstIp", "srcPort", "dstPort", "protocol", "packets", "bytes", "startTime", "endTime", "disposition")
IDS_PER_CALL = 10
PAGE_SIZE = 20
MAX_LABELS = 16

#: Every error code the cloud sends, with its HTTP status.
STATUSES: dict[str, int] = {
    "InvalidArgument": 400,
    "Unauthenticated": 401,
    "ExpiredToken": 401,
    "PermissionDenied": 403,
    "AccessDenied": 403,
    "RegionNotEnabled": 403,
    "QuotaExceeded": 403,
    "AccountNotFound": 404,
    "ResourceNotFound": 404,
    "BucketNotFound": 404,
    "FlowLogNotFound": 404,
    "UnknownOperation": 404,
    "FlowLogExists": 409,
    "FailedPrecondition": 409,
    "AccountSuspended": 409,
    "RateLimited": 429,
    "Internal": 500,
    "Unavailable": 503,
}


class CloudError(Exception):
    """An error answer: the code, its HTTP status and a message."""

    def __init__(self, code: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status or STATUSES.get(code, 400)


@dataclass
class _FlowLog:
    record: dict[str, Any]
    ready_at: float
    gone_at: float | None = None
    held: bool = False


@dataclass
class _Account:
    """One account: who it is in the organization, and its own estate."""

    id: str
    name: str
    unit: str = "root"
    labels: dict[str, str] = field(default_factory=dict)
    status: str = "ACTIVE"
    enterable: bool = True
    regions: set[str] = field(default_factory=lambda: set(REGIONS))
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    flow_logs: dict[str, _FlowLog] = field(default_factory=dict)
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class _Key:
    account: str
    expires_at: float | None = None  # time.monotonic(); None: a long-lived key


@dataclass
class _State:
    keys: dict[str, _Key] = field(default_factory=dict)
    accounts: dict[str, _Account] = field(
        default_factory=lambda: {MANAGEMENT_ACCOUNT: _Account(MANAGEMENT_ACCOUNT, "management")}
    )
    buckets: set[str] = field(default_factory=set)
    failures: dict[str, list[CloudError]] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)


class ExampleCloud:
    """The cloud, served on ``127.0.0.1`` (a free port unless ``port`` is given) while started.

    :param activation_delay: seconds a new flow log stays ``PROVISIONING``.
    :param deletion_delay: seconds a deleted flow log stays ``DELETING`` before it is gone.
    :param quota: flow logs a region of an account may hold.
    :param key_lifetime: seconds a key from ``AssumeAccount`` is good for.
    """

    def __init__(
        self,
        port: int = 0,
        activation_delay: float = 0.2,
        deletion_delay: float = 0.1,
        quota: int = 1000,
        key_lifetime: float = KEY_LIFETIME,
    ) -> None:
        self.activation_delay = activation_delay
        self.deletion_delay = deletion_delay
        self.quota = quota
        self.key_lifetime = key_lifetime
        self._state = _State()
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server = LoopbackServer(_Handler, context=self, port=port, name="example-cloud")

    def __repr__(self) -> str:
        return f"<ExampleCloud {self.endpoint if self._server.running else 'stopped'}>"

    # -- serving -----------------------------------------------------------------------------------------------

    def start(self) -> ExampleCloud:
        """Start serving in a thread; returns self."""
        self._server.start()
        return self

    def stop(self) -> None:
        """Stop serving (open connections closed too); safe to call twice."""
        self._server.stop()

    def __enter__(self) -> ExampleCloud:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:PORT`` (only while started)."""
        if not self._server.running:
            raise RuntimeError("the cloud is not started")
        return self._server.url

    # -- seeding and test knobs --------------------------------------------------------------------------------

    def add_api_key(self, key: str, account: str = MANAGEMENT_ACCOUNT) -> None:
        """Accept ``key`` as a bearer token of ``account`` (a long-lived key)."""
        with self._lock:
            self._account(account)
            self._state.keys[key] = _Key(account)

    def add_account(
        self,
        account_id: str | None = None,
        name: str | None = None,
        unit: str = "root",
        labels: Mapping[str, str] | None = None,
        *,
        regions: tuple[str, ...] | None = None,
        enterable: bool = True,
        status: str = "ACTIVE",
    ) -> str:
        """Add a member account to the organization (the next free id unless given) and return its id.

        :param regions: the regions it has enabled; default every region but the opt-in ones.
        :param enterable: whether it lets the management account in (``AssumeAccount``; else ``AccessDenied``).
        :param status: ``ACTIVE`` or ``SUSPENDED`` (a suspended member cannot be entered).
        """
        enabled = set(regions if regions is not None else (r for r in REGIONS if r not in OPT_IN_REGIONS))
        if not enabled <= set(REGIONS) or status not in ("ACTIVE", "SUSPENDED"):
            raise ValueError(f"regions among {REGIONS}, status ACTIVE or SUSPENDED")
        with self._lock:
            accounts = self._state.accounts
            made = account_id or next(
                f"{n:012d}" for n in itertools.count(int(MANAGEMENT_ACCOUNT) + 1) if f"{n:012d}" not in accounts
            )
            if len(made) != 12 or not made.isdigit() or made in accounts:
                raise ValueError(f"account id {made!r}: 12 digits, not in use")
            accounts[made] = _Account(
                made, name or f"member-{made[-4:]}", unit, dict(labels or {}), status, enterable, enabled
            )
            return made

    def set_account(
        self, account_id: str, *, enterable: bool | None = None, status: str | None = None, region: str | None = None
    ) -> None:
        """Change a member: whether it may be entered, its status, or enable one more ``region``."""
        with self._lock:
            account = self._account(account_id)
            if enterable is not None:
                account.enterable = enterable
            if status is not None:
                account.status = status
            if region is not None:
                account.regions.add(region)

    def accounts(self) -> list[str]:
        """Every account's id, the management account's first."""
        with self._lock:
            return sorted(self._state.accounts)

    def _account(self, account_id: str) -> _Account:
        found = self._state.accounts.get(account_id)
        if found is None:
            raise ValueError(f"no account {account_id} in the organization")
        return found

    def add_resource(
        self,
        region: str,
        resource_type: str,
        resource_id: str | None = None,
        labels: Mapping[str, str] | None = None,
        network: str | None = None,
        *,
        account: str = MANAGEMENT_ACCOUNT,
    ) -> str:
        """Add a network, or a subnetwork of ``network`` (a new one if not given), in ``account``; return its id."""
        if resource_type not in RESOURCE_TYPES or region not in REGIONS:
            raise ValueError(f"resource_type in {RESOURCE_TYPES}, region in {REGIONS}")
        if resource_type == "subnetwork" and network is None:
            network = self.add_resource(region, "network", account=account)
        prefix = "net-" if resource_type == "network" else "subnet-"
        with self._lock:
            resources = self._account(account).resources
            made = resource_id or f"{prefix}{next(self._ids):08x}"
            if made in resources:
                raise ValueError(f"resource id {made} already in use")
            resources[made] = {
                "id": made,
                "region": region,
                "type": resource_type,
                "network": network,
                "labels": dict(labels or {}),
            }
            return made

    def add_bucket(self, name: str) -> None:
        """Add a bucket that flow logs may deliver to."""
        with self._lock:
            self._state.buckets.add(name)

    def fail_next(self, operation: str, code: str, message: str | None = None, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``operation`` (``"*"``: any) with ``code``, changing nothing."""
        with self._lock:
            self._state.failures.setdefault(operation, []).extend(
                [CloudError(code, message or f"{code} (injected)")] * times
            )

    def clear_failures(self) -> None:
        """Forget every :meth:`fail_next` not yet used."""
        with self._lock:
            self._state.failures.clear()

    def hold(self, flow_log_id: str, held: bool = True) -> None:
        """Keep a flow log in its state (``PROVISIONING`` stays so) until held again with ``held=False``."""
        with self._lock:
            for account in self._state.accounts.values():
                if flow_log_id in account.flow_logs:
                    account.flow_logs[flow_log_id].held = held
                    return
            raise KeyError(flow_log_id)

    def flow_logs(self, account: str | None = None) -> list[dict[str, Any]]:
        """A snapshot of the records of every flow log of ``account`` (``None``: of every account), each with the
        ``account_id`` it is in."""
        with self._lock:
            self._settle()
            return [
                {**f.record, "account_id": held.id}
                for held in self._state.accounts.values()
                if account is None or held.id == account
                for f in held.flow_logs.values()
            ]

    @property
    def calls(self) -> dict[str, int]:
        """Calls received per operation."""
        with self._lock:
            return dict(self._state.calls)

    # -- the API -----------------------------------------------------------------------------------------------

    def handle(self, operation: str, token: str | None, body: Mapping[str, Any]) -> dict[str, Any]:
        """Answer one call, or raise :class:`CloudError`."""
        with self._lock:
            self._state.calls[operation] = self._state.calls.get(operation, 0) + 1
            key = self._state.keys.get(token or "")
            if key is None:
                raise CloudError("Unauthenticated", "missing or unknown API key")
            if key.expires_at is not None and key.expires_at <= time.monotonic():
                raise CloudError("ExpiredToken", "the key has expired; assume the account again")
            for queue in (operation, "*"):
                queued = self._state.failures.get(queue)
                if queued:
                    raise queued.pop(0)
            account = self._state.accounts[key.account]
            if operation in ACCOUNT_WIDE:
                return _ACCOUNT_OPERATIONS[operation](self, account, body)
            handler = _OPERATIONS.get(operation)
            if handler is None:
                raise CloudError("UnknownOperation", f"no operation {operation}")
            region = body.get("region")
            if region not in REGIONS:
                raise CloudError("InvalidArgument", f"region must be one of {', '.join(REGIONS)}")
            if region not in account.regions:
                raise CloudError("RegionNotEnabled", f"region {region} is not enabled for account {account.id}")
            self._settle()
            return handler(self, account, body)

    def _settle(self) -> None:
        now = time.monotonic()
        for account in self._state.accounts.values():
            for flow_log_id, flow_log in list(account.flow_logs.items()):
                if flow_log.held:
                    continue
                state = flow_log.record["state"]
                if state == "PROVISIONING" and flow_log.ready_at <= now:
                    flow_log.record["state"] = "ACTIVE"
                elif state == "DELETING" and flow_log.gone_at is not None and flow_log.gone_at <= now:
                    del account.flow_logs[flow_log_id]

    # -- account-wide operations ---------------------------------------------------------------------------------

    def _identity(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        return {"account_id": account.id, "organization": MANAGEMENT_ACCOUNT}

    def _list_accounts(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        if account.id != MANAGEMENT_ACCOUNT:
            raise CloudError("AccessDenied", f"account {account.id} is not the organization's management account")
        size = body.get("page_size", ACCOUNT_PAGE_SIZE)
        if not isinstance(size, int) or not 1 <= size <= ACCOUNT_PAGE_SIZE:
            raise CloudError("InvalidArgument", f"page_size: 1 to {ACCOUNT_PAGE_SIZE}")
        listed = [
            {
                "id": a.id,
                "name": a.name,
                "unit": a.unit,
                "labels": dict(a.labels),
                "status": a.status,
                "management": a.id == MANAGEMENT_ACCOUNT,
            }
            for _, a in sorted(self._state.accounts.items())
        ]
        page, next_token = _page(listed, body.get("page_token"), size)
        return {"accounts": page, "next_page_token": next_token}

    def _assume(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        wanted = body.get("account_id")
        if not isinstance(wanted, str) or not wanted:
            raise CloudError("InvalidArgument", "account_id: required")
        if account.id != MANAGEMENT_ACCOUNT:
            raise CloudError("AccessDenied", f"account {account.id} may not enter other accounts")
        member = self._state.accounts.get(wanted)
        if member is None:
            raise CloudError("AccountNotFound", f"no account {wanted} in the organization")
        if member.status != "ACTIVE":
            raise CloudError("AccountSuspended", f"account {wanted} is {member.status}")
        if not member.enterable:
            raise CloudError("AccessDenied", f"account {wanted} does not let account {account.id} enter it")
        now = time.monotonic()
        keys = self._state.keys
        for expired in [k for k, v in keys.items() if v.expires_at is not None and v.expires_at <= now]:
            del keys[expired]  # so that a long-running sandbox keeps only the keys still good
        key = f"tmp-{uuid.uuid4().hex}"
        keys[key] = _Key(member.id, now + self.key_lifetime)
        expiration = datetime.now(timezone.utc).timestamp() + self.key_lifetime
        return {
            "account_id": member.id,
            "credentials": {
                "api_key": key,
                "expires_in": self.key_lifetime,
                "expiration": datetime.fromtimestamp(expiration, timezone.utc).isoformat(),
            },
        }

    def _regions(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "regions": [{"name": r, "status": "ENABLED" if r in account.regions else "NOT_ENABLED"} for r in REGIONS]
        }

    # -- regional operations -------------------------------------------------------------------------------------

    def _create(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        token = body.get("client_token")
        if token and token in account.tokens:
            return account.tokens[token]
        settings = _create_settings(body)
        ids = body.get("resource_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= IDS_PER_CALL:
            raise CloudError("InvalidArgument", f"resource_ids: 1 to {IDS_PER_CALL} ids")
        if settings["bucket"] not in self._state.buckets:
            raise CloudError("BucketNotFound", f"bucket {settings['bucket']} does not exist")
        made: list[dict[str, Any]] = []
        failures: list[dict[str, str]] = []
        for resource_id in ids:
            try:
                made.append(self._create_one(account, str(resource_id), body["region"], settings))
            except CloudError as exc:
                failures.append({"resource_id": str(resource_id), "code": exc.code, "message": exc.message})
        answer = {"flow_logs": made, "failures": failures}
        if token:
            account.tokens[token] = answer
        return answer

    def _create_one(self, account: _Account, resource_id: str, region: str, settings: dict[str, Any]) -> dict[str, Any]:
        resource = account.resources.get(resource_id)
        if resource is None or resource["region"] != region or resource["type"] != settings["resource_type"]:
            raise CloudError("ResourceNotFound", f"{settings['resource_type']} {resource_id} does not exist")
        for flow_log in account.flow_logs.values():
            record = flow_log.record
            if record["resource_id"] == resource_id and record["bucket"] == settings["bucket"]:
                raise CloudError("FlowLogExists", f"{resource_id} already has flow log {record['id']} to that bucket")
        if sum(f.record["region"] == region for f in account.flow_logs.values()) >= self.quota:
            raise CloudError("QuotaExceeded", f"at most {self.quota} flow logs a region")
        record = {
            "id": f"efl-{uuid.uuid4().hex[:12]}",
            "region": region,
            "resource_id": resource_id,
            "state": "PROVISIONING",
            "create_time": datetime.now(timezone.utc).isoformat(),
            **settings,
        }
        account.flow_logs[record["id"]] = _FlowLog(record, ready_at=time.monotonic() + self.activation_delay)
        return dict(record)

    def _list(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        size = body.get("page_size", PAGE_SIZE)
        if not isinstance(size, int) or not 1 <= size <= PAGE_SIZE:
            raise CloudError("InvalidArgument", f"page_size: 1 to {PAGE_SIZE}")
        ids, resource_ids = set(body.get("ids") or ()), set(body.get("resource_ids") or ())
        wanted_type, labels = body.get("resource_type"), body.get("labels") or {}
        matching = [
            dict(f.record)
            for f in account.flow_logs.values()
            if f.record["region"] == body["region"]
            and (not ids or f.record["id"] in ids)
            and (not resource_ids or f.record["resource_id"] in resource_ids)
            and (wanted_type is None or f.record["resource_type"] == wanted_type)
            and _labels_match(f.record["labels"], labels)
        ]
        page, next_token = _page(matching, body.get("page_token"), size)
        return {"flow_logs": page, "next_page_token": next_token}

    def _delete(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        flow_log = account.flow_logs.get(str(body.get("id")))
        if flow_log is None or flow_log.record["region"] != body["region"]:
            raise CloudError("FlowLogNotFound", f"flow log {body.get('id')} does not exist")
        if flow_log.record["state"] == "PROVISIONING":
            raise CloudError("FailedPrecondition", "the flow log is still provisioning; try again when ACTIVE")
        if flow_log.record["state"] != "DELETING":
            flow_log.record["state"] = "DELETING"
            flow_log.gone_at = time.monotonic() + self.deletion_delay
        return {"flow_log": dict(flow_log.record)}

    def _resources(self, account: _Account, body: Mapping[str, Any]) -> dict[str, Any]:
        if body.get("resource_type") not in RESOURCE_TYPES:
            raise CloudError("InvalidArgument", f"resource_type: one of {', '.join(RESOURCE_TYPES)}")
        labels = body.get("labels") or {}
        matching = [
            {"id": r["id"], "network": r["network"], "labels": dict(r["labels"])}
            for r in account.resources.values()
            if r["region"] == body["region"]
            and r["type"] == body["resource_type"]
            and _labels_match(r["labels"], labels)
        ]
        page, next_token = _page(matching, body.get("page_token"), PAGE_SIZE)
        return {"resources": page, "next_page_token": next_token}


_Operation = Callable[[ExampleCloud, _Account, Mapping[str, Any]], dict[str, Any]]

_OPERATIONS: dict[str, _Operation] = {
    "CreateFlowLogs": ExampleCloud._create,
    "ListFlowLogs": ExampleCloud._list,
    "DeleteFlowLog": ExampleCloud._delete,
    "ListResources": ExampleCloud._resources,
}

_ACCOUNT_OPERATIONS: dict[str, _Operation] = {
    "GetIdentity": ExampleCloud._identity,
    "ListAccounts": ExampleCloud._list_accounts,
    "AssumeAccount": ExampleCloud._assume,
    "ListRegions": ExampleCloud._regions,
}


def _create_settings(body: Mapping[str, Any]) -> dict[str, Any]:
    """The settings of a CreateFlowLogs body, checked; InvalidArgument names the first bad one."""

    def check(ok: bool, message: str) -> None:
        if not ok:
            raise CloudError("InvalidArgument", message)

    resource_type = body.get("resource_type")
    check(resource_type in RESOURCE_TYPES, f"resource_type: one of {', '.join(RESOURCE_TYPES)}")
    bucket = body.get("bucket")
    check(isinstance(bucket, str) and bool(bucket), "bucket: required")
    traffic = body.get("traffic", "ALL")
    check(traffic in TRAFFIC, f"traffic: one of {', '.join(TRAFFIC)}")
    interval = body.get("interval_seconds", 60)
    check(interval in INTERVALS, f"interval_seconds: one of {', '.join(map(str, INTERVALS))}")
    fields = body.get("fields")
    check(fields is None or (isinstance(fields, list) and set(fields) <= set(FIELDS)), f"fields: among {FIELDS}")
    name, description = body.get("display_name"), body.get("description")
    check(name is None or 1 <= len(name) <= 63, "display_name: 1 to 63 characters")
    check(description is None or 1 <= len(description) <= 256, "description: 1 to 256 characters")
    labels = body.get("labels") or {}
    check(len(labels) <= MAX_LABELS, f"labels: at most {MAX_LABELS}")
    check(all(1 <= len(k) <= 128 and len(v) <= 256 for k, v in labels.items()), "labels: keys ≤128, values ≤256")
    sampling = body.get("sampling", 1.0)
    check(isinstance(sampling, (int, float)) and 0 < sampling <= 1, "sampling: more than 0, at most 1")
    return {
        "resource_type": resource_type,
        "bucket": bucket,
        "prefix": body.get("prefix"),
        "traffic": traffic,
        "interval_seconds": interval,
        "fields": fields,
        "display_name": name,
        "description": description,
        "labels": dict(labels),
        "sampling": float(sampling),
    }


def _labels_match(labels: Mapping[str, str], wanted: Mapping[str, str | None]) -> bool:
    return all(key in labels and (value is None or labels[key] == value) for key, value in wanted.items())


def _page(items: list[dict[str, Any]], token: object, size: int) -> tuple[list[dict[str, Any]], str | None]:
    try:
        start = int(str(token)) if token else 0
    except ValueError:
        raise CloudError("InvalidArgument", "page_token: not one this cloud gave") from None
    end = start + size
    return items[start:end], (str(end) if end < len(items) else None)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer[ExampleCloud]

    def do_POST(self) -> None:
        cloud = self.server.context
        request_id = str(uuid.uuid4())
        status, answer = 200, {}
        try:
            if not self.path.startswith("/v1/"):
                raise CloudError("UnknownOperation", f"no route {self.path}")
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                raise CloudError("InvalidArgument", "the body is not JSON") from None
            if not isinstance(body, dict):
                raise CloudError("InvalidArgument", "the body must be a JSON object")
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer ") :] if auth.startswith("Bearer ") else None
            answer = cloud.handle(self.path[len("/v1/") :], token, body)
        except CloudError as exc:
            status, answer = exc.status, {"error": {"code": exc.code, "message": exc.message}}
        payload = json.dumps({**answer, "request_id": request_id}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Request-Id", request_id)
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: the tests read answers, not logs
