"""Check a :class:`FlowLogSpec` against a provider's :class:`Capabilities`, before any API call.

Every refusal is a :class:`SpecError` (or :class:`UnsupportedFeature`) naming the provider, the field, the value
and what the provider allows. Providers add their own finer rules (name syntax, ARNs...) in ``validate``.
"""

from __future__ import annotations

from multiflow.errors import MultiflowError, SpecError, UnsupportedFeature
from multiflow.fleet import Fleet
from multiflow.model import Capabilities
from multiflow.ownership import MANAGED_TAG_COUNT, OWNERSHIP_PREFIX
from multiflow.plugins import get_provider
from multiflow.provider import Provider
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic

__all__ = [
    "check",
    "check_selector",
    "check_spec",
    "effective_interval",
    "effective_traffic",
    "resolve_interval",
    "validate_fleet",
]


def effective_traffic(spec: FlowLogSpec, caps: Capabilities) -> Traffic | None:
    """The traffic type the provider will be asked for (the spec's, or the kind's default)."""
    kind = spec.resources.kind
    return spec.traffic if spec.traffic is not None else caps.default_traffic.get(kind)


def effective_interval(spec: FlowLogSpec, caps: Capabilities) -> int:
    """The interval in seconds the provider will be asked for.

    The spec's interval if the provider has it; with ``interval_policy="finer"``, the largest interval the
    provider has that is not coarser than the one asked for; the kind's default where none was asked for.
    """
    kind = spec.resources.kind
    if spec.interval is None:
        return caps.default_interval[kind]
    return resolve_interval(kind, spec.interval, caps, finer=spec.interval_policy == "finer")


def resolve_interval(kind: ResourceKind, interval: int, caps: Capabilities, *, finer: bool = False) -> int:
    """``interval`` if the provider has it for ``kind``; the nearest finer one if ``finer``; else a SpecError."""
    allowed = caps.intervals[kind]
    if interval in allowed:
        return interval
    candidates = [i for i in allowed if i <= interval]
    if finer and candidates:
        return max(candidates)
    raise SpecError(
        "interval",
        interval,
        [*allowed],
        provider=caps.provider,
        reason=f"seconds, for {kind.value}; set interval_policy: finer to take the nearest finer one",
    )


def check_spec(spec: FlowLogSpec, caps: Capabilities) -> None:
    """Refuse what ``caps`` says the provider cannot take. Makes no call; returns nothing when all is well."""
    provider = caps.provider
    kind = spec.resources.kind
    if kind not in caps.resource_kinds:
        raise UnsupportedFeature(
            "resources.kind", kind.value, [k.value for k in caps.resource_kinds], provider=provider
        )

    allowed_traffic = caps.traffic[kind]
    if spec.traffic is not None:
        if not allowed_traffic:
            raise UnsupportedFeature(
                "traffic",
                spec.traffic.value,
                "no traffic type",
                provider=provider,
                reason=f"{kind.value} flow logs take no traffic type; leave traffic unset",
            )
        if spec.traffic not in allowed_traffic:
            raise SpecError("traffic", spec.traffic.value, [t.value for t in allowed_traffic], provider=provider)

    effective_interval(spec, caps)

    if spec.destination.kind not in caps.destinations:
        raise UnsupportedFeature("destination.kind", spec.destination.kind, caps.destinations, provider=provider)

    if spec.fields is not None:
        known = caps.fields.get(kind, ())
        if not known:
            raise UnsupportedFeature(
                "fields", spec.fields, "the default record format only (leave fields unset)", provider=provider
            )
        unknown = [f for f in spec.fields if f not in known]
        if unknown:
            raise SpecError(f"fields[{spec.fields.index(unknown[0])}]", unknown[0], known, provider=provider)

    _check_tags(spec, caps)

    if spec.name is not None:
        if caps.name_max_length is None:
            raise UnsupportedFeature("name", spec.name, "no name", provider=provider)
        if len(spec.name) > caps.name_max_length:
            raise SpecError("name", spec.name, f"1 to {caps.name_max_length} characters", provider=provider)
    if spec.description is not None:
        if caps.description_max_length is None:
            raise UnsupportedFeature(
                "description", spec.description, "no description (use name or tags)", provider=provider
            )
        if len(spec.description) > caps.description_max_length:
            raise SpecError(
                "description",
                spec.description,
                f"1 to {caps.description_max_length} characters",
                provider=provider,
            )


def _check_tags(spec: FlowLogSpec, caps: Capabilities) -> None:
    provider = caps.provider
    room = caps.max_tags - MANAGED_TAG_COUNT
    if len(spec.tags) > room:
        raise SpecError(
            "tags",
            f"{len(spec.tags)} tags",
            f"at most {room} (the provider's {caps.max_tags}, "
            f"less {MANAGED_TAG_COUNT} that multiflow keeps for itself)",
            provider=provider,
        )
    for key, value in spec.tags.items():
        if len(key) > caps.max_tag_key_length:
            raise SpecError(f"tags.{key}", key, f"keys of 1 to {caps.max_tag_key_length} characters", provider=provider)
        if len(value) > caps.max_tag_value_length:
            raise SpecError(
                f"tags.{key}", value, f"values of at most {caps.max_tag_value_length} characters", provider=provider
            )
        lowered = key.lower()
        for prefix in caps.reserved_tag_prefixes:
            if lowered.startswith(prefix):
                raise SpecError(f"tags.{key}", key, f"keys not starting with {prefix!r} (reserved)", provider=provider)
        if lowered.startswith(OWNERSHIP_PREFIX):
            raise SpecError(
                f"tags.{key}",
                key,
                f"keys not starting with {OWNERSHIP_PREFIX!r} (kept for multiflow)",
                provider=provider,
            )


def check(spec: FlowLogSpec, provider: Provider) -> None:
    """Every check of ``spec`` for ``provider`` before a call: its capabilities, then its own rules."""
    check_spec(spec, provider.capabilities)
    provider.validate(spec)


def validate_fleet(fleet: Fleet) -> None:
    """Check every entry against its provider, without any API call, once per entry; a located FleetError.

    Each entry's spec is built once (:meth:`Fleet.targets`) and shared by all its regions.
    """
    if fleet.validated:
        return
    checked: set[int] = set()
    for target in fleet.targets():
        if target.index in checked:
            continue
        checked.add(target.index)
        try:
            provider = get_provider(target.provider)
        except MultiflowError as exc:
            raise fleet.error_at(target.index, SpecError("provider", target.provider, str(exc))) from None
        try:
            check(target.spec, provider)
            if target.entry.resources.ids is None:
                check_selector(target.entry.resources.kind, provider.capabilities)
        except SpecError as exc:
            raise fleet.error_at(target.index, exc) from None
    fleet.mark_validated()


def check_selector(kind: ResourceKind, caps: Capabilities) -> None:
    """Refuse a fleet selector (``where:``) on a kind the provider's sessions cannot list, before any call."""
    if kind not in caps.selectable_kinds:
        raise UnsupportedFeature(
            "resources.where",
            kind.value,
            [k.value for k in caps.selectable_kinds] or "ids only (no selectors)",
            provider=caps.provider,
            reason=f"a selector lists resources, and {kind.value} cannot be listed: give ids",
        )
