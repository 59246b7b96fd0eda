"""Check a :class:`FlowLogSpec` against a provider's :class:`Capabilities`, before any API call.

Every refusal is a :class:`SpecError` (or :class:`UnsupportedFeature`) naming the provider, the field, the value
and what the provider allows. Providers add their own finer rules (name syntax, ARNs...) in ``validate``.
"""

from __future__ import annotations

import difflib
import os
import re

from multiflow.errors import Abbreviated, MultiflowError, SpecError, UnsupportedFeature
from multiflow.fleet import SELECTED, Fleet, FleetError
from multiflow.fleet_fast import collection_paused
from multiflow.model import Capabilities
from multiflow.ownership import MANAGED_TAG_COUNT, OWNERSHIP_PREFIX
from multiflow.plugins import get_provider
from multiflow.provider import Provider
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic

__all__ = [
    "EXTRA_REGIONS_VARIABLE",
    "check",
    "check_ids",
    "check_region",
    "check_selector",
    "check_spec",
    "effective_interval",
    "effective_traffic",
    "resolve_interval",
    "validate_fleet",
]

#: A region name of any provider: lower-case ASCII letters, digits and inner hyphens, at most 64 characters.
#: Nothing else ever reaches an SDK, which may build a host name from it by string replacement.
_SAFE_REGION = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
#: A resource id of any provider, where the provider declares no pattern for the kind.
_SAFE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")

#: Regions newer than a provider's list, comma-separated, taken where they match the provider's pattern.
EXTRA_REGIONS_VARIABLE = "MULTIFLOW_EXTRA_REGIONS"


def check_region(region: object, caps: Capabilities, field: str = "region") -> str:
    """``region`` if ``caps`` knows it; else a SpecError naming the closest known regions. Makes no call.

    A provider with no region list takes any name of lower-case letters, digits and hyphens (and its
    ``region_pattern`` where it has one). A region the list lacks passes only when it is named in
    ``MULTIFLOW_EXTRA_REGIONS`` and matches the provider's strict pattern: a typo (``cn-hangzou``) is an error
    that suggests the real name, not a plan that quietly finds nothing or a request to an unintended host.
    """
    provider = caps.provider
    if not isinstance(region, str) or len(region) > 64 or not _SAFE_REGION.fullmatch(region):
        raise SpecError(
            field,
            region,
            _known_regions(caps),
            provider=provider,
            reason="lower-case ASCII letters, digits and hyphens only" + _suggest(region, caps),
        )
    pattern = caps.region_pattern
    if caps.regions and region in caps.regions:
        return region
    extra = {r.strip() for r in os.environ.get(EXTRA_REGIONS_VARIABLE, "").split(",")}
    if caps.regions and region not in extra:
        hint = f"; a region newer than multiflow's list: add it to {EXTRA_REGIONS_VARIABLE}"
        raise SpecError(
            field,
            region,
            _known_regions(caps),
            provider=provider,
            reason="not a known region" + _suggest(region, caps) + hint,
        )
    if pattern is not None and not re.fullmatch(pattern, region):
        raise SpecError(field, region, f"a region name matching {pattern}", provider=provider)
    return region


#: Cyrillic and Greek letters that look like Latin ones, for suggestions only (the name itself is refused).
_LOOK_ALIKES = str.maketrans("аеорсхуіѕјԁɡκνοτ", "aeopcxyisjdgkvot")


def _known_regions(caps: Capabilities) -> object:
    return Abbreviated(caps.regions) if caps.regions else "a region name of lower-case letters, digits and hyphens"


def _suggest(region: object, caps: Capabilities) -> str:
    if not isinstance(region, str) or not caps.regions:
        return ""
    # Compare what the name would be in ASCII lower case, so that a Cyrillic or upper-case look-alike is named.
    folded = region.lower().translate(_LOOK_ALIKES).encode("ascii", "replace").decode()
    close = difflib.get_close_matches(folded[:64], caps.regions, n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(close)}?" if close else ""


def check_ids(spec: FlowLogSpec, caps: Capabilities) -> None:
    """Refuse a resource id that is not of the provider's form for the spec's kind (a SpecError naming it)."""
    kind = spec.resources.kind
    pattern = caps.id_patterns.get(kind)
    compiled = re.compile(pattern) if pattern is not None else _SAFE_ID
    for index, resource_id in enumerate(spec.resources.ids):
        if resource_id == SELECTED or compiled.fullmatch(resource_id):
            continue
        allowed = f"a {kind.value} id matching {pattern}" if pattern is not None else "a plain resource id"
        raise SpecError(f"resources.ids[{index}]", resource_id, allowed, provider=caps.provider)


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

    check_ids(spec, caps)
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
    """Check every entry against its provider, without any API call, once per entry: its regions, then its spec.

    Every problem of the file is reported at once, in one FleetError (each located); each entry's spec is built
    once (:meth:`Fleet.targets`) and shared by all its regions, so the work is linear in the number of entries.
    """
    if fleet.validated:
        return
    with collection_paused():
        _validate_entries(fleet)
    fleet.mark_validated()


def _validate_entries(fleet: Fleet) -> None:
    problems: list[FleetError] = []
    checked: set[int] = set()
    for target in fleet.targets():
        if target.index in checked:
            continue
        checked.add(target.index)
        try:
            provider = get_provider(target.provider)
        except MultiflowError as exc:
            problems.append(fleet.error_at(target.index, SpecError("provider", target.provider, str(exc))))
            continue
        if target.entry.accounts is not None and not fleet.accounts.get(target.provider):
            problems.append(
                fleet.error_at(
                    target.index,
                    SpecError(
                        "accounts",
                        target.entry.accounts,
                        f"accounts of the fleet's accounts.{target.provider} section, which the file does not have",
                        provider=target.provider,
                    ),
                )
            )
        for n, region in enumerate(target.entry.region_list):
            try:
                check_region(region, provider.capabilities, field=f"regions[{n}]")
            except SpecError as exc:
                problems.append(fleet.error_at(target.index, exc))
        try:
            check(target.spec, provider)
            if target.entry.resources.ids is None:
                check_selector(target.entry.resources.kind, provider.capabilities)
        except SpecError as exc:
            problems.append(fleet.error_at(target.index, exc))
    if problems:
        raise FleetError.of(problems)


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
