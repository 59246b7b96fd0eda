"""The emulator's in-memory cloud: accounts, keys, VPCs, vSwitches, ENIs, SLS logstores and flow logs.

Everything is indexed by id, by account and region, and flow logs also by resource and by VPC, so no request
costs more than one pass over one region's flow logs. Asynchronous transitions (Activating -> Active,
Deactivating -> Inactive, Deleting -> gone) are computed lazily: each carries a due time on the emulator's clock,
kept in a heap, and whatever is due is applied before the next request is served. No thread per flow log.

Callers hold :attr:`Cloud.lock` while they read or change anything here; the server runs each API action
under it, so an action is atomic.
"""

from __future__ import annotations

import heapq
import itertools
import random
import string
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

from .clock import Clock, MonotonicClock

#: The account that resources go to when no account id is given and no account was added yet.
DEFAULT_ACCOUNT_ID = "1234567890"

#: Region ids the emulator accepts as RegionId; regions used by add_* calls are added to it.
KNOWN_REGIONS = frozenset(
    {
        "cn-qingdao", "cn-beijing", "cn-zhangjiakou", "cn-huhehaote", "cn-wulanchabu", "cn-hangzhou",
        "cn-shanghai", "cn-nanjing", "cn-fuzhou", "cn-shenzhen", "cn-heyuan", "cn-guangzhou", "cn-chengdu",
        "cn-hongkong", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-3",
        "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-south-1", "us-east-1", "us-west-1",
        "eu-west-1", "eu-central-1", "me-east-1", "me-central-1", "na-south-1",
    }
)  # fmt: skip

ACTIVE = "Active"
ACTIVATING = "Activating"
INACTIVE = "Inactive"
DEACTIVATING = "Deactivating"
DELETING = "Deleting"
#: Every status a flow log can have; the transitional ones end in the status mapped here (None: deleted).
FLOW_LOG_STATUSES = (ACTIVATING, ACTIVE, DEACTIVATING, INACTIVE, DELETING)
TRANSITION_TARGET: dict[str, str | None] = {ACTIVATING: ACTIVE, DEACTIVATING: INACTIVE, DELETING: None}

_ALNUM = string.ascii_lowercase + string.digits


def _wall_iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class AccessKeyRecord:
    """An access key registered with the emulator (never printed: see ``__repr__``)."""

    access_key_id: str
    secret: str = field(repr=False)
    account_id: str
    active: bool = True
    #: Temporary (STS) keys only: the token every request signed with the key must carry, and when (on the
    #: emulator's clock) the key stops working.
    security_token: str | None = field(default=None, repr=False)
    expires_at: float | None = None
    #: Who signs with the key: ``user/<name>`` for a RAM user's key, ``assumed-role/<role>/<session>`` for STS.
    principal: str = ""


@dataclass
class Role:
    """A RAM role of one account and who may assume it (the account ids its trust policy names)."""

    account_id: str
    name: str
    role_id: str
    trusted: set[str] = field(default_factory=set)
    external_id: str | None = None
    max_session_duration: int = 3600

    @property
    def arn(self) -> str:
        """``acs:ram::<account>:role/<name>``, lower-case as Alibaba writes it."""
        return f"acs:ram::{self.account_id}:role/{self.name.lower()}"


@dataclass
class Folder:
    """A folder of the Resource Directory (the root has no parent)."""

    folder_id: str
    name: str
    parent_id: str | None
    creation_time: str


@dataclass
class Member:
    """An account of the Resource Directory, in one folder, with its tags and status."""

    account_id: str
    display_name: str
    folder_id: str
    join_time: str
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "CreateSuccess"
    type: str = "ResourceAccount"
    join_method: str = "created"


@dataclass
class Directory:
    """The Resource Directory of a management account: its folders and member accounts (in joining order)."""

    directory_id: str
    management_account_id: str
    root_folder_id: str
    folders: dict[str, Folder] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)

    def path(self, folder_id: str) -> str:
        """``<rd id>/<root id>/.../<folder id>``: ListAccounts' ResourceDirectoryPath."""
        chain: list[str] = []
        current: str | None = folder_id
        while current is not None and len(chain) <= len(self.folders):
            chain.append(current)
            current = self.folders[current].parent_id if current in self.folders else None
        return "/".join([self.directory_id, *reversed(chain)])


@dataclass
class Account:
    """One Alibaba Cloud account: its flow-log service switch, feature flags, quota and SLS/RG inventory."""

    account_id: str
    service_opened: bool = True
    traffic_path_enabled: bool = False
    flow_log_quota: int | None = None
    #: An overdue account (unpaid bills): its flow logs are BusinessStatus Abnormal and cannot be changed.
    overdue: bool = False
    default_resource_group_id: str = ""
    resource_groups: set[str] = field(default_factory=set)
    logstores: set[tuple[str, str, str]] = field(default_factory=set)
    flow_log_count: int = 0


