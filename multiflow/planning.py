"""Diff what a fleet file wants against what the clouds have: create, update, replace, delete, keep, conflict.

There is no state file: the clouds are the state. Every flow log multiflow creates carries two tags,
``multiflow:managed=<fleet name>`` (which fleet owns it; plan never touches flow logs of other fleets or made by
hand) and ``multiflow:spec=<entry>@<digest>`` (which entry made it, and a digest of the provider-only options that
cannot be read back or changed in place). Everything that can be read back is compared attribute by attribute, so
a change made by hand (drift) shows up and is corrected by apply; an interrupted apply converges when run again.

Reads follow the fleet, not the region: per place, the fleet's own flow logs by its ownership tag (whatever else
the region holds); then, only where a flow log would be created, the flow logs already on those resources and
which of the named resources exist (each provider answers in the fewest calls its cloud allows: filtered by id,
or a listing where that is fewer calls); and one paginated resource listing per selector. Everything is joined in
memory.

A provider or region that cannot be read (an outage, refused credentials) does not stop the others: its targets
are the plan's :attr:`Plan.failed_targets`, each with its error, and the rest is planned as usual. A flow log the
fleet wants that is still activating is a ``wait``, not a ``keep``: the clouds do not match the file until it is
active.
"""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel

from multiflow.accounts import DEFAULT_ACCOUNT, Account, Shard
from multiflow.client import Client, Connections
from multiflow.errors import MultiflowError, SpecError
from multiflow.fleet import Fleet, Target
from multiflow.model import Capabilities, FlowLog, FlowLogStatus
from multiflow.ownership import MANAGED_TAG, options_digest, options_digests, owner_of, user_tags
from multiflow.plugins import get_provider
from multiflow.provider import ResourceChecker, ResourceLister
from multiflow.scope import MAX_PARALLEL, Place, Scope, across_accounts, resolve
from multiflow.spec import FlowLogSpec, ResourceKind
from multiflow.validate import effective_interval, effective_traffic, validate_fleet

__all__ = ["Action", "Change", "Difference", "FailedTarget", "Plan", "plan"]

_K = TypeVar("_K")
_V = TypeVar("_V")


class Action(str, Enum):
    """What apply will do for one resource of one entry."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"
    WAIT = "wait"
    KEEP = "keep"
    CONFLICT = "conflict"


@dataclass(frozen=True)
class Difference:
    """One attribute that differs: what the cloud has (``before``) and what the file wants (``after``).

    ``field`` is a spec field (``interval``, ``name``, ``tags``...), ``status`` for a stopped flow log that should
    run, or ``options`` for what cannot be read back (the provider's options block or the record fields), whose
    before and after are digests.
    """

    field: str
    before: Any
    after: Any

    def describe(self) -> str:
        """One line a person reads: ``interval: 600 → 60``."""
        if self.field == "options":
            return "provider options or fields changed"
        return f"{self.field}: {_show(self.before)} → {_show(self.after)}"

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {"field": self.field, "before": _jsonable(self.before), "after": _jsonable(self.after)}


@dataclass(frozen=True)
class Change:
    """One line of a plan: an action on one resource, with why.

    ``spec`` is the wanted spec of the change's entry in its region (its ids are all the entry's resources
    there, shared by the entry's changes); ``flow_log`` is what the cloud has now, where it has one.
    ``differences`` say, for an update or a replacement, each attribute and its before/after; ``note`` says
    why for the other actions (not there yet, no longer wanted, a duplicate, a conflict).
    """

    action: Action
    provider: str
    region: str
    entry: str | None
    resource_id: str
    spec: FlowLogSpec | None = None
    flow_log: FlowLog | None = None
    differences: tuple[Difference, ...] = ()
    note: str | None = None
    account: str = DEFAULT_ACCOUNT

    @property
    def place(self) -> Place:
        """The provider, account and region of the change."""
        return Place(self.provider, self.account, self.region)

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why, as lines a person reads."""
        return ((self.note,) if self.note else ()) + tuple(d.describe() for d in self.differences)

    def differs_in(self, field: str) -> bool:
        """Whether ``field`` is among the differences."""
        return any(d.field == field for d in self.differences)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "action": self.action.value,
            "provider": self.provider,
            "account": self.account or None,
            "region": self.region,
            "entry": self.entry,
            "resource_id": self.resource_id,
            "flow_log_id": self.flow_log.id if self.flow_log else None,
            "reasons": list(self.reasons),
            "differences": [d.as_dict() for d in self.differences],
        }


