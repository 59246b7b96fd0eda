"""Coverage audit: which VPCs, subnets and ENIs lack a flow log that counts, on every provider and region asked.

Reading is in bulk and the same whatever the estate's size: per provider and region, one paginated describe of
every flow log and one :meth:`~multiflow.provider.ResourceInventory.inventory` (one paginated listing per kind),
all run concurrently, then joined in memory. Never a call per resource.

A resource is covered when a flow log that meets the :class:`CoverageCriteria` watches it or one of its parents:
a VPC's flow log covers the VPC, its subnets and its ENIs; a subnet's covers the subnet and its ENIs. A flow log
that is there but does not count (stopped, other traffic, another destination, failed delivery) is reported as
the reason the resource is not covered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from multiflow.accounts import DEFAULT_ACCOUNT, AccountSource, Shard
from multiflow.client import Connections
from multiflow.errors import MultiflowError, SpecError, UnsupportedFeature
from multiflow.fleet import ALL_REGIONS
from multiflow.model import CloudResource, DeliveryStatus, FlowLog, FlowLogStatus
from multiflow.plugins import get_provider
from multiflow.provider import ResourceInventory
from multiflow.scope import MAX_PARALLEL, Place, ScopeFailure, places_for
from multiflow.spec import Destination, DestinationField, ResourceKind, Traffic

__all__ = [
    "AUDITED_KINDS",
    "AuditReport",
    "CoverageCount",
    "CoverageCriteria",
    "CoverageLevel",
    "Covering",
    "ResourceCoverage",
    "assess",
    "audit",
]

#: The kinds an audit reads, in hierarchy order.
AUDITED_KINDS = (ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE)
_KIND_ORDER = {kind: n for n, kind in enumerate(AUDITED_KINDS)}
#: Traffic a requirement accepts; a flow log whose cloud reports no traffic type records everything.
_TRAFFIC_OK: dict[str, tuple[Traffic | None, ...]] = {
    "all": (Traffic.ALL, None),
    "accept": (Traffic.ALL, Traffic.ACCEPT, None),
    "reject": (Traffic.ALL, Traffic.REJECT, None),
}


class CoverageCriteria(BaseModel):
    """What makes a flow log count.

    :param traffic: ``any`` (default: whatever it records), ``all`` (only all traffic), ``accept`` or ``reject``
        (that traffic, or all).
    :param destination_kind: only flow logs delivering to this kind (``s3``, ``cloudwatch_logs``, ``firehose``,
        ``sls``...).
    :param destination: only flow logs delivering here; the fields given must match (an S3 bucket by name or ARN),
        the others may be anything.
    :param require_active: only ``active`` flow logs (default); otherwise any that is not being deleted.
    :param require_delivery_ok: only flow logs whose cloud reports delivery succeeding (not failed, not unknown).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    traffic: Literal["any", "all", "accept", "reject"] = "any"
    destination_kind: str | None = None
    destination: DestinationField | None = None
    require_active: bool = True
    require_delivery_ok: bool = False

    def refusal(self, flow_log: FlowLog) -> str | None:
        """Why ``flow_log`` does not count (e.g. ``"is inactive"``), or ``None`` when it does."""
        status = flow_log.status
        if status is FlowLogStatus.DELETING:
            return "is being deleted"
        if self.require_active and status is not FlowLogStatus.ACTIVE:
            return f"is {status.value}"
        why = self.traffic_refusal(flow_log.traffic) or self.destination_refusal(flow_log.destination)
        if why:
            return why
        if flow_log.delivery_status is DeliveryStatus.SUSPENDED:  # nothing is delivered, whatever the criteria
            error = f": {flow_log.delivery_error}" if flow_log.delivery_error else ""
            return f"is suspended by the cloud{error}"
        if self.require_delivery_ok and flow_log.delivery_status is not DeliveryStatus.OK:
            if flow_log.delivery_status is DeliveryStatus.FAILED:
                error = f": {flow_log.delivery_error}" if flow_log.delivery_error else ""
                return f"fails to deliver{error}"
            return "reports no delivery status"
        return None

    def traffic_refusal(self, traffic: Traffic | None) -> str | None:
        """Why a flow log recording ``traffic`` does not count, or ``None``."""
        if self.traffic == "any" or traffic in _TRAFFIC_OK[self.traffic]:
            return None
        wanted = "all traffic" if self.traffic == "all" else f"{self.traffic} (or all) traffic"
        return f"records {traffic.value if traffic else 'unknown'} traffic, not {wanted}"

    def destination_refusal(self, destination: Destination | None) -> str | None:
        """Why a flow log delivering to ``destination`` does not count, or ``None``."""
        if self.destination_kind is None and self.destination is None:
            return None
        if destination is None:
            return "has a destination the cloud does not report"
        if self.destination_kind is not None and destination.kind != self.destination_kind:
            return f"delivers to {destination.kind}, not {self.destination_kind}"
        wanted = self.destination
        if wanted is not None:
            if destination.kind != wanted.kind:
                return f"delivers to {destination.kind}, not {wanted.kind}"
            have_all, want_all = destination.model_dump(), wanted.model_dump()
            for name in sorted(wanted.model_fields_set - {"kind"}):
                have, want = have_all.get(name), want_all[name]
                if name == "bucket":
                    have, want = _bucket_name(have), _bucket_name(want)
                if have != want:
                    return f"delivers to {name} {have_all.get(name)!r}, not {want_all[name]!r}"
        return None