@dataclass
class Vpc:
    """A VPC."""

    vpc_id: str
    account_id: str
    region: str
    name: str
    cidr_block: str
    creation_time: str
    resource_group_id: str
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    is_default: bool = False
    vswitch_ids: list[str] = field(default_factory=list)
    vrouter_id: str = ""
    index: int = 0


@dataclass
class VSwitch:
    """A vSwitch (Alibaba's subnet)."""

    vswitch_id: str
    vpc_id: str
    account_id: str
    region: str
    zone_id: str
    name: str
    cidr_block: str
    creation_time: str
    resource_group_id: str
    tags: dict[str, str] = field(default_factory=dict)
    description: str = ""
    is_default: bool = False


@dataclass
class NetworkInterface:
    """An elastic network interface (an ECS resource in the real cloud)."""

    eni_id: str
    vswitch_id: str
    vpc_id: str
    zone_id: str
    account_id: str
    region: str
    private_ip: str
    creation_time: str
    resource_group_id: str
    tags: dict[str, str] = field(default_factory=dict)


@dataclass
class FlowLog:
    """A flow log and where it is in its lifecycle."""

    flow_log_id: str
    account_id: str
    region: str
    resource_type: str
    resource_id: str
    vpc_id: str
    project_name: str
    logstore_name: str
    traffic_type: str
    aggregation_interval: int
    traffic_paths: list[str]
    ip_version: str
    resource_group_id: str
    creation_time: str
    status: str
    name: str = ""
    description: str = ""
    log_format: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    #: A BusinessStatus forced by the test (``Normal``/``Abnormal``); ``None``: as the account and logstore make it.
    business_status: str | None = None
    #: Bumped whenever a transition is scheduled or cancelled, so stale heap entries are ignored.
    token: int = 0


@dataclass
class RegionState:
    """One account's resources in one region."""

    vpcs: dict[str, Vpc] = field(default_factory=dict)
    vswitches: dict[str, VSwitch] = field(default_factory=dict)
    enis: dict[str, NetworkInterface] = field(default_factory=dict)
    #: Insertion-ordered: DescribeFlowLogs lists in creation order.
    flow_logs: dict[str, FlowLog] = field(default_factory=dict)
    flow_log_by_resource: dict[str, str] = field(default_factory=dict)
    #: vpc id -> ordered set (dict of None) of ids of the flow logs on the VPC, its vSwitches and its ENIs.
    flow_logs_by_vpc: dict[str, dict[str, None]] = field(default_factory=dict)