@dataclass(frozen=True)
class FailedTarget:
    """A provider, account and region plan could not read (so planned nothing for), the entries it holds, and why.

    ``region`` is empty where a whole account could not be entered (its role cannot be assumed), and ``account``
    is empty for the default account; ``source`` names the account source where a whole one could not be
    listed (an organization).
    """

    provider: str
    region: str
    entries: tuple[str, ...]
    error: MultiflowError
    account: str = DEFAULT_ACCOUNT
    source: str = ""

    def label(self) -> str:
        """Where, in words: ``aws 111111111111 us-east-1``, ``aws account 111111111111``,
        ``aws accounts.aws[1] (organization)``."""
        if not self.region and self.account:
            return f"{self.provider} account {self.account}" + (f" of {self.source}" if self.source else "")
        if not self.region:
            return f"{self.provider} {self.source or 'accounts'}"
        return Place(self.provider, self.account, self.region).label()

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the error keeps the provider's code and request id)."""
        return {
            "provider": self.provider,
            "account": self.account or None,
            "source": self.source or None,
            "region": self.region or None,
            "entries": list(self.entries),
            "error": str(self.error),
            "error_class": type(self.error).__name__,
            "code": getattr(self.error, "code", None),
            "request_id": getattr(self.error, "request_id", None),
        }


