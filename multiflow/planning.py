"""Diff what a fleet file wants against what the clouds have: create, update, replace, delete, keep, conflict.

There is no state file: the clouds are the state. Every flow log multiflow creates carries two tags,
``multiflow:managed=<fleet name>`` (which fleet owns it; plan never touches flow logs of other fleets or made by
hand) and ``multiflow:spec=<entry>@<digest>`` (which entry made it, and a digest of the provider-only options that
cannot be read back or changed in place). Everything that can be read back is compared attribute by attribute, so
a change made by hand (drift) shows up and is corrected by apply; an interrupted apply converges when run again.

Reading is in bulk: one paginated describe of all flow logs per provider and region, and one paginated resource
listing per selector, joined in memory.
"""

from __future__ import annotations

import gc
import hashlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from multiflow.client import Client, connect
from multiflow.errors import MultiflowError, SpecError
from multiflow.fleet import Fleet, FleetEntry
from multiflow.model import Capabilities, FlowLog, FlowLogStatus
from multiflow.plugins import get_provider
from multiflow.provider import ResourceLister
from multiflow.spec import FlowLogSpec
from multiflow.validate import check_spec, effective_interval, effective_traffic

if TYPE_CHECKING:
    from multiflow.apply import ApplyResult, ProgressEvent

__all__ = ["MANAGED_TAG", "SPEC_TAG", "Action", "Change", "Connections", "Plan", "plan", "validate_fleet"]

MANAGED_TAG = "multiflow:managed"
SPEC_TAG = "multiflow:spec"
#: Attributes a provider may change in place (see Capabilities.modifiable).
_IN_PLACE = {"name", "description", "interval"}


class Action(str, Enum):
    """What apply will do for one resource of one entry."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    KEEP = "keep"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Change:
    """One line of a plan: an action on one resource, with why.

    ``spec`` is the wanted spec of the change's entry in its region (its ids are all the entry's resources
    there, shared by the entry's changes); ``flow_log`` is what the cloud has now, where it has one.
    """

    action: Action
    provider: str
    region: str
    entry: str | None
    resource_id: str
    spec: FlowLogSpec | None = None
    flow_log: FlowLog | None = None
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "action": self.action.value,
            "provider": self.provider,
            "region": self.region,
            "entry": self.entry,
            "resource_id": self.resource_id,
            "flow_log_id": self.flow_log.id if self.flow_log else None,
            "reasons": list(self.reasons),
        }


class Connections:
    """One client per (provider, region), made on first use and shared; thread-safe. Close when done.

    :param options_for: connect options for a (provider, region), e.g. a sandbox's endpoint; none by default.
    """

    def __init__(self, options_for: Callable[[str, str], dict[str, Any]] | None = None) -> None:
        self._options_for = options_for or (lambda provider, region: {})
        self._clients: dict[tuple[str, str], Client] = {}
        self._lock = threading.Lock()

    def client(self, provider: str, region: str) -> Client:
        """The client for ``provider`` in ``region``."""
        key = (provider, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = connect(provider, region=region, **self._options_for(provider, region))
            return self._clients[key]

    def use(self, client: Client) -> None:
        """Use a ready client for its provider and region (e.g. one made with custom options or a session)."""
        with self._lock:
            self._clients[(client.provider.name, client.region)] = client

    def close(self) -> None:
        """Close every client made."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def validate_fleet(fleet: Fleet) -> None:
    """Check every entry against its provider, without any API call; a located FleetError otherwise."""
    for index, entry in enumerate(fleet.flow_logs):
        try:
            provider = get_provider(entry.provider)
        except MultiflowError as exc:
            raise fleet.error_at(index, SpecError("provider", entry.provider, str(exc))) from None
        try:
            spec = fleet.spec_for(entry, entry.resources.ids or ["selected-by-where"])
            check_spec(spec, provider.capabilities)
            provider.validate(spec)
            validate_selector = getattr(provider, "validate_selector", None)
            if entry.resources.ids is None and validate_selector is not None:
                validate_selector(entry.resources.kind)  # a selector the session could only refuse after reading
        except SpecError as exc:
            raise fleet.error_at(index, exc) from None