class Cloud:
    """The whole emulated cloud. Thread-safe through :attr:`lock`."""

    def __init__(
        self,
        clock: Clock | None = None,
        activation_delay: float = 0.0,
        deactivation_delay: float | None = None,
        deletion_delay: float = 0.0,
        flow_log_quota: int = 1000,
    ) -> None:
        """Create an empty cloud on ``clock`` with the given transition delays (seconds) and quota."""
        self.lock = threading.RLock()
        self.clock: Clock = clock or MonotonicClock()
        self.activation_delay = activation_delay
        self.deactivation_delay = activation_delay if deactivation_delay is None else deactivation_delay
        self.deletion_delay = deletion_delay
        self.flow_log_quota = flow_log_quota
        #: While True, no transition completes; overdue ones complete once it is False again.
        self.transitions_frozen = False
        self.keys: dict[str, AccessKeyRecord] = {}
        self.accounts: dict[str, Account] = {}
        self.regions: dict[tuple[str, str], RegionState] = {}
        self.known_regions: set[str] = set(KNOWN_REGIONS)
        self.flow_log_index: dict[str, FlowLog] = {}
        #: RAM roles by (account id, lower-case role name); the Resource Directory, once one is made.
        self.roles: dict[tuple[str, str], Role] = {}
        self.directory: Directory | None = None
        #: Successful AssumeRole calls per account entered (what tests count).
        self.assumed: dict[str, int] = {}
        self._ids: set[str] = set()
        self._pending: list[tuple[float, int, str, int]] = []
        self._seq = itertools.count()
        self._rng = random.Random()
        self._wall_origin = time.time() - self.clock.now()

    # --- ids and time -----------------------------------------------------------------------------------

    def new_id(self, prefix: str, length: int) -> str:
        """A fresh id ``prefix`` + ``length`` lowercase alphanumerics, unique in this cloud."""
        with self.lock:
            while True:
                candidate = prefix + "".join(self._rng.choices(_ALNUM, k=length))
                if candidate not in self._ids:
                    self._ids.add(candidate)
                    return candidate

    def claim_id(self, resource_id: str) -> None:
        """Reserve a caller-chosen id; ``ValueError`` if it is taken."""
        with self.lock:
            if resource_id in self._ids:
                raise ValueError(f"id {resource_id!r} is already in use")
            self._ids.add(resource_id)

    def wall_now_iso(self) -> str:
        """Now as the cloud prints it (UTC, seconds), following the emulator's clock."""
        return _wall_iso(self._wall_origin + self.clock.now())

    def wall_iso_at(self, moment: float) -> str:
        """``moment`` of the emulator's clock as the cloud prints it (an STS Expiration, say)."""
        return _wall_iso(self._wall_origin + moment)

    # --- accounts -------------------------------------------------------------------------------------

    def default_account_id(self) -> str:
        """The first account added, or :data:`DEFAULT_ACCOUNT_ID` if none was."""
        with self.lock:
            return next(iter(self.accounts), DEFAULT_ACCOUNT_ID)

    def account(self, account_id: str | None = None) -> Account:
        """The account ``account_id`` (default: :meth:`default_account_id`), created on first use."""
        with self.lock:
            account_id = account_id or self.default_account_id()
            acct = self.accounts.get(account_id)
            if acct is None:
                rg = "rg-acfm" + "".join(self._rng.choices(_ALNUM, k=11))
                acct = Account(account_id, default_resource_group_id=rg, resource_groups={rg})
                self.accounts[account_id] = acct
            return acct

    def region(self, account_id: str, region: str) -> RegionState:
        """The account's state in ``region`` (empty if nothing was ever there)."""
        with self.lock:
            key = (account_id, region)
            state = self.regions.get(key)
            if state is None:
                state = self.regions[key] = RegionState()
            return state

    def flow_log_quota_for(self, account: Account) -> int:
        """The account's flow-log quota (its own, else the emulator-wide one)."""
        return self.flow_log_quota if account.flow_log_quota is None else account.flow_log_quota

    # --- flow-log lifecycle ---------------------------------------------------------------------------

    def settle(self) -> None:
        """Apply every transition that is due on the clock (unless transitions are frozen)."""
        with self.lock:
            if self.transitions_frozen:
                return
            now = self.clock.now()
            while self._pending and self._pending[0][0] <= now:
                _, _, flow_log_id, token = heapq.heappop(self._pending)
                fl = self.flow_log_index.get(flow_log_id)
                if fl is None or fl.token != token:
                    continue
                target = TRANSITION_TARGET.get(fl.status)
                if target is None:
                    self._remove(fl)
                else:
                    fl.status = target

    def transition(self, fl: FlowLog, status: str, delay: float | None) -> None:
        """Put ``fl`` in ``status``; a transitional status completes after ``delay`` s (never if None)."""
        with self.lock:
            fl.status = status
            fl.token += 1
            if status in TRANSITION_TARGET and delay is not None:
                due = self.clock.now() + max(0.0, delay)
                heapq.heappush(self._pending, (due, next(self._seq), fl.flow_log_id, fl.token))

    def begin(self, fl: FlowLog, status: str) -> None:
        """Put ``fl`` in a transitional ``status`` that completes after that status's configured delay."""
        delays = {
            ACTIVATING: self.activation_delay,
            DEACTIVATING: self.deactivation_delay,
            DELETING: self.deletion_delay,
        }
        self.transition(fl, status, delays[status])

    def add_flow_log(self, fl: FlowLog) -> None:
        """Index a new flow log and start it Activating."""
        with self.lock:
            state = self.region(fl.account_id, fl.region)
            state.flow_logs[fl.flow_log_id] = fl
            state.flow_log_by_resource[fl.resource_id] = fl.flow_log_id
            state.flow_logs_by_vpc.setdefault(fl.vpc_id, {})[fl.flow_log_id] = None
            self.flow_log_index[fl.flow_log_id] = fl
            self.account(fl.account_id).flow_log_count += 1
            self.begin(fl, ACTIVATING)

    def _remove(self, fl: FlowLog) -> None:
        state = self.region(fl.account_id, fl.region)
        state.flow_logs.pop(fl.flow_log_id, None)
        if state.flow_log_by_resource.get(fl.resource_id) == fl.flow_log_id:
            del state.flow_log_by_resource[fl.resource_id]
        by_vpc = state.flow_logs_by_vpc.get(fl.vpc_id)
        if by_vpc is not None:
            by_vpc.pop(fl.flow_log_id, None)
            if not by_vpc:
                del state.flow_logs_by_vpc[fl.vpc_id]
        self.flow_log_index.pop(fl.flow_log_id, None)
        self.account(fl.account_id).flow_log_count -= 1
