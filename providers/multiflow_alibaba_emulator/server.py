"""The HTTP handler and :class:`AlibabaEmulator`, the public face of the emulator.

The server itself is :class:`multiflow.loopback.LoopbackServer` (127.0.0.1 only, tracked connections closed on
stop, bounded joins): the one module of multiflow the emulator imports, itself standard library only.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from collections import Counter
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any

from multiflow.loopback import LOOPBACK, LoopbackHTTPServer, LoopbackServer

from .actions import business_status
from .clock import Clock
from .dispatch import Dispatcher
from .faults import Faults
from .state import (
    DEFAULT_ACCOUNT_ID,
    FLOW_LOG_STATUSES,
    AccessKeyRecord,
    Cloud,
    Directory,
    Folder,
    Member,
    NetworkInterface,
    Role,
    Vpc,
    VSwitch,
)
from .views import flow_log_view

logger = logging.getLogger("multiflow_alibaba_emulator")

_JOIN_TIMEOUT = 5.0
#: The role every member account of a Resource Directory gets, trusting the management account.
ACCESS_ROLE = "ResourceDirectoryAccountAccessRole"


class _Handler(BaseHTTPRequestHandler):
    """Reads a request, hands it to the dispatcher, writes (or withholds) the answer."""

    protocol_version = "HTTP/1.1"  # keep-alive: the SDK pools its connections
    disable_nagle_algorithm = True  # headers and body go out in two writes; Nagle would delay the second
    timeout = 60  # idle keep-alive connections are closed after this many seconds
    server_version = "AlibabaCloudEmulator"
    sys_version = ""
    server: LoopbackHTTPServer[Dispatcher]

    def do_POST(self) -> None:
        """Serve a POST (what the SDK sends)."""
        self._serve()

    def do_GET(self) -> None:
        """Serve a GET (the cloud accepts RPC calls either way)."""
        self._serve()

    def do_PUT(self) -> None:
        """Answer ``UnsupportedHTTPMethod`` in the cloud's JSON (so do DELETE and PATCH)."""
        self._serve()

    do_DELETE = do_PATCH = do_PUT

    def log_message(self, format: str, *args: Any) -> None:
        """Log to the ``multiflow_alibaba_emulator`` logger at debug level instead of stderr."""
        logger.debug("%s " + format, self.address_string(), *args)

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.send_error(400, "Bad Content-Length")
            return
        body = self.rfile.read(length) if length > 0 else b""
        headers: dict[str, list[str]] = {}
        for name, value in self.headers.items():
            headers.setdefault(name.lower(), []).append(value)
        response = self.server.context.handle(self.command, self.path, headers, body)
        if response is None:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)


