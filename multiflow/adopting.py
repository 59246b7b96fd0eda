"""Adopt: take over flow logs made by hand (or by another tool) that already are what a fleet entry wants.

A plan reports such a flow log as a ``conflict``: the cloud would refuse a second one, and multiflow never touches
what it does not manage. :func:`adoptions` looks at each conflict: when the flow log in the way is unmanaged and
matches the entry's every attribute the cloud reports back, it can be *adopted* (tagged with the fleet's
ownership tags, :func:`multiflow.ownership.managed_tags`), after which plan keeps it like any flow log it made.
Any other stays a conflict, with the reason. :func:`adopt` writes the tags, through the provider session's
optional :class:`~multiflow.provider.TagWriter` protocol; a provider without it is an
:class:`~multiflow.errors.UnsupportedFeature`.

What the cloud cannot report back (an options field it does not read back, record fields it does not show)
cannot be checked: an entry that sets such a thing adopts nothing, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from multiflow.client import Connections
from multiflow.errors import MultiflowError, UnsupportedFeature
from multiflow.model import FlowLog
from multiflow.ownership import MANAGED_TAG, SPEC_TAG, managed_tags, owner_of
from multiflow.planning import Change, Plan, _compare, _Wanted
from multiflow.plugins import get_provider
from multiflow.provider import TagWriter

__all__ = ["Adoption", "AdoptionPlan", "AdoptionResult", "Refusal", "TagWriter", "adopt", "adoptions"]


@dataclass(frozen=True)
class Adoption:
    """A conflict that adopt resolves: the flow log in the way and the ownership tags it will get."""

    change: Change
    flow_log: FlowLog
    tags: dict[str, str]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "action": "adopt",
            "provider": self.change.provider,
            "account": self.change.account or None,
            "region": self.change.region,
            "entry": self.change.entry,
            "resource_id": self.change.resource_id,
            "flow_log_id": self.flow_log.id,
            "tags": self.tags,
        }


@dataclass(frozen=True)
class Refusal:
    """A conflict adopt leaves alone, and why."""

    change: Change
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {**self.change.as_dict(), "adoptable": False, "why_not": self.reason}


@dataclass(frozen=True)
class AdoptionPlan:
    """What adopt would do with a plan's conflicts."""

    plan: Plan
    adoptions: tuple[Adoption, ...]
    refused: tuple[Refusal, ...]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "adoptions": [a.as_dict() for a in self.adoptions],
            "not_adoptable": [r.as_dict() for r in self.refused],
        }


def _unverifiable(change: Change, flow_log: FlowLog) -> str | None:
    """What the entry sets that the cloud does not report back, so that a match cannot be checked."""
    assert change.spec is not None
    provider = get_provider(change.provider)
    block = change.spec.options_for(provider.name)
    hidden = sorted(block.model_fields_set - set(provider.capabilities.readable_options)) if block else []
    if hidden:
        return f"the entry sets {provider.name} options {', '.join(hidden)}, which the cloud does not report back"
    if change.spec.fields is not None and flow_log.fields is None:
        return "the entry sets fields, which the cloud does not report back"
    return None


def _judge(change: Change) -> FlowLog | str:
    """The flow log in ``change``'s way if it can be adopted, else why not."""
    flow_log = change.flow_log
    if flow_log is None or change.spec is None or change.entry is None:
        return "nothing to adopt"
    owner = owner_of(flow_log).fleet
    if owner is not None:
        return f"{flow_log.id} is managed by fleet {owner!r}"
    unverifiable = _unverifiable(change, flow_log)
    if unverifiable:
        return f"{flow_log.id} cannot be checked: {unverifiable}"
    provider = get_provider(change.provider)
    caps = provider.capabilities
    want = _Wanted.of(change.spec, caps, provider.name)
    _, differences = _compare(want, flow_log, caps)
    # Never there on a flow log multiflow did not make: the digest tag, which adoption writes.
    differences = tuple(d for d in differences if d.field != "options")
    if differences:
        return f"{flow_log.id} differs from the entry: " + "; ".join(d.describe() for d in differences)
    return flow_log


def adoptions(plan: Plan) -> AdoptionPlan:
    """Sort ``plan``'s conflicts into flow logs adopt would take over and those it leaves, each with why."""
    taken: dict[str, str] = {}
    adopted: list[Adoption] = []
    refused: list[Refusal] = []
    for change in plan.conflicts:
        judged = _judge(change)
        if isinstance(judged, str):
            refused.append(Refusal(change, judged))
            continue
        if judged.id in taken:
            refused.append(Refusal(change, f"{judged.id} is adopted by entry {taken[judged.id]!r}"))
            continue
        taken[judged.id] = change.entry or ""
        caps = get_provider(change.provider).capabilities
        assert change.spec is not None and change.entry is not None
        tags = managed_tags(plan.fleet.name, change.entry, change.spec, change.provider, caps.readable_options)
        adopted.append(Adoption(change, judged, tags))
    return AdoptionPlan(plan, tuple(adopted), tuple(refused))


@dataclass
class AdoptionResult:
    """The adoptions done and those that failed, each with its error."""

    done: list[Adoption] = field(default_factory=list)
    failed: list[tuple[Adoption, MultiflowError]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing failed."""
        return not self.failed

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "ok": self.ok,
            "done": [a.as_dict() for a in self.done],
            "failed": [{**a.as_dict(), "error": str(e), "error_class": type(e).__name__} for a, e in self.failed],
        }


def adopt(plan: AdoptionPlan, connections: Connections) -> AdoptionResult:
    """Tag every adoption's flow log as the fleet's, a call per (provider, account, region, entry) where the provider's
    session is a :class:`TagWriter`; an :class:`UnsupportedFeature` for each adoption where it is not."""
    result = AdoptionResult()
    groups: dict[tuple[str, str, str, str], list[Adoption]] = {}
    for adoption in plan.adoptions:
        change = adoption.change
        key = (change.provider, change.account, change.region, adoption.tags[SPEC_TAG])
        groups.setdefault(key, []).append(adoption)
    for (provider, account, region, _), members in groups.items():
        try:
            session = connections.client(provider, region, plan.plan.account(provider, account)).session
            if not isinstance(session, TagWriter):
                raise UnsupportedFeature(
                    "adopt",
                    [a.flow_log.id for a in members],
                    f"none yet: the session cannot tag flow logs in place; tag them by hand with {MANAGED_TAG} and "
                    f"{SPEC_TAG} as multiflow plan --adopt -o json shows",
                    provider=provider,
                )
            session.add_tags([a.flow_log.id for a in members], members[0].tags)
        except MultiflowError as exc:
            result.failed += [(a, exc) for a in members]
        else:
            result.done += members
    return result