@dataclass(frozen=True)
class Plan:
    """What apply would do, change by change: a value. :func:`multiflow.apply` carries it out.

    ``failed_targets`` are the providers and regions that could not be read: nothing is planned there, and the
    plan is not a whole one until they can be (:attr:`complete`). ``warnings`` say what is likely a mistake but
    not an error (a selector that matches nothing in a region, an explicit id the region does not have).
    """

    fleet: Fleet
    changes: tuple[Change, ...]
    destroy: bool = False
    failed_targets: tuple[FailedTarget, ...] = ()
    warnings: tuple[str, ...] = ()
    accounts: Mapping[tuple[str, str], Account] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    shard: Shard | None = None
    outside: frozenset[tuple[str, str]] = frozenset()

    def account(self, provider: str, account_id: str) -> Account | None:
        """The account apply enters for a change of ``provider`` in ``account_id`` (``None``: the default)."""
        return None if account_id == DEFAULT_ACCOUNT else self.accounts.get((provider, account_id))

    @property
    def pending(self) -> list[Change]:
        """Changes apply would make or wait for (everything but keep and conflict)."""
        return [c for c in self.changes if c.action not in (Action.KEEP, Action.CONFLICT)]

    @property
    def complete(self) -> bool:
        """Whether every provider and region of the fleet was read."""
        return not self.failed_targets

    @property
    def conflicts(self) -> list[Change]:
        """Wanted flow logs the cloud would refuse, because of a flow log multiflow does not manage."""
        return [c for c in self.changes if c.action is Action.CONFLICT]

    def counts(self) -> dict[tuple[str, str, str], Counter[str]]:
        """Actions counted per (provider, account, region)."""
        counts: dict[tuple[str, str, str], Counter[str]] = {}
        for change in self.changes:
            counts.setdefault((change.provider, change.account, change.region), Counter())[change.action.value] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view: the changes and the counts."""
        return {
            "fleet": self.fleet.name,
            "destroy": self.destroy,
            "shard": str(self.shard) if self.shard else None,
            "accounts": [
                {"provider": a.provider, "account": a.id, "name": a.name}
                for key, a in sorted(self.accounts.items())
                if key not in self.outside
            ],
            "outside_accounts": [
                {"provider": a.provider, "account": a.id, "name": a.name}
                for key, a in sorted(self.accounts.items())
                if key in self.outside
            ],
            "failed_targets": [t.as_dict() for t in self.failed_targets],
            "warnings": list(self.warnings),
            "notes": list(self.notes),
            "changes": [c.as_dict() for c in self.changes],
            "counts": [
                {"provider": p, "account": a or None, "region": r, **dict(sorted(c.items()))}
                for (p, a, r), c in sorted(self.counts().items())
            ],
        }


def plan(
    fleet: Fleet,
    connections: Connections | None = None,
    *,
    destroy: bool = False,
    shard: Shard | None = None,
    scope: Scope | None = None,
) -> Plan:
    """Read the clouds through ``connections`` and diff them against ``fleet`` (with ``destroy``, against nothing).

    The fleet is first resolved over the accounts and regions it covers (:func:`multiflow.scope.resolve`, or
    ``scope`` where given); ``shard`` keeps shard K of N of the accounts (``Shard.parse("2/4")``).

    Pass the same ``connections`` to :func:`multiflow.apply`, to reuse its clients; without, plan makes clients
    with each SDK's standard credentials and closes them when done.
    """
    validate_fleet(fleet)
    with _bulk_reading(), _borrowed(connections) as clients:
        where = scope if scope is not None else resolve(fleet, clients, shard=shard)
        changes, failed, warnings = _changes(fleet, where, clients, destroy)
    return Plan(
        fleet=fleet,
        changes=tuple(changes),
        destroy=destroy,
        failed_targets=failed,
        warnings=where.warnings + warnings,
        accounts=dict(where.accounts),
        notes=where.notes,
        shard=where.shard,
        outside=where.outside,
    )


@contextmanager
def _borrowed(connections: Connections | None) -> Iterator[Connections]:
    """``connections`` as it is, or a pool of its own closed on the way out."""
    if connections is not None:
        yield connections
        return
    with Connections() as made:
        yield made


def _parallel(jobs: Mapping[_K, Callable[[], _V]], place_of: Callable[[_K], Place]) -> dict[_K, _V | MultiflowError]:
    """Run ``jobs`` on up to :data:`MAX_PARALLEL` threads, round-robin over accounts (so that the workers draw on
    every account's rate limit, not one account's); each result, or the MultiflowError it raised."""
    order = across_accounts(jobs, place_of)
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, max(1, len(order)))) as pool:
        return dict(zip(order, pool.map(lambda key: _caught(jobs[key]), order), strict=True))


def _caught(job: Callable[[], _V]) -> _V | MultiflowError:
    try:
        return job()
    except SpecError:
        raise
    except MultiflowError as exc:
        return exc


def _changes(
    fleet: Fleet, scope: Scope, connections: Connections, destroy: bool
) -> tuple[list[Change], tuple[FailedTarget, ...], tuple[str, ...]]:
    """The changes of every place, in three steps whose reads follow the fleet, not what else a region holds:

    1. each place's own flow logs, by the fleet's ownership tag (and each selector's resources);
    2. where the fleet would create a flow log (a resource with none of this entry's), the flow logs already on
       those resources (a cloud may allow one a resource, or one a destination) and, for explicit ids, which of
       them exist (:class:`~multiflow.provider.ResourceChecker`);
    3. the diff.
    """
    targets = scope.targets
    places = scope.places()
    swept = set(scope.sweep)
    jobs = {place: _owned(fleet, scope, connections, place) for place in places}
    results = _parallel(jobs, lambda place: place)
    errors = {where: r for where, r in results.items() if isinstance(r, MultiflowError)}
    observed = {where: r for where, r in results.items() if not isinstance(r, MultiflowError)}
    desired: dict[Place, dict[tuple[str, str], _Wanted]] = {}
    warnings: list[str] = []
    empty: dict[str, list[str]] = {}  # entry -> the places where its selector matched nothing
    if not destroy:
        resolved = _resolve_all(scope, connections, errors)
        explicit: dict[tuple[Place, str], set[str]] = {}  # (place, kind) -> ids named in the file
        for target in targets:
            entry = target.entry
            place = Place(entry.provider, target.account, target.region)
            if place in errors:
                continue
            ids = resolved[(entry.name, place)]
            if not ids:
                if entry.resources.where is not None:
                    empty.setdefault(entry.name, []).append(place.label())
                continue
            if entry.resources.ids is not None:
                explicit.setdefault((place, entry.resources.kind.value), set()).update(ids)
            provider = get_provider(entry.provider)
            spec = provider.normalize(target.with_ids(ids), target.region)
            wanted = _Wanted.of(spec, provider.capabilities, provider.name)
            here = desired.setdefault(place, {})
            for resource_id in ids:
                here[(entry.name, resource_id)] = wanted
        warnings += _look_around(fleet, scope, connections, desired, observed, errors, explicit, targets)
    for name, wheres in empty.items():
        entry = next(t.entry for t in targets if t.entry.name == name)
        shown = ", ".join(wheres[:3]) + (f" and {len(wheres) - 3} more place(s)" if len(wheres) > 3 else "")
        kind = entry.resources.kind.value
        warnings.append(f"{name}: where {entry.resources.where} matches no {kind} in {shown}")
    changes: list[Change] = []
    for place, flow_logs in observed.items():
        if place in errors:
            continue
        caps = get_provider(place.provider).capabilities
        changes += _diff(fleet, place, caps, desired.get(place, {}), flow_logs)
    order = {a: n for n, a in enumerate(Action)}
    changes.sort(key=lambda c: (c.provider, c.account, c.region, order[c.action], c.entry or "", c.resource_id))
    failed = [
        FailedTarget(
            place.provider,
            place.region,
            tuple(t.entry.name for t in targets if Place(t.provider, t.account, t.region) == place),
            error,
            account=place.account,
        )
        for place, error in sorted(errors.items())
        if place not in swept
    ]
    warnings += [
        f"{place.label()}: could not look for the fleet's flow logs there: {error}"
        for place, error in sorted(errors.items())
        if place in swept
    ]
    failed = [
        FailedTarget(
            f.provider,
            f.region or "",
            f.entries,
            f.error,
            account=f.account or DEFAULT_ACCOUNT,
            source=f.source,
        )
        for f in scope.failures
    ] + failed
    return changes, tuple(failed), tuple(warnings)


def _owned(fleet: Fleet, scope: Scope, connections: Connections, place: Place) -> Callable[[], list[FlowLog]]:
    """The job that reads the fleet's own flow logs in ``place``: by its ownership tag, whatever else is there."""

    def run() -> list[FlowLog]:
        return _client(connections, scope, place).describe(tags={MANAGED_TAG: fleet.name}, include_raw=False)

    return run


def _look_around(
    fleet: Fleet,
    scope: Scope,
    connections: Connections,
    desired: Mapping[Place, Mapping[tuple[str, str], _Wanted]],
    observed: dict[Place, list[FlowLog]],
    errors: dict[Place, MultiflowError],
    explicit: Mapping[tuple[Place, str], set[str]],
    targets: Iterable[Target],
) -> list[str]:
    """Step 2 of :func:`_changes`: add to ``observed`` the flow logs on the resources where the fleet would create
    one, and warn of named resources that do not exist. A place whose lookup fails joins ``errors``; a failed
    existence check only leaves the warning out."""
    fresh: dict[Place, list[str]] = {}
    for place, wanted in desired.items():
        if place in errors:
            continue
        have = {
            (owner.entry, f.resource.id)
            for f in observed.get(place, [])
            if f.status is not FlowLogStatus.DELETING and (owner := owner_of(f)).fleet == fleet.name and owner.entry
        }
        todo = [key for key in wanted if key not in have]
        if todo:
            fresh[place] = list(dict.fromkeys(resource_id for _, resource_id in todo))
    named_at: dict[Place, list[tuple[str, set[str]]]] = {}  # place -> (kind, ids named in the file)
    for (where, kind), named in explicit.items():
        named_at.setdefault(where, []).append((kind, named))
    lookups: dict[tuple[Place, str], Callable[[], Any]] = {}
    asked: dict[tuple[Place, str], set[str]] = {}  # (place, kind) -> the named ids whose existence is asked
    for place, resource_ids in fresh.items():
        lookups[(place, "")] = _on_resources(scope, connections, place, resource_ids)
        new = set(resource_ids)
        selectable = get_provider(place.provider).capabilities.selectable_kinds
        for kind, named in named_at.get(place, []):
            ids = named & new
            if ids and ResourceKind(kind) in selectable:
                asked[(place, kind)] = ids
                lookups[(place, kind)] = _existing(scope, connections, place, ResourceKind(kind), sorted(ids))
    found = _parallel(lookups, lambda key: key[0])
    entries_at: dict[tuple[Place, str], list[Target]] = {}
    for target in targets:
        place = Place(target.entry.provider, target.account, target.region)
        entries_at.setdefault((place, target.entry.resources.kind.value), []).append(target)
    warnings: list[str] = []
    for (place, kind), result in sorted(found.items(), key=lambda item: (item[0][0], item[0][1])):
        if not kind:
            if isinstance(result, MultiflowError):
                errors.setdefault(place, result)
            else:
                seen = {f.id for f in observed.get(place, [])}
                observed.setdefault(place, []).extend(f for f in result if f.id not in seen)
            continue
        if isinstance(result, MultiflowError) or place in errors:
            continue
        missing = asked[(place, kind)] - set(result)
        for target in entries_at.get((place, kind), []):
            entry = target.entry
            absent = [i for i in entry.resources.ids or () if i in missing]
            if absent:
                shown = ", ".join(absent[:10]) + (f" and {len(absent) - 10} more" if len(absent) > 10 else "")
                warnings.append(f"{entry.name}: no {kind} {shown} in {place.label()} (creates there will fail)")
    return warnings


def _client(connections: Connections, scope: Scope, place: Place) -> Client:
    """The client of ``place``: its provider and region, in the account the scope enters there."""
    return connections.client(place.provider, place.region, scope.account(place.provider, place.account))


def _on_resources(
    scope: Scope, connections: Connections, place: Place, resource_ids: list[str]
) -> Callable[[], list[FlowLog]]:
    def run() -> list[FlowLog]:
        return _client(connections, scope, place).describe(resource_ids=resource_ids, include_raw=False)

    return run


def _existing(
    scope: Scope, connections: Connections, place: Place, kind: ResourceKind, ids: list[str]
) -> Callable[[], set[str]]:
    def run() -> set[str]:
        session = _client(connections, scope, place).session
        if isinstance(session, ResourceChecker):
            return set(session.existing_resources(kind, ids))
        if isinstance(session, ResourceLister):
            return set(session.list_resources(kind, {})) & set(ids)
        return set(ids)

    return run


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


def _resolve_all(
    scope: Scope, connections: Connections, errors: dict[Place, MultiflowError]
) -> dict[tuple[str, Place], list[str]]:
    """Resource ids per (entry, place): explicit ids, or a listing per distinct selector (in parallel).

    A selector's listing that fails puts its place in ``errors`` (plan plans nothing there); a place already in
    ``errors`` is not listed.
    """
    jobs: dict[tuple[Place, str, str], Callable[[], list[str]]] = {}
    keys: dict[tuple[str, Place], tuple[Place, str, str]] = {}
    resolved: dict[tuple[str, Place], list[str]] = {}
    for target in scope.targets:
        entry = target.entry
        place = Place(entry.provider, target.account, target.region)
        if place in errors:
            continue
        if entry.resources.ids is not None:
            resolved[(entry.name, place)] = list(entry.resources.ids)
            continue
        tags = entry.resources.tag_filter()
        key = (place, entry.resources.kind.value, json.dumps(tags, sort_keys=True))
        keys[(entry.name, place)] = key
        jobs.setdefault(key, _lister(connections, scope, target, tags))
    results = _parallel(jobs, lambda key: key[0])
    for key, listed in results.items():
        if isinstance(listed, MultiflowError):
            errors.setdefault(key[0], listed)
    for name_place, key in keys.items():
        listed = results[key]
        resolved[name_place] = [] if isinstance(listed, MultiflowError) else listed
    return resolved


def _lister(
    connections: Connections, scope: Scope, target: Target, tags: dict[str, str | None]
) -> Callable[[], list[str]]:
    entry = target.entry

    def run() -> list[str]:
        session = _client(connections, scope, Place(entry.provider, target.account, target.region)).session
        if not isinstance(session, ResourceLister):
            raise SpecError(
                "resources.where",
                entry.resources.where,
                "ids (this provider cannot list resources)",
                provider=entry.provider,
            )
        return session.list_resources(entry.resources.kind, tags)

    return run


def _diff(
    fleet: Fleet,
    place: Place,
    caps: Capabilities,
    wanted: dict[tuple[str, str], _Wanted],
    flow_logs: Iterable[FlowLog],
) -> list[Change]:
    provider, region, account = place.provider, place.region, place.account
    ours: dict[tuple[str, str], list[FlowLog]] = {}
    others: dict[str, list[FlowLog]] = {}
    for flow_log in flow_logs:
        if flow_log.status is FlowLogStatus.DELETING:
            continue
        owner = owner_of(flow_log)
        if owner.fleet == fleet.name and owner.entry:
            ours.setdefault((owner.entry, flow_log.resource.id), []).append(flow_log)
        else:
            others.setdefault(flow_log.resource.id, []).append(flow_log)
    changes: list[Change] = []
    for (entry, resource_id), want in wanted.items():
        spec = want.spec
        existing = ours.pop((entry, resource_id), [])

        def change(
            action: Action,
            flow_log: FlowLog | None = None,
            *,
            note: str | None = None,
            differences: tuple[Difference, ...] = (),
            wanted_spec: FlowLogSpec | None = spec,
            on: str = resource_id,
            by: str = entry,
        ) -> Change:
            return Change(action, provider, region, by, on, wanted_spec, flow_log, differences, note, account)

        if not existing:
            blocker = _blocking(spec, others.get(resource_id, []), caps, region)
            if blocker is not None:
                changes.append(change(Action.CONFLICT, blocker, note=_conflict_reason(blocker, caps)))
            else:
                changes.append(change(Action.CREATE, note="not there yet"))
            continue
        current, *duplicates = existing
        changes += [change(Action.DELETE, d, note="a duplicate of " + current.id, wanted_spec=None) for d in duplicates]
        action, differences = _compare(want, current, caps)
        if action is Action.KEEP and current.status is FlowLogStatus.ACTIVATING:
            # Right in every attribute, but not running yet (an apply that timed out): not converged until it is.
            action, note = Action.WAIT, f"{current.status.value}: apply waits until it is active"
            changes.append(change(action, current, note=note))
            continue
        changes.append(change(action, current, differences=differences))
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
                    note="no longer wanted",
                    account=account,
                )
            )
    return changes


