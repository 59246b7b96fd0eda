"""Conformance checks that capabilities are truthful: what is declared is accepted, what is not is refused early."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from multiflow.client import Client
from multiflow.errors import DryRunSucceeded, ProviderError, SpecError, UnsupportedFeature
from multiflow.model import FlowLogStatus
from multiflow.ownership import MANAGED_TAG_COUNT
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic
from multiflow.testing.harness import (
    MODIFIABLE,
    ODD_INTERVALS,
    Harness,
    destination_kinds,
    destination_sample,
    expect,
    other_settings,
)

__all__ = ["CapabilityChecks"]


class CapabilityChecks:
    """Checks that capabilities are truthful, both ways (part of :class:`ProviderConformance`)."""

    # -- capabilities: what is declared is accepted ----------------------------------------------------------

    def test_every_declared_kind_is_accepted(self, conformance: Harness) -> None:
        """One flow log per declared resource kind, with the provider's defaults: created, active, described back
        on the right resource and kind, with the default traffic and interval."""
        h = conformance
        cases = [(kind.value, h.spec(kind)) for kind in h.caps.resource_kinds]
        found, problems = h.create_cases(cases)
        for label, spec in cases:
            flow_log = found.get(label)
            if flow_log is None:
                continue
            kind = spec.resources.kind
            problems += expect(label, "resource", flow_log.resource.id, spec.resources.ids[0])
            problems += expect(label, "resource.kind", flow_log.resource.kind, kind)
            problems += expect(label, "status", flow_log.status, FlowLogStatus.ACTIVE)
            problems += expect(label, "interval", flow_log.interval, h.caps.default_interval[kind])
            if h.caps.default_traffic[kind] is not None:
                problems += expect(label, "traffic", flow_log.traffic, h.caps.default_traffic[kind])
        assert not problems, "\n".join(problems)

    def test_every_declared_traffic_is_accepted(self, conformance: Harness) -> None:
        """Every traffic type declared for each kind is accepted and described back as asked."""
        h = conformance
        cases = [
            (f"{kind.value} traffic={traffic.value}", h.spec(kind, traffic=traffic))
            for kind in h.caps.resource_kinds
            for traffic in h.caps.traffic[kind]
        ]
        if not cases:
            pytest.skip("the provider declares no traffic type")
        found, problems = h.create_cases(cases)
        for label, spec in cases:
            if label in found:
                problems += expect(label, "traffic", found[label].traffic, spec.traffic)
        assert not problems, "\n".join(problems)

    def test_every_declared_interval_is_accepted(self, conformance: Harness) -> None:
        """Every interval declared for each kind is accepted and described back, in seconds, as asked."""
        h = conformance
        cases = [
            (f"{kind.value} interval={interval}", h.spec(kind, interval=interval))
            for kind in h.caps.resource_kinds
            for interval in h.caps.intervals[kind]
        ]
        found, problems = h.create_cases(cases)
        for label, spec in cases:
            if label in found:
                problems += expect(label, "interval", found[label].interval, spec.interval)
        assert not problems, "\n".join(problems)

    def test_every_declared_destination_is_accepted(self, conformance: Harness) -> None:
        """Every declared destination kind is accepted and described back as asked (after the provider's own
        ``normalize``, where it has one)."""
        h = conformance
        cases = [(f"destination={kind}", h.spec(destination=h.destination(kind))) for kind in h.caps.destinations]
        found, problems = h.create_cases(cases)
        for label, spec in cases:
            if label in found:
                problems += expect(label, "destination", found[label].destination, h.normalized(spec).destination)
        assert not problems, "\n".join(problems)

    def test_every_declared_field_is_accepted(self, conformance: Harness) -> None:
        """For each kind with custom record fields, a flow log with every declared field is accepted and described
        back with the same fields in the same order."""
        h = conformance
        cases = [
            (f"{kind.value} fields", h.spec(kind, fields=list(h.caps.fields[kind])))
            for kind in h.caps.resource_kinds
            if h.caps.fields[kind]
        ]
        if not cases:
            pytest.skip("the provider declares no custom record fields")
        found, problems = h.create_cases(cases)
        for label, spec in cases:
            if label in found:
                problems += expect(label, "fields", found[label].fields, spec.fields)
        assert not problems, "\n".join(problems)

    def test_declared_limits_are_accepted(self, conformance: Harness) -> None:
        """A name and a description of the declared maximum length, and as many tags as declared (multiflow's own
        two included) with keys and values of the maximum lengths, are accepted and described back."""
        h = conformance
        caps = h.caps
        room = caps.max_tags - MANAGED_TAG_COUNT
        tags = {f"k{n}": f"v{n}" for n in range(room - 1)}
        tags["k" * caps.max_tag_key_length] = "v" * caps.max_tag_value_length
        extra = {f"conformance-{n}": h.token for n in range(MANAGED_TAG_COUNT)}
        cases = [("tags", h.spec(tags=tags))]
        if caps.name_max_length is not None:
            cases.append(("name", h.spec(name="n" * caps.name_max_length)))
        if caps.description_max_length is not None:
            cases.append(("description", h.spec(description="d" * caps.description_max_length)))
        found, problems = h.create_cases(cases, extra_tags=extra)
        if "tags" in found:
            got = found["tags"].tags
            wanted = {**tags, **extra}
            problems += [f"tags: {k!r} described back as {got.get(k)!r}" for k, v in wanted.items() if got.get(k) != v]
        if "name" in found:
            problems += expect("name", "name", found["name"].name, "n" * (caps.name_max_length or 0))
        if "description" in found:
            described = found["description"].description
            problems += expect("description", "description", described, "d" * (caps.description_max_length or 0))
        assert not problems, "\n".join(problems)

    # -- capabilities: what is not declared is refused before any call ----------------------------------------

    def test_undeclared_values_are_refused_before_any_call(self, conformance: Harness) -> None:
        """Every resource kind, traffic type, interval, destination and field the provider does not declare, a
        name or description it does not keep, too many tags, and too long a name are refused with a SpecError
        naming the field, before the provider's session is called at all."""
        h = conformance
        caps = h.caps
        first = caps.resource_kinds[0]
        cases: list[tuple[str, str, ResourceKind, dict[str, Any]]] = []
        for kind in ResourceKind:
            if kind not in caps.resource_kinds:
                cases.append((f"kind {kind.value}", "resources.kind", kind, {}))
        for kind in caps.resource_kinds:
            for traffic in Traffic:
                if traffic not in caps.traffic[kind]:
                    cases.append((f"{kind.value} traffic={traffic.value}", "traffic", kind, {"traffic": traffic}))
            for interval in ODD_INTERVALS:
                if interval not in caps.intervals[kind]:
                    cases.append((f"{kind.value} interval={interval}", "interval", kind, {"interval": interval}))
            fields = ["conformance_no_such_field"] if caps.fields[kind] else ["src_addr"]
            cases.append((f"{kind.value} fields={fields}", "fields", kind, {"fields": fields}))
        for kind_name in destination_kinds():
            sample = destination_sample(kind_name)
            if kind_name not in caps.destinations and sample is not None:
                cases.append((f"destination {kind_name}", "destination.kind", first, {"destination": sample}))
        if caps.name_max_length is None:
            cases.append(("a name", "name", first, {"name": "conformance"}))
        else:
            cases.append(("too long a name", "name", first, {"name": "n" * (caps.name_max_length + 1)}))
        if caps.description_max_length is None:
            cases.append(("a description", "description", first, {"description": "conformance"}))
        too_many = {f"k{n}": "v" for n in range(caps.max_tags - MANAGED_TAG_COUNT + 1)}
        long_key = {"k" * (caps.max_tag_key_length + 1): "v"}
        long_value = {"k": "v" * (caps.max_tag_value_length + 1)}
        cases += [
            ("too many tags", "tags", first, {"tags": too_many}),
            ("too long a tag key", "tags", first, {"tags": long_key}),
            ("too long a tag value", "tags", first, {"tags": long_value}),
        ]

        problems: list[str] = []
        for label, field, kind, overrides in cases:
            try:
                spec = h.spec(kind, ids=[_well_formed_id(caps.id_patterns.get(kind))], **overrides)
            except SpecError:
                continue  # the spec model itself refuses it: earlier still
            raised, calls = h.refused_before_any_call(partial(_create_without_waiting, spec=spec))
            if not isinstance(raised, SpecError):
                problems.append(f"{label}: not refused with a SpecError (got {raised!r})")
            elif not raised.field.startswith(field):
                problems.append(f"{label}: refused on {raised.field!r}, expected {field!r}: {raised}")
            if calls:
                problems.append(f"{label}: the session was called ({', '.join(calls)}) before the refusal")
        assert not problems, "\n".join(problems)

    def test_undeclared_operations_are_refused_before_any_call(self, conformance: Harness) -> None:
        """start/stop where ``start_stop`` is false, modify of what ``modifiable`` lacks, and a dry run where
        ``dry_run`` is false are an ``UnsupportedFeature`` before any session call."""
        h = conformance
        caps = h.caps
        actions: list[tuple[str, Callable[[Client], object]]] = []
        if not caps.start_stop:
            actions += [
                ("start", partial(Client.start, ids=["fl-conformance"])),
                ("stop", partial(Client.stop, ids=["fl-conformance"])),
            ]
        for field in MODIFIABLE:
            if field not in caps.modifiable:
                value: Any = caps.default_interval[caps.resource_kinds[0]] if field == "interval" else "conformance"
                if field == "tags":
                    value = {"conformance": "yes"}
                actions.append(
                    (f"modify {field}", partial(Client.modify, flow_log_id="fl-conformance", **{field: value}))
                )
        if not caps.dry_run:
            spec = h.spec(ids=[_well_formed_id(caps.id_patterns.get(caps.resource_kinds[0]))])
            actions.append(("dry run", partial(Client.create, specs=spec, dry_run=True)))
        if not actions:
            pytest.skip("the provider declares every optional operation")
        problems: list[str] = []
        for label, action in actions:
            raised, calls = h.refused_before_any_call(action)
            if not isinstance(raised, UnsupportedFeature):
                problems.append(f"{label}: not refused with UnsupportedFeature (got {raised!r})")
            if calls:
                problems.append(f"{label}: the session was called ({', '.join(calls)}) before the refusal")
        assert not problems, "\n".join(problems)

    # -- capabilities: what is declared behaves as declared ------------------------------------------------------

    def test_activation_is_as_declared(self, conformance: Harness) -> None:
        """Without waiting, a new flow log is ``active`` at once where ``async_activation`` is false, and
        ``activating`` or ``active`` where it is true; ``wait`` then brings it to ``active``."""
        h = conformance
        [flow_log] = h.create(h.spec(), wait=False)
        if h.caps.async_activation:
            assert flow_log.status in (FlowLogStatus.ACTIVATING, FlowLogStatus.ACTIVE), flow_log.status
            [waited] = h.client.wait([flow_log.id], until="active", timeout=h.timeout)
            assert waited.status is FlowLogStatus.ACTIVE
        else:
            assert flow_log.status is FlowLogStatus.ACTIVE, "async_activation is false but the flow log is not active"

    def test_dry_run_is_as_declared(self, conformance: Harness) -> None:
        """Where ``dry_run`` is declared, a dry-run create raises ``DryRunSucceeded`` and creates nothing."""
        h = conformance
        if not h.caps.dry_run:
            pytest.skip("the provider declares no dry run")
        spec = h.spec()
        with pytest.raises(DryRunSucceeded) as raised:
            h.create(spec, dry_run=True)
        assert raised.value.provider == h.provider.name
        assert h.client.describe(resource_ids=spec.resources.ids) == []

    def test_start_stop_is_as_declared(self, conformance: Harness) -> None:
        """Where ``start_stop`` is declared, stop makes a flow log ``inactive`` and start makes it ``active`` again."""
        h = conformance
        if not h.caps.start_stop:
            pytest.skip("the provider declares no start/stop")
        [flow_log] = h.create(h.spec())
        assert h.client.stop([flow_log.id], timeout=h.timeout) == [flow_log.id]
        assert h.client.get(flow_log.id).status is FlowLogStatus.INACTIVE
        assert h.client.start([flow_log.id], timeout=h.timeout) == [flow_log.id]
        assert h.client.get(flow_log.id).status is FlowLogStatus.ACTIVE

    def test_modify_is_as_declared(self, conformance: Harness) -> None:
        """Each attribute in ``modifiable`` changes in place (same id) and is described back changed."""
        h = conformance
        if not h.caps.modifiable:
            pytest.skip("the provider declares no in-place change")
        kind = h.caps.resource_kinds[0]
        intervals = h.caps.intervals[kind]
        [flow_log] = h.create(h.spec(kind, interval=intervals[0]))
        changes: dict[str, Any] = {}
        if "name" in h.caps.modifiable:
            changes["name"] = f"renamed-{h.token}"
        if "description" in h.caps.modifiable:
            changes["description"] = f"described {h.token}"
        if "interval" in h.caps.modifiable and len(intervals) > 1:
            changes["interval"] = intervals[-1]
        if "tags" in h.caps.modifiable:
            changes["tags"] = {"conformance-changed": h.token}
        for field, value in changes.items():
            changed = h.client.modify(flow_log.id, **{field: value})
            assert changed.id == flow_log.id
            seen = h.client.get(flow_log.id).model_dump()[field]
            if field == "tags":  # multiflow's own tags are kept beside the user's
                seen = {k: v for k, v in seen.items() if not k.startswith("multiflow:")}
            assert seen == value, field

    def test_one_flow_log_per_resource_is_as_declared(self, conformance: Harness) -> None:
        """Where ``one_flow_log_per_resource`` is declared, a second flow log on a resource is refused with a
        ProviderError; where it is not (and there are two destinations), a second one to another destination is
        made."""
        h = conformance
        kind = h.caps.resource_kinds[0]
        [first] = h.create(h.spec(kind))
        resource = [first.resource.id]
        if h.caps.one_flow_log_per_resource:
            other = other_settings(h, kind)
            with pytest.raises(ProviderError) as raised:
                h.create(h.spec(kind, ids=resource, **other))
            assert raised.value.provider == h.provider.name
        elif len(h.caps.destinations) > 1:
            [second] = h.create(h.spec(kind, ids=resource, destination=h.destination(h.caps.destinations[1])))
            assert {f.id for f in h.client.describe(resource_ids=resource)} == {first.id, second.id}
        else:
            pytest.skip("one destination only: nothing to compare")


def _create_without_waiting(client: Client, spec: FlowLogSpec) -> object:
    return client.create(spec, wait=False)


def _well_formed_id(pattern: str | None) -> str:
    """An id of the provider's form for a kind (its pattern's literal prefix, then ``0``): refused for another
    reason than its form."""
    if pattern is None:
        return "conformance-undeclared-0"
    prefix = re.match(r"[A-Za-z0-9-]*", pattern)
    return (prefix.group(0) if prefix else "") + "0"