def _bucket_name(bucket: Any) -> str:
    return str(bucket).split(":::", 1)[-1].split("/", 1)[0]


class CoverageLevel(str, Enum):
    """Where the flow log that covers a resource sits."""

    OWN = "own"
    SUBNET = "subnet"
    VPC = "vpc"


@dataclass(frozen=True)
class Covering:
    """A flow log that watches a resource or one of its parents, and at which level."""

    flow_log_id: str
    level: CoverageLevel
    on: str

    def as_dict(self) -> dict[str, str]:
        """A JSON-ready view."""
        return {"flow_log_id": self.flow_log_id, "level": self.level.value, "on": self.on}


@dataclass(frozen=True)
class ResourceCoverage:
    """One resource: whether a flow log that counts covers it, which ones do, and why the others do not.

    :param covering: flow logs that count, the nearest level first.
    :param rejected: flow logs that watch it (or a parent) but do not count, each with why.
    """

    provider: str
    region: str
    resource: CloudResource
    covering: tuple[Covering, ...] = ()
    rejected: tuple[tuple[Covering, str], ...] = ()
    account: str = DEFAULT_ACCOUNT

    @property
    def kind(self) -> ResourceKind:
        """The resource's kind."""
        return self.resource.kind

    @property
    def id(self) -> str:
        """The resource's id."""
        return self.resource.id

    @property
    def covered(self) -> bool:
        """Whether a flow log that counts covers it."""
        return bool(self.covering)

    @property
    def level(self) -> CoverageLevel | None:
        """The nearest level a flow log that counts sits at; ``None`` when not covered."""
        return self.covering[0].level if self.covering else None

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why it is not covered, one line per flow log that does not count (or that there is none)."""
        if self.covered:
            return ()
        if not self.rejected:
            return (_nothing_on(self.resource),)
        return tuple(f"flow log {c.flow_log_id} {_where(c)} {why}" for c, why in self.rejected)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "provider": self.provider,
            "account": self.account or None,
            "region": self.region,
            "kind": self.kind.value,
            "id": self.id,
            "vpc_id": self.resource.vpc_id,
            "subnet_id": self.resource.subnet_id,
            "covered": self.covered,
            "level": self.level.value if self.level else None,
            "covered_by": [c.as_dict() for c in self.covering],
            "reasons": list(self.reasons),
        }


def _where(covering: Covering) -> str:
    if covering.level is CoverageLevel.OWN:
        return "on it"
    return f"on its {covering.level.value} {covering.on}"


def _nothing_on(resource: CloudResource) -> str:
    parents = {
        ResourceKind.VPC: "it",
        ResourceKind.SUBNET: "it or its VPC",
        ResourceKind.NETWORK_INTERFACE: "it, its subnet or its VPC",
    }
    return f"no flow log on {parents.get(resource.kind, 'it')}"


@dataclass(frozen=True)
class CoverageCount:
    """Covered of total for a group (``None`` in a key field means all of it)."""

    provider: str | None
    region: str | None
    kind: ResourceKind | None
    covered: int
    total: int
    account: str | None = None

    @property
    def percent(self) -> float:
        """Covered as a percentage of total; 100 when there is nothing to cover."""
        return 100.0 * self.covered / self.total if self.total else 100.0

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (group keys that are ``None`` left out)."""
        keys = {
            "provider": self.provider,
            "account": self.account or None,
            "region": self.region,
            "kind": self.kind.value if self.kind else None,
        }
        return {
            **{k: v for k, v in keys.items() if v is not None},
            "covered": self.covered,
            "total": self.total,
            "percent": round(self.percent, 2),
        }