def _blocking(spec: FlowLogSpec, present: list[FlowLog], caps: Capabilities, region: str) -> FlowLog | None:
    """The flow log already there that the cloud's uniqueness rule says this spec may not sit beside."""
    if not present:
        return None
    if caps.one_flow_log_per_resource:
        return present[0]
    identity = get_provider(caps.provider).destination_identity
    wanted = identity(spec.destination, region)
    for flow_log in present:
        if flow_log.destination is not None and identity(flow_log.destination, region) == wanted:
            return flow_log
    return None


def _conflict_reason(blocker: FlowLog, caps: Capabilities) -> str:
    owner = owner_of(blocker).fleet
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
    digests: frozenset[str]

    options: dict[str, Any]

    @classmethod
    def of(cls, spec: FlowLogSpec, caps: Capabilities, provider: str) -> _Wanted:
        traffic = effective_traffic(spec, caps)
        readable = caps.readable_options
        block = spec.options_for(provider)
        # Only what the file says is compared: an option it leaves unset is the cloud's to choose.
        given = block.model_dump(include=block.model_fields_set & set(readable)) if block is not None else {}
        return cls(
            spec,
            traffic.value if traffic else None,
            effective_interval(spec, caps),
            options_digest(spec, provider, readable),
            options_digests(spec, provider, readable),
            given,
        )