def options_digest(spec: FlowLogSpec) -> str:
    """A digest of what cannot be read back from a cloud: the provider-only option blocks and the field list."""
    data = spec.model_dump(mode="json", include={"aws", "alibaba", "options", "fields"})
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]


def managed_tags(fleet: Fleet, entry: FleetEntry, spec: FlowLogSpec) -> dict[str, str]:
    """The tags that mark a flow log as this fleet's, made by this entry."""
    return {MANAGED_TAG: fleet.name, SPEC_TAG: f"{entry.name}@{options_digest(spec)}"}


@dataclass
class Plan:
    """What apply would do, change by change. ``apply()`` does it."""

    fleet: Fleet
    changes: list[Change]
    connections: Connections
    destroy: bool = False

    @property
    def pending(self) -> list[Change]:
        """Changes apply would make (everything but keep and conflict)."""
        return [c for c in self.changes if c.action not in (Action.KEEP, Action.CONFLICT)]

    @property
    def conflicts(self) -> list[Change]:
        """Wanted flow logs the cloud would refuse, because of a flow log multiflow does not manage."""
        return [c for c in self.changes if c.action is Action.CONFLICT]

    def counts(self) -> dict[tuple[str, str], Counter[str]]:
        """Actions counted per (provider, region)."""
        counts: dict[tuple[str, str], Counter[str]] = {}
        for change in self.changes:
            counts.setdefault((change.provider, change.region), Counter())[change.action.value] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view: the changes and the counts."""
        return {
            "fleet": self.fleet.name,
            "destroy": self.destroy,
            "changes": [c.as_dict() for c in self.changes],
            "counts": [
                {"provider": p, "region": r, **dict(sorted(c.items()))} for (p, r), c in sorted(self.counts().items())
            ],
        }

    def apply(self, *, timeout: float = 900.0, progress: Callable[[ProgressEvent], None] | None = None) -> ApplyResult:
        """Carry the plan out; see :func:`multiflow.apply.apply_plan`."""
        from multiflow.apply import apply_plan

        return apply_plan(self, timeout=timeout, progress=progress)


def plan(fleet: Fleet, connections: Connections | None = None, *, destroy: bool = False) -> Plan:
    """Read the clouds and diff them against ``fleet`` (or, with ``destroy``, against nothing)."""
    validate_fleet(fleet)
    connections = connections or Connections()
    with _bulk_reading():
        changes = _changes(fleet, connections, destroy)
    return Plan(fleet=fleet, changes=changes, connections=connections, destroy=destroy)


def _changes(fleet: Fleet, connections: Connections, destroy: bool) -> list[Change]:
    regions = sorted({(t.entry.provider, t.region) for t in fleet.targets()})
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(regions)))) as pool:
        read = pool.map(lambda pr: connections.client(*pr).describe(include_raw=False), regions)
        observed = dict(zip(regions, read, strict=True))
    desired: dict[tuple[str, str, str, str], _Wanted] = {}
    if not destroy:
        resolved = _resolve_all(fleet, connections)
        for target in fleet.targets():
            entry = target.entry
            ids = resolved[(entry.name, target.region)]
            if not ids:
                continue
            provider = get_provider(entry.provider)
            spec = fleet.spec_for(entry, ids)
            normalize = getattr(provider, "normalize", None)
            wanted = _Wanted.of(normalize(spec, target.region) if normalize else spec, provider.capabilities)
            for resource_id in ids:
                desired[(entry.provider, target.region, entry.name, resource_id)] = wanted
    changes: list[Change] = []
    for provider_name, region in regions:
        flow_logs = observed[(provider_name, region)]
        caps = get_provider(provider_name).capabilities
        here = {k: v for k, v in desired.items() if k[:2] == (provider_name, region)}
        changes += _diff(fleet, provider_name, region, caps, here, flow_logs)
    order = {a: n for n, a in enumerate(Action)}
    changes.sort(key=lambda c: (c.provider, c.region, order[c.action], c.entry or "", c.resource_id))
    return changes


@contextmanager
def _bulk_reading() -> Iterator[None]:
    """Pause the cyclic garbage collector while a plan reads and diffs (restored after, as it was).

    Reading 100,000 flow logs makes a million small objects and no reference cycles: reference counting frees
    them all, while the cyclic collector, triggered by the allocations alone, walks the growing heap over and
    over (more than half of plan's time at that size). It is process-wide, so the pause is kept to the read.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _resolve_all(fleet: Fleet, connections: Connections) -> dict[tuple[str, str], list[str]]:
    """Resource ids per (entry, region): explicit ids, or a listing per distinct selector (in parallel)."""
    jobs: dict[tuple[str, str, str, str], Callable[[], list[str]]] = {}
    keys: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    resolved: dict[tuple[str, str], list[str]] = {}
    for target in fleet.targets():
        entry, region = target.entry, target.region
        if entry.resources.ids is not None:
            resolved[(entry.name, region)] = list(entry.resources.ids)
            continue
        tags = entry.resources.tag_filter()
        key = (entry.provider, region, entry.resources.kind.value, json.dumps(tags, sort_keys=True))
        keys[(entry.name, region)] = key
        jobs.setdefault(key, _lister(connections, entry, region, tags))
    with ThreadPoolExecutor(max_workers=min(8, max(1, len(jobs)))) as pool:
        results = dict(zip(jobs, pool.map(lambda job: job(), jobs.values()), strict=True))
    for name_region, key in keys.items():
        resolved[name_region] = results[key]
    return resolved


def _lister(
    connections: Connections, entry: FleetEntry, region: str, tags: dict[str, str | None]
) -> Callable[[], list[str]]:
    def run() -> list[str]:
        session = connections.client(entry.provider, region).session
        if not isinstance(session, ResourceLister):
            raise SpecError(
                "resources.where",
                entry.resources.where,
                "ids (this provider cannot list resources)",
                provider=entry.provider,
            )
        return session.list_resources(entry.resources.kind, tags)

    return run


def _owner(flow_log: FlowLog) -> tuple[str | None, str | None, str | None]:
    """(fleet, entry, digest) from a flow log's tags; Nones where it is not multiflow's."""
    fleet_name = flow_log.tags.get(MANAGED_TAG)
    entry, _, digest = flow_log.tags.get(SPEC_TAG, "").partition("@")
    return fleet_name, entry or None, digest or None


def _diff(
    fleet: Fleet,
    provider: str,
    region: str,
    caps: Capabilities,
    wanted: dict[tuple[str, str, str, str], _Wanted],
    flow_logs: Iterable[FlowLog],
) -> list[Change]:
    ours: dict[tuple[str, str], list[FlowLog]] = {}
    others: dict[str, list[FlowLog]] = {}
    for flow_log in flow_logs:
        if flow_log.status is FlowLogStatus.DELETING:
            continue
        fleet_name, entry, _ = _owner(flow_log)
        if fleet_name == fleet.name and entry:
            ours.setdefault((entry, flow_log.resource.id), []).append(flow_log)
        else:
            others.setdefault(flow_log.resource.id, []).append(flow_log)
    changes: list[Change] = []
    for (_, _, entry, resource_id), want in wanted.items():
        spec = want.spec
        existing = ours.pop((entry, resource_id), [])

        def change(
            action: Action,
            reasons: tuple[str, ...],
            flow_log: FlowLog | None = None,
            wanted_spec: FlowLogSpec | None = spec,
            on: str = resource_id,
            by: str = entry,
        ) -> Change:
            return Change(action, provider, region, by, on, wanted_spec, flow_log, reasons)

        if not existing:
            blocker = _blocking(spec, others.get(resource_id, []), caps)
            if blocker is not None:
                changes.append(change(Action.CONFLICT, (_conflict_reason(blocker, caps),), blocker))
            else:
                changes.append(change(Action.CREATE, ("not there yet",)))
            continue
        current, *duplicates = existing
        changes += [change(Action.DELETE, ("a duplicate of " + current.id,), d, None) for d in duplicates]
        action, reasons = _compare(want, current, caps)
        changes.append(change(action, reasons, current))
    for (entry, resource_id), leftovers in ours.items():
        for flow_log in leftovers:
            changes.append(
                Change(
                    Action.DELETE,
                    provider=provider,
                    region=region,
                    entry=entry,
                    resource_id=resource_id,
                    flow_log=flow_log,
                    reasons=("no longer wanted",),
                )
            )
    return changes


def _blocking(spec: FlowLogSpec, present: list[FlowLog], caps: Capabilities) -> FlowLog | None:
    for flow_log in present:
        if caps.one_flow_log_per_resource or flow_log.destination == spec.destination:
            return flow_log
    return None


def _conflict_reason(blocker: FlowLog, caps: Capabilities) -> str:
    owner, _, _ = _owner(blocker)
    who = f"managed by fleet {owner!r}" if owner else "not managed by multiflow"
    rule = "one flow log per resource" if caps.one_flow_log_per_resource else "one flow log per destination"
    return f"{blocker.id} ({who}) already logs this resource; the cloud allows {rule}"


@dataclass(frozen=True)
class _Wanted:
    """What one entry wants in one region, worked out once and shared by all its resources."""

    spec: FlowLogSpec
    traffic: str | None
    interval: int
    digest: str

    @classmethod
    def of(cls, spec: FlowLogSpec, caps: Capabilities) -> _Wanted:
        traffic = effective_traffic(spec, caps)
        return cls(spec, traffic.value if traffic else None, effective_interval(spec, caps), options_digest(spec))


def _compare(want: _Wanted, observed: FlowLog, caps: Capabilities) -> tuple[Action, tuple[str, ...]]:
    """KEEP, UPDATE (in place) or REPLACE, with each difference as a reason."""
    spec = want.spec
    differences: dict[str, str] = {}

    def differ(name: str, wanted: object, have: object) -> None:
        if wanted is not have and wanted != have:
            differences[name] = f"{name}: {_show(have)} → {_show(wanted)}"

    have_traffic = observed.traffic.value if observed.traffic else None
    if have_traffic is not None or want.traffic is not None:
        differ("traffic", want.traffic, have_traffic)
    differ("interval", want.interval, observed.interval)
    if observed.destination is not None:
        differ("destination", spec.destination, observed.destination)
    if spec.fields is not None and observed.fields is not None:
        differ("fields", spec.fields, observed.fields)
    if caps.name_max_length is not None:
        differ("name", spec.name, observed.name)
    if caps.description_max_length is not None:
        differ("description", spec.description, observed.description)
    user_tags = {k: v for k, v in observed.tags.items() if not k.startswith("multiflow:")}
    differ("tags", spec.tags, user_tags)
    if _owner(observed)[2] != want.digest:
        differences["options"] = "provider options or fields changed"
    if observed.status is FlowLogStatus.INACTIVE:
        differences["status"] = "status: inactive → active"
    if not differences:
        return Action.KEEP, ()
    modifiable = set(caps.modifiable) & _IN_PLACE
    in_place = all(name in modifiable or (name == "status" and caps.start_stop) for name in differences)
    return (Action.UPDATE if in_place else Action.REPLACE), tuple(differences.values())


def _show(value: object) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, False)) + "}"
    return repr(value)