class AlibabaEmulator:
    """A wire-level emulator of Alibaba Cloud's VPC flow-log API for the official, unmodified SDK.

    It listens on ``127.0.0.1`` (only) on a free port, verifies ACS3-HMAC-SHA256 signatures against each
    account's secret, and answers in the cloud's JSON shapes and HTTP statuses::

        with AlibabaEmulator(activation_delay=2.0) as emu:
            emu.add_account("LTAIexample", "secret")
            vpc = emu.add_vpc("cn-hangzhou")
            emu.add_logstore("cn-hangzhou", "my-project", "my-logstore")
            config = Config(access_key_id="LTAIexample", access_key_secret="secret",
                            endpoint=emu.endpoint, protocol="http", region_id="cn-hangzhou")

    Delays are seconds on ``clock`` (default: the real monotonic clock; pass a :class:`ManualClock` to step
    time by hand). ``page_size_max`` bounds ``PageSize`` on the VPC Describe* actions; ``flow_log_quota`` is
    the number of flow logs an account may hold (per-account override in :meth:`add_account`).
    """

    def __init__(
        self,
        activation_delay: float = 0.0,
        deletion_delay: float = 0.0,
        clock: Clock | None = None,
        page_size_max: int = 50,
        flow_log_quota: int = 1000,
        *,
        deactivation_delay: float | None = None,
        faults: Faults | None = None,
        port: int = 0,
    ) -> None:
        """Configure the emulator; nothing listens until :meth:`start`."""
        self._cloud = Cloud(
            clock=clock,
            activation_delay=activation_delay,
            deactivation_delay=deactivation_delay,
            deletion_delay=deletion_delay,
            flow_log_quota=flow_log_quota,
        )
        self._dispatcher = Dispatcher(self._cloud, faults, page_size_max)
        self._loopback = LoopbackServer(
            _Handler, context=self._dispatcher, port=port, name="alibaba-emulator", join_timeout=_JOIN_TIMEOUT
        )

    def __repr__(self) -> str:
        """Where it listens and what it holds (never a secret)."""
        where = self.endpoint if self.running else "stopped"
        counts = f"accounts={len(self._cloud.accounts)} flow_logs={len(self._cloud.flow_log_index)}"
        return f"<AlibabaEmulator {where} {counts}>"

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> AlibabaEmulator:
        """Listen on 127.0.0.1 in a background thread; returns ``self``."""
        if self.running:
            return self
        self._loopback.start()
        logger.info("Alibaba Cloud emulator listening on %s", self.endpoint)
        return self

    def stop(self) -> None:
        """Stop listening, close open connections and join every server thread; safe to call twice."""
        self._loopback.stop()

    def __enter__(self) -> AlibabaEmulator:
        """Start (if not started) and return ``self``."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop."""
        self.stop()

    @property
    def running(self) -> bool:
        """Whether the server is listening."""
        return self._loopback.running

    @property
    def port(self) -> int:
        """The TCP port (only once started)."""
        if not self.running:
            raise RuntimeError("the emulator is not started: call start() or use it as a context manager")
        return self._loopback.port

    @property
    def endpoint(self) -> str:
        """``"127.0.0.1:PORT"``: the SDK's ``Config.endpoint`` (with ``protocol="http"``)."""
        return f"{LOOPBACK}:{self.port}"

    # --- accounts and inventory -----------------------------------------------------------------------

    def add_account(
        self,
        access_key_id: str,
        access_key_secret: str,
        account_id: str = DEFAULT_ACCOUNT_ID,
        service_opened: bool = True,
        traffic_path_enabled: bool = False,
        flow_log_quota: int | None = None,
    ) -> None:
        """Register an access key for ``account_id`` (created if new; a second key shares the account).

        ``service_opened=False`` makes flow-log writes fail with ``OptInRequired.FlowLog`` until the account
        calls ``OpenFlowLogService``; ``traffic_path_enabled`` allows TrafficPath values other than ``all``;
        ``flow_log_quota`` overrides the emulator-wide quota for this account.
        """
        if not access_key_id or not access_key_secret:
            raise ValueError("an access key needs both an id and a secret")
        with self._cloud.lock:
            if access_key_id in self._cloud.keys:
                raise ValueError(f"access key {access_key_id!r} is already registered")
            account = self._cloud.account(account_id)
            account.service_opened = service_opened
            account.traffic_path_enabled = traffic_path_enabled
            account.flow_log_quota = flow_log_quota
            self._cloud.keys[access_key_id] = AccessKeyRecord(access_key_id, access_key_secret, account_id)

    def set_access_key_active(self, access_key_id: str, active: bool) -> None:
        """Enable or disable a key (a disabled key gets ``InvalidAccessKeyId.Inactive``)."""
        with self._cloud.lock:
            self._key(access_key_id).active = active

    def account_of(self, access_key_id: str) -> str:
        """The account id a key belongs to."""
        with self._cloud.lock:
            return self._key(access_key_id).account_id

    def client_settings(self, access_key_id: str, region_id: str = "cn-hangzhou") -> dict[str, str]:
        """Keyword arguments for the SDK's ``Config`` to reach this emulator with ``access_key_id``."""
        with self._cloud.lock:
            secret = self._key(access_key_id).secret
        return {
            "access_key_id": access_key_id,
            "access_key_secret": secret,
            "endpoint": self.endpoint,
            "protocol": "http",
            "region_id": region_id,
        }

    def _key(self, access_key_id: str) -> AccessKeyRecord:
        try:
            return self._cloud.keys[access_key_id]
        except KeyError:
            raise KeyError(f"no access key {access_key_id!r} is registered") from None

    def _account_id(self, account_id: str | None) -> str:
        return account_id or self._cloud.default_account_id()

    def _use_region(self, region: str) -> None:
        if not region:
            raise ValueError("a region id is required")
        self._cloud.known_regions.add(region)

    def _new_or_claimed(self, given: str | None, prefix: str, length: int) -> str:
        if given is None:
            return self._cloud.new_id(prefix, length)
        if not given.startswith(prefix):
            raise ValueError(f"{given!r} must start with {prefix!r}")
        self._cloud.claim_id(given)
        return given

    def add_vpc(
        self,
        region: str,
        vpc_id: str | None = None,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        account_id: str | None = None,
        cidr_block: str | None = None,
        is_default: bool = False,
        description: str = "",
    ) -> str:
        """Create a VPC in ``region`` for ``account_id`` (default: the first account added); returns its id."""
        with self._cloud.lock:
            self._use_region(region)
            owner = self._cloud.account(self._account_id(account_id))
            vpc_id = self._new_or_claimed(vpc_id, "vpc-", 22)
            index = sum(len(s.vpcs) for s in self._cloud.regions.values())
            self._cloud.region(owner.account_id, region).vpcs[vpc_id] = Vpc(
                vpc_id=vpc_id,
                account_id=owner.account_id,
                region=region,
                name=name or "",
                cidr_block=cidr_block or f"10.{index % 256}.0.0/16",
                creation_time=self._cloud.wall_now_iso(),
                resource_group_id=owner.default_resource_group_id,
                tags=dict(tags or {}),
                description=description,
                is_default=is_default,
                vrouter_id=self._cloud.new_id("vrt-", 22),
                index=index,
            )
            return vpc_id

    def add_vswitch(
        self,
        region: str,
        vpc_id: str,
        vswitch_id: str | None = None,
        zone_id: str | None = None,
        name: str | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        account_id: str | None = None,
        cidr_block: str | None = None,
    ) -> str:
        """Create a vSwitch in an existing VPC; returns its id."""
        with self._cloud.lock:
            owner = self._account_id(account_id)
            state = self._cloud.region(owner, region)
            vpc = state.vpcs.get(vpc_id)
            if vpc is None:
                raise ValueError(f"no VPC {vpc_id!r} in {region} for account {owner}")
            vswitch_id = self._new_or_claimed(vswitch_id, "vsw-", 22)
            n = len(vpc.vswitch_ids)
            state.vswitches[vswitch_id] = VSwitch(
                vswitch_id=vswitch_id,
                vpc_id=vpc_id,
                account_id=owner,
                region=region,
                zone_id=zone_id or f"{region}-a",
                name=name or "",
                cidr_block=cidr_block or f"10.{vpc.index % 256}.{n % 256}.0/24",
                creation_time=self._cloud.wall_now_iso(),
                resource_group_id=vpc.resource_group_id,
                tags=dict(tags or {}),
            )
            vpc.vswitch_ids.append(vswitch_id)
            return vswitch_id

    def add_network_interface(
        self,
        region: str,
        vswitch_id: str,
        eni_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        account_id: str | None = None,
    ) -> str:
        """Create an ENI in an existing vSwitch; returns its id."""
        with self._cloud.lock:
            owner = self._account_id(account_id)
            state = self._cloud.region(owner, region)
            vsw = state.vswitches.get(vswitch_id)
            if vsw is None:
                raise ValueError(f"no vSwitch {vswitch_id!r} in {region} for account {owner}")
            eni_id = self._new_or_claimed(eni_id, "eni-", 20)
            base = vsw.cidr_block.rsplit(".", 1)[0]
            state.enis[eni_id] = NetworkInterface(
                eni_id=eni_id,
                vswitch_id=vswitch_id,
                vpc_id=vsw.vpc_id,
                zone_id=vsw.zone_id,
                account_id=owner,
                region=region,
                private_ip=f"{base}.{len(state.enis) % 250 + 3}",
                creation_time=self._cloud.wall_now_iso(),
                resource_group_id=vsw.resource_group_id,
                tags=dict(tags or {}),
            )
            return eni_id

    def add_logstore(self, region: str, project: str, logstore: str, *, account_id: str | None = None) -> None:
        """Create an SLS project + logstore that flow logs in ``region`` may deliver to."""
        with self._cloud.lock:
            self._use_region(region)
            self._cloud.account(self._account_id(account_id)).logstores.add((region, project, logstore))

    def add_resource_group(self, resource_group_id: str, *, account_id: str | None = None) -> None:
        """Create a resource group that ``ResourceGroupId`` may name."""
        with self._cloud.lock:
            self._cloud.account(self._account_id(account_id)).resource_groups.add(resource_group_id)

    # --- roles and the Resource Directory ---------------------------------------------------------------

    def add_role(
        self,
        account_id: str,
        name: str = ACCESS_ROLE,
        *,
        trusted: Iterable[str] = (),
        external_id: str | None = None,
        max_session_duration: int = 3600,
    ) -> str:
        """Create a RAM role in ``account_id`` that the accounts ``trusted`` may assume (STS AssumeRole; with
        ``external_id``, only when the caller gives it); returns its ARN. A second call replaces the role."""
        with self._cloud.lock:
            self._cloud.account(account_id)
            role = Role(
                account_id,
                name,
                role_id=str(300000000000000000 + len(self._cloud.roles) + 1),
                trusted=set(trusted),
                external_id=external_id,
                max_session_duration=max_session_duration,
            )
            self._cloud.roles[(account_id, name.lower())] = role
            return role.arn

    def remove_role(self, account_id: str, name: str = ACCESS_ROLE) -> None:
        """Delete a role (AssumeRole into it then fails with ``EntityNotExist.Role``)."""
        with self._cloud.lock:
            self._cloud.roles.pop((account_id, name.lower()), None)

    def create_directory(self, management_account_id: str | None = None) -> str:
        """Enable a Resource Directory whose management account is ``management_account_id`` (default: the first
        account added), with the management account in its root folder; returns the root folder's id."""
        with self._cloud.lock:
            management = self._account_id(management_account_id)
            self._cloud.account(management)
            now = self._cloud.wall_now_iso()
            root = self._cloud.new_id("r-", 6)
            directory = Directory(self._cloud.new_id("rd-", 6), management, root)
            directory.folders[root] = Folder(root, "Root", None, now)
            directory.members[management] = Member(management, "management", root, now, type="CloudAccount")
            self._cloud.directory = directory
            return root

    def _directory(self) -> Directory:
        if self._cloud.directory is None:
            raise RuntimeError("no Resource Directory: call create_directory() first")
        return self._cloud.directory

    def add_folder(self, name: str, parent_id: str | None = None, *, folder_id: str | None = None) -> str:
        """Create a folder in the directory (under the root by default; ``folder_id`` to choose its ``fd-`` id);
        returns its id."""
        with self._cloud.lock:
            directory = self._directory()
            parent = parent_id or directory.root_folder_id
            if parent not in directory.folders:
                raise ValueError(f"no folder {parent!r}")
            folder_id = self._new_or_claimed(folder_id, "fd-", 10)
            directory.folders[folder_id] = Folder(folder_id, name, parent, self._cloud.wall_now_iso())
            return folder_id

    def add_member(
        self,
        account_id: str,
        display_name: str | None = None,
        *,
        folder_id: str | None = None,
        tags: Mapping[str, str] | None = None,
        status: str = "CreateSuccess",
        access_role: bool = True,
    ) -> None:
        """Add a member account to the directory (in ``folder_id``, default the root), with its account tags;
        with ``access_role``, the member gets ``ResourceDirectoryAccountAccessRole`` trusting the management."""
        with self._cloud.lock:
            directory = self._directory()
            folder = folder_id or directory.root_folder_id
            if folder not in directory.folders:
                raise ValueError(f"no folder {folder!r}")
            self._cloud.account(account_id)
            directory.members[account_id] = Member(
                account_id, display_name or account_id, folder, self._cloud.wall_now_iso(), dict(tags or {}), status
            )
            if access_role:
                self.add_role(account_id, ACCESS_ROLE, trusted=[directory.management_account_id])

    def expire_credentials(self) -> int:
        """Expire every temporary (STS) key now: their requests then fail with ``InvalidSecurityToken.Expired``.
        Returns how many were expired. (Advancing a manual clock past their DurationSeconds does the same.)"""
        with self._cloud.lock:
            now = self._cloud.clock.now()
            expiring = [k for k in self._cloud.keys.values() if k.expires_at is not None and k.expires_at > now]
            for key in expiring:
                key.expires_at = now
            return len(expiring)

    @property
    def assumed(self) -> Counter[str]:
        """A snapshot: account id -> successful AssumeRole calls into it."""
        with self._cloud.lock:
            return Counter(self._cloud.assumed)

    def organization(self) -> dict[str, Any]:
        """The Resource Directory as plain data: management account, folders (id -> name, parent), members
        (id -> name, folder, tags, status, whether the access role exists); ``{}`` when there is none."""
        with self._cloud.lock:
            directory = self._cloud.directory
            if directory is None:
                return {}
            return {
                "directory_id": directory.directory_id,
                "management_account_id": directory.management_account_id,
                "root_folder_id": directory.root_folder_id,
                "folders": {f.folder_id: {"name": f.name, "parent": f.parent_id} for f in directory.folders.values()},
                "members": {
                    m.account_id: {
                        "name": m.display_name,
                        "folder": m.folder_id,
                        "tags": dict(m.tags),
                        "status": m.status,
                        "access_role": (m.account_id, ACCESS_ROLE.lower()) in self._cloud.roles,
                    }
                    for m in directory.members.values()
                },
            }

    # --- faults ---------------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The live :class:`Faults` configuration (change its attributes, or assign a new one)."""
        return self._dispatcher.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._dispatcher.faults = value

    def fail_next(
        self,
        action: str,
        code: str,
        message: str | None = None,
        http_status: int | None = None,
        times: int = 1,
        *,
        retry_after_ms: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``action`` (``"*"``: any action) fail with ``code``.

        The status and message default to the cloud's for known codes (400 and a generic message
        otherwise). Throttling codes carry ``x-acs-retry-after`` (``retry_after_ms``, else
        ``faults.retry_after_ms``) so the SDK raises its ``ThrottlingException``. The failure happens after
        the signature is verified and before the action runs: the cloud is left unchanged.
        """
        self._dispatcher.scripted.push(action, code, message, http_status, times, retry_after_ms)

    def clear_failures(self) -> None:
        """Forget every queued :meth:`fail_next`."""
        self._dispatcher.scripted.clear()

    @property
    def page_size_max(self) -> int:
        """The largest PageSize the VPC Describe* actions accept."""
        return self._dispatcher.page_size_max

    @page_size_max.setter
    def page_size_max(self, value: int) -> None:
        self._dispatcher.page_size_max = value

    # --- time and transitions -------------------------------------------------------------------------

    @property
    def clock(self) -> Clock:
        """The clock transitions run on."""
        return self._cloud.clock

    @property
    def activation_delay(self) -> float:
        """Seconds a flow log stays Activating (after CreateFlowLog or ActiveFlowLog)."""
        return self._cloud.activation_delay

    @activation_delay.setter
    def activation_delay(self, value: float) -> None:
        self._cloud.activation_delay = value

    @property
    def deactivation_delay(self) -> float:
        """Seconds a flow log stays Deactivating after DeactiveFlowLog."""
        return self._cloud.deactivation_delay

    @deactivation_delay.setter
    def deactivation_delay(self, value: float) -> None:
        self._cloud.deactivation_delay = value

    @property
    def deletion_delay(self) -> float:
        """Seconds a flow log stays Deleting before it is gone."""
        return self._cloud.deletion_delay

    @deletion_delay.setter
    def deletion_delay(self, value: float) -> None:
        self._cloud.deletion_delay = value

    @property
    def transitions_frozen(self) -> bool:
        """While True, no Activating/Deactivating/Deleting completes; due ones complete once it is False."""
        return self._cloud.transitions_frozen

    @transitions_frozen.setter
    def transitions_frozen(self, value: bool) -> None:
        with self._cloud.lock:
            self._cloud.transitions_frozen = value

    def set_status(self, flow_log_id: str, status: str, *, duration: float | None = None) -> None:
        """Force a flow log's status.

        A transitional status (Activating, Deactivating, Deleting) holds forever when ``duration`` is None
        (for timeout tests), else completes after ``duration`` seconds as usual (Deleting: the flow log goes).
        A stable status (Active, Inactive) cancels any pending transition.
        """
        if status not in FLOW_LOG_STATUSES:
            raise ValueError(f"status must be one of {', '.join(FLOW_LOG_STATUSES)}, not {status!r}")
        with self._cloud.lock:
            self._cloud.settle()
            fl = self._cloud.flow_log_index.get(flow_log_id)
            if fl is None:
                raise KeyError(f"no flow log {flow_log_id!r}")
            self._cloud.transition(fl, status, duration)

    def set_business_status(self, flow_log_id: str, status: str | None) -> None:
        """Force a flow log's BusinessStatus (``Normal`` or ``Abnormal``); ``None`` goes back to what the account
        and the logstore make it (Abnormal when the account is overdue or the logstore is gone)."""
        if status not in (None, "Normal", "Abnormal"):
            raise ValueError(f"business status must be Normal, Abnormal or None, not {status!r}")
        with self._cloud.lock:
            fl = self._cloud.flow_log_index.get(flow_log_id)
            if fl is None:
                raise KeyError(f"no flow log {flow_log_id!r}")
            fl.business_status = status

    def set_overdue(self, overdue: bool, *, account_id: str | None = None) -> None:
        """Make the account overdue (its flow logs Abnormal; creating, starting and changing them refused with
        ``IncorrectBusinessStatus.FlowLog``) or settled again."""
        with self._cloud.lock:
            self._cloud.account(self._account_id(account_id)).overdue = overdue

    def remove_logstore(self, region: str, project: str, logstore: str, *, account_id: str | None = None) -> None:
        """Delete an SLS logstore: the flow logs that deliver to it turn Abnormal, their delivery FAILED."""
        with self._cloud.lock:
            self._cloud.account(self._account_id(account_id)).logstores.discard((region, project, logstore))

    # --- observation ----------------------------------------------------------------------------------

    def flow_logs(self, region: str | None = None, account_id: str | None = None) -> list[dict[str, Any]]:
        """A snapshot of flow logs in creation order, as DescribeFlowLogs shows them, plus ``AccountId``."""
        with self._cloud.lock:
            self._cloud.settle()
            return [
                {
                    **flow_log_view(fl, *business_status(self._cloud.account(fl.account_id), fl)),
                    "AccountId": fl.account_id,
                }
                for fl in self._cloud.flow_log_index.values()
                if (region is None or fl.region == region) and (account_id is None or fl.account_id == account_id)
            ]

    @property
    def calls(self) -> Counter[str]:
        """A snapshot: action name -> calls received, whatever their outcome (thread-safe)."""
        return self._dispatcher.calls

    @property
    def errors(self) -> Counter[tuple[str, str]]:
        """A snapshot: (action, error code) -> error responses; ``"<dropped>"`` counts dropped calls."""
        return self._dispatcher.errors

    def reset_calls(self) -> None:
        """Zero :attr:`calls` and :attr:`errors`."""
        self._dispatcher.reset_counters()