def _compare(want: _Wanted, observed: FlowLog, caps: Capabilities) -> tuple[Action, tuple[Difference, ...]]:
    """KEEP, UPDATE (in place) or REPLACE, with each difference, before and after."""
    spec = want.spec
    differences: dict[str, Difference] = {}

    def differ(name: str, wanted: object, have: object) -> None:
        if wanted is not have and wanted != have:
            differences[name] = Difference(name, have, wanted)

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
    differ("tags", spec.tags, user_tags(observed.tags))
    if want.options and observed.options is not None:
        reported = observed.options.model_dump(include=observed.options.model_fields_set)
        for name, value in want.options.items():
            if name in reported:
                differ(f"options.{name}", value, reported[name])
    digest = owner_of(observed).digest
    if digest not in want.digests:
        differences["options"] = Difference("options", digest, want.digest)
    if observed.status is FlowLogStatus.INACTIVE:
        differences["status"] = Difference("status", FlowLogStatus.INACTIVE.value, FlowLogStatus.ACTIVE.value)
    if not differences:
        return Action.KEEP, ()
    modifiable = set(caps.modifiable)
    in_place = all(name in modifiable or (name == "status" and caps.start_stop) for name in differences)
    return (Action.UPDATE if in_place else Action.REPLACE), tuple(differences.values())


def _show(value: object) -> str:
    if isinstance(value, BaseModel):
        value = value.model_dump()
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, False)) + "}"
    return repr(value)


def _jsonable(value: object) -> object:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Enum):
        return value.value
    return value