@dataclass
class AuditReport:
    """Every audited resource with its coverage, and counts by provider, region and kind."""

    criteria: CoverageCriteria
    kinds: tuple[ResourceKind, ...]
    targets: tuple[tuple[str, str], ...]
    resources: list[ResourceCoverage] = field(default_factory=list)
    flow_logs_read: int = 0
    places: tuple[Place, ...] = ()
    failed: list[ScopeFailure] = field(default_factory=list)
    notes: tuple[str, ...] = ()

    @property
    def accounts(self) -> list[str]:
        """The accounts audited (ids; empty where only the default account was)."""
        return sorted({p.account for p in self.places if p.account})

    @property
    def covered(self) -> list[ResourceCoverage]:
        """Resources a flow log that counts covers."""
        return [r for r in self.resources if r.covered]

    @property
    def uncovered(self) -> list[ResourceCoverage]:
        """Resources without one."""
        return [r for r in self.resources if not r.covered]

    @property
    def percent(self) -> float:
        """Covered resources as a percentage of all; 100 when there are none."""
        return self.total().percent

    def total(self) -> CoverageCount:
        """Covered of all resources."""
        return CoverageCount(None, None, None, len(self.covered), len(self.resources))

    def summary(
        self,
        by: Sequence[Literal["provider", "account", "region", "kind"]] | None = None,
    ) -> list[CoverageCount]:
        """Covered of total per group of ``by`` (default: provider, region and kind, and account where accounts
        were audited); every provider/account/region/kind audited has a row, empty or not."""
        grouping: Sequence[str]
        if by is not None:
            grouping = by
        else:
            grouping = ("provider", "account", "region", "kind") if self.accounts else ("provider", "region", "kind")
        groups: dict[tuple[Any, ...], list[int]] = {}
        places = self.places or tuple(Place(p, DEFAULT_ACCOUNT, r) for p, r in self.targets)
        for place in places:
            for kind in self.kinds:
                groups.setdefault(_key(grouping, place.provider, place.account, place.region, kind), [0, 0])
        for r in self.resources:
            counts = groups.setdefault(_key(grouping, r.provider, r.account, r.region, r.kind), [0, 0])
            counts[0] += r.covered
            counts[1] += 1
        return [
            CoverageCount(
                provider=key[0],
                account=key[1],
                region=key[2],
                kind=key[3],
                covered=covered,
                total=total,
            )
            for key, (covered, total) in sorted(groups.items(), key=lambda item: _sort_key(item[0]))
        ]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view: the criteria, every resource, and the counts."""
        return {
            "criteria": self.criteria.model_dump(mode="json", exclude_none=True),
            "kinds": [k.value for k in self.kinds],
            "targets": [{"provider": p, "region": r} for p, r in self.targets],
            "places": [{"provider": p.provider, "account": p.account or None, "region": p.region} for p in self.places],
            "failed": [f.as_dict() for f in self.failed],
            "notes": list(self.notes),
            "flow_logs_read": self.flow_logs_read,
            "total": self.total().as_dict(),
            "by_provider": [c.as_dict() for c in self.summary(("provider",))],
            "summary": [c.as_dict() for c in self.summary()],
            "resources": [r.as_dict() for r in self.resources],
        }


def _key(by: Sequence[str], provider: str, account: str, region: str, kind: ResourceKind) -> tuple[Any, ...]:
    return (
        provider if "provider" in by else None,
        account if "account" in by else None,
        region if "region" in by else None,
        kind if "kind" in by else None,
    )


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    provider, account, region, kind = key
    return (provider or "", account or "", region or "", _KIND_ORDER.get(kind, -1) if kind is not None else -1)


def assess(
    provider: str,
    region: str,
    resources: Iterable[CloudResource],
    flow_logs: Iterable[FlowLog],
    criteria: CoverageCriteria,
) -> list[ResourceCoverage]:
    """Join one region's resources and flow logs in memory: each resource's coverage, with inheritance."""
    on: dict[str, list[FlowLog]] = {}
    for flow_log in flow_logs:
        on.setdefault(flow_log.resource.id, []).append(flow_log)
    assessed = []
    for resource in resources:
        levels = [(CoverageLevel.OWN, resource.id)]
        if resource.kind is ResourceKind.NETWORK_INTERFACE and resource.subnet_id:
            levels.append((CoverageLevel.SUBNET, resource.subnet_id))
        if resource.kind is not ResourceKind.VPC and resource.vpc_id:
            levels.append((CoverageLevel.VPC, resource.vpc_id))
        covering: list[Covering] = []
        rejected: list[tuple[Covering, str]] = []
        for level, parent in levels:
            for flow_log in sorted(on.get(parent, []), key=lambda f: f.id):
                why = criteria.refusal(flow_log)
                found = Covering(flow_log.id, level, parent)
                if why is None:
                    covering.append(found)
                else:
                    rejected.append((found, why))
        assessed.append(ResourceCoverage(provider, region, resource, tuple(covering), tuple(rejected)))
    return assessed


def _targets(
    providers: str | Sequence[str], regions: Sequence[str] | Mapping[str, Sequence[str] | str]
) -> list[tuple[str, str]]:
    names = [providers] if isinstance(providers, str) else list(providers)
    if isinstance(regions, str):
        regions = [regions]
    if isinstance(regions, Mapping):
        unknown = sorted(set(regions) - set(names))
        if unknown:
            raise SpecError("regions", unknown, names, reason="regions given for providers not audited")
        per = {p: [given] if isinstance(given, str) else list(given) for p, given in regions.items()}
        chosen = [(p, r) for p in names for r in per.get(p, [])]
    else:
        chosen = [(p, r) for p in names for r in regions]
    missing = [p for p in names if all(provider != p for provider, _ in chosen)]
    if missing:
        raise SpecError("regions", regions, "at least one region per provider audited", reason=f"none for {missing}")
    for name in dict.fromkeys(names):
        get_provider(name)  # an unknown provider fails here, before any call
    return list(dict.fromkeys(chosen))


def _kinds(kinds: Iterable[ResourceKind | str] | None) -> tuple[ResourceKind, ...]:
    if kinds is None:
        return AUDITED_KINDS
    chosen: list[ResourceKind] = []
    for kind in kinds:
        try:
            value = ResourceKind(kind)
        except ValueError:
            value = None
        if value not in AUDITED_KINDS:
            raise SpecError("kinds", kind, [k.value for k in AUDITED_KINDS])
        chosen.append(value)
    if not chosen:
        raise SpecError("kinds", [], [k.value for k in AUDITED_KINDS])
    return tuple(sorted(set(chosen), key=_KIND_ORDER.__getitem__))


def audit(
    providers: str | Sequence[str],
    regions: Sequence[str] | Mapping[str, Sequence[str] | str],
    *,
    kinds: Iterable[ResourceKind | str] | None = None,
    criteria: CoverageCriteria | None = None,
    connections: Connections | None = None,
    accounts: Mapping[str, Sequence[AccountSource]] | None = None,
    shard: Shard | None = None,
) -> AuditReport:
    """Which VPCs, subnets and ENIs of ``providers`` in ``regions`` have a flow log that meets ``criteria``.

    >>> report = multiflow.audit(["aws", "alibaba"], {"aws": ["us-east-1"], "alibaba": ["cn-hangzhou"]})
    ... # doctest: +SKIP
    >>> report.percent, [r.id for r in report.uncovered]                         # doctest: +SKIP

    :param providers: provider names.
    :param regions: regions for every provider, or per provider (``{"aws": [...], "alibaba": "all"}``); ``"all"``
        is every region each account can use.
    :param kinds: ``vpc``, ``subnet``, ``network_interface`` (default: all three).
    :param criteria: what makes a flow log count (default: any active one).
    :param connections: clients to use (e.g. a sandbox's); by default made here and closed at the end.
    :param accounts: account sources per provider, as a fleet file's ``accounts:`` (default: the SDK chain's
        account). With accounts, one that cannot be entered or read is in :attr:`AuditReport.failed` and the
        others are audited.
    :param shard: only the accounts of this shard.
    """
    criteria = criteria or CoverageCriteria()
    chosen_kinds = _kinds(kinds)
    targets = _targets(providers, regions)
    owned = connections is None
    connections = connections or Connections()
    tolerant = bool(accounts)
    try:
        wanted: dict[str, list[str] | str] = {}
        for provider, region in targets:
            if region == ALL_REGIONS:
                wanted[provider] = ALL_REGIONS
            elif wanted.get(provider) != ALL_REGIONS:
                listed = wanted.setdefault(provider, [])
                assert isinstance(listed, list)
                listed.append(region)
        coverage = places_for(wanted, connections, accounts=accounts, shard=shard)
        jobs = [(place, what) for place in coverage.places for what in ("flow_logs", "resources")]

        def read(job: tuple[Place, str]) -> list[Any] | MultiflowError:
            place, what = job
            try:
                account = coverage.account(place.provider, place.account)
                client = connections.client(place.provider, place.region, account)
                if what == "flow_logs":
                    return client.describe()
                session = client.session
                if not isinstance(session, ResourceInventory):
                    raise UnsupportedFeature(
                        "audit",
                        place.provider,
                        "providers whose sessions have inventory()",
                        provider=place.provider,
                        reason="it cannot list its resources with their VPC and subnet",
                    )
                return session.inventory(chosen_kinds)
            except SpecError:
                raise
            except MultiflowError as exc:
                if not tolerant:
                    raise
                return exc

        with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(jobs)))) as pool:
            read_all = dict(zip(jobs, pool.map(read, jobs), strict=True))
    finally:
        if owned:
            connections.close()
    if not tolerant and coverage.failures:
        raise coverage.failures[0].error
    report = AuditReport(
        criteria=criteria,
        kinds=chosen_kinds,
        targets=tuple(dict.fromkeys((p.provider, p.region) for p in coverage.places)),
        failed=list(coverage.failures),
        notes=coverage.notes,
    )
    read_places: list[Place] = []
    for place in coverage.places:
        flow_logs = read_all[(place, "flow_logs")]
        inventory = read_all[(place, "resources")]
        if isinstance(flow_logs, MultiflowError) or isinstance(inventory, MultiflowError):
            error = flow_logs if isinstance(flow_logs, MultiflowError) else inventory
            assert isinstance(error, MultiflowError)
            report.failed.append(ScopeFailure(place.provider, place.account, place.region, (), error))
            continue
        read_places.append(place)
        resources = [r for r in inventory if r.kind in chosen_kinds]
        report.flow_logs_read += len(flow_logs)
        assessed = assess(place.provider, place.region, resources, flow_logs, criteria)
        if place.account:
            assessed = [replace(r, account=place.account) for r in assessed]
        report.resources += assessed
    report.places = tuple(read_places)
    report.resources.sort(key=lambda r: (r.provider, r.account, r.region, _KIND_ORDER[r.kind], r.id))
    return report
