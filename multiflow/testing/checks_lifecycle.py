"""Conformance checks of the lifecycle: create → describe → delete, paging, bounded waits, resource listing."""

from __future__ import annotations

import time
from typing import Any

import pytest

from multiflow.errors import NotFound, SpecError, WaitTimeout
from multiflow.model import FlowLogStatus
from multiflow.provider import ResourceChecker, ResourceInventory, ResourceLister
from multiflow.testing.harness import Harness, check_error, expect, only
from multiflow.validate import effective_interval, effective_traffic

__all__ = ["LifecycleChecks"]


class LifecycleChecks:
    """Checks of the round trip and of waits (part of :class:`ProviderConformance`)."""

    # -- the round trip -----------------------------------------------------------------------------------------

    def test_create_describe_delete_round_trip(self, conformance: Harness, provider_name: str) -> None:
        """A flow log with non-default settings is created active and described back field by field, found by id,
        resource, kind and tags; deleted, it is gone: ``get`` leaves it out, and deleting it again is NotFound."""
        h = conformance
        caps = h.caps
        kind = caps.resource_kinds[0]
        settings: dict[str, Any] = {}
        if caps.traffic[kind]:
            settings["traffic"] = caps.traffic[kind][-1]
        others = [i for i in caps.intervals[kind] if i != caps.default_interval[kind]]
        settings["interval"] = others[0] if others else caps.default_interval[kind]
        if caps.name_max_length is not None:
            settings["name"] = f"conformance-{h.token}"
        if caps.description_max_length is not None:
            settings["description"] = f"conformance round trip {h.token}"
        spec = h.spec(kind, tags={"conformance": h.token}, **settings)
        extra = {"conformance-extra": h.token}
        [created] = h.create(spec, extra_tags=extra)
        wanted = h.normalized(spec)

        problems: list[str] = []
        for label, flow_log in (("create", created), ("describe", only(h.client.describe(ids=[created.id])))):
            problems += expect(label, "provider", flow_log.provider, provider_name)
            problems += expect(label, "region", flow_log.region, h.target.region)
            problems += expect(label, "resource.id", flow_log.resource.id, spec.resources.ids[0])
            problems += expect(label, "status", flow_log.status, FlowLogStatus.ACTIVE)
        described = only(h.client.describe(ids=[created.id]))
        problems += expect("describe", "resource.kind", described.resource.kind, kind)
        problems += expect("describe", "traffic", described.traffic, effective_traffic(spec, caps))
        problems += expect("describe", "interval", described.interval, effective_interval(spec, caps))
        problems += expect("describe", "destination", described.destination, wanted.destination)
        problems += expect("describe", "name", described.name, spec.name)
        problems += expect("describe", "description", described.description, spec.description)
        for key, value in {**spec.tags, **extra}.items():
            problems += expect("describe", f"tags[{key}]", described.tags.get(key), value)

        queries: dict[str, dict[str, Any]] = {
            "ids": {"ids": [created.id]},
            "resource_ids": {"resource_ids": spec.resources.ids},
            "resource_kind": {"resource_kind": kind},
            "tags": {"tags": {"conformance": h.token}},
            "tag key": {"tags": {"conformance": None}},
            "everything": {},
        }
        for label, query in queries.items():
            if created.id not in {f.id for f in h.client.describe(**query)}:
                problems.append(f"describe({label}) does not find the flow log")
        if h.client.describe(tags={"conformance": "not-" + h.token}):
            problems.append("describe(tags) finds flow logs whose tag value differs")
        got = h.client.session.get([created.id])
        problems += expect("session.get", "ids", sorted(got), [created.id])
        assert not problems, "\n".join(problems)

        assert h.delete([created.id]) == [created.id]
        assert h.client.session.get([created.id]) == {}, "get must leave out a deleted flow log"
        assert [f.id for f in h.client.describe(ids=[created.id])] == []
        with pytest.raises(NotFound):
            h.client.get(created.id)
        with pytest.raises(NotFound) as again:
            h.client.delete([created.id], timeout=h.timeout)
        check_error(again.value, provider_name, request_id=False)

    def test_describe_reads_every_page(self, conformance: Harness) -> None:
        """With one flow log more than a page holds, describe returns every one of them."""
        h = conformance
        if h.target.page_size is None:
            pytest.skip("the target sets no page_size")
        kind = h.caps.resource_kinds[0]
        ids = h.target.resources(kind, h.target.page_size + 1)
        created = h.create(h.spec(kind, ids=ids, tags={"conformance": h.token}))
        found = h.client.describe(tags={"conformance": h.token})
        assert sorted(f.id for f in found) == sorted(f.id for f in created)
        assert sorted(h.client.session.get([f.id for f in created])) == sorted(f.id for f in created)

    # -- waits -------------------------------------------------------------------------------------------------

    def test_wait_is_bounded(self, conformance: Harness) -> None:
        """A flow log that does not reach the wanted state makes ``wait`` raise ``WaitTimeout`` by the deadline,
        naming the id and its last status: one the target's ``make_stuck`` holds in a transitional state, else
        (without ``make_stuck``) an active one waited on to be gone."""
        h = conformance
        [flow_log] = h.create(h.spec(), wait=False)
        release = h.target.make_stuck(flow_log.id)
        wanted, expected = ("active", None) if release else ("gone", FlowLogStatus.ACTIVE.value)
        if release is None:
            h.client.wait([flow_log.id], until="active", timeout=h.timeout)
        timeout = 1.0
        started = time.monotonic()
        try:
            with pytest.raises(WaitTimeout) as raised:
                h.client.wait([flow_log.id], until=wanted, timeout=timeout)
        finally:
            if release is not None:
                release()
        elapsed = time.monotonic() - started
        assert elapsed < timeout + 10, f"WaitTimeout after {elapsed:.1f}s for a {timeout}s deadline"
        assert raised.value.ids == [flow_log.id]
        last = raised.value.last_seen[flow_log.id]
        if expected is not None:
            assert last == expected, last
        else:
            assert last is not None and FlowLogStatus(last).transitional, f"last seen {last}, not transitional"
        h.client.wait([flow_log.id], until="active", timeout=h.timeout)

    # -- optional protocols ----------------------------------------------------------------------------------------

    def test_list_resources_finds_tagged_resources(self, conformance: Harness) -> None:
        """Where sessions are ``ResourceLister``s: resources tagged in the sandbox are listed by tag value and by tag
        key alone, untagged ones are not; a kind the session cannot list is a SpecError; at least one kind lists."""
        h = conformance
        session = h.client.session
        if not isinstance(session, ResourceLister):
            pytest.skip("the provider's sessions do not list resources")
        listed_any = False
        problems: list[str] = []
        for kind in h.caps.resource_kinds:
            tagged = h.target.resources(kind, 2, tags={"conformance": h.token})
            others = h.target.resources(kind, 1)
            try:
                by_value = session.list_resources(kind, {"conformance": h.token})
                by_key = session.list_resources(kind, {"conformance": None})
            except SpecError:
                continue
            listed_any = True
            if sorted(by_value) != sorted(tagged):
                problems.append(f"{kind.value}: listed {sorted(by_value)} for tag value, expected {sorted(tagged)}")
            if not set(tagged) <= set(by_key) or set(others) & set(by_key):
                problems.append(f"{kind.value}: the tag-key listing {sorted(by_key)} is wrong")
        assert listed_any, "the session is a ResourceLister but lists no declared kind"
        assert not problems, "\n".join(problems)

    def test_existing_resources_tells_made_ids_from_unknown_ones(self, conformance: Harness) -> None:
        """Where sessions are ``ResourceChecker``s: of resources made in the sandbox and ids nobody made (a made id
        with a character more), exactly the made ones exist; a kind the session cannot check is a SpecError."""
        h = conformance
        session = h.client.session
        if not isinstance(session, ResourceChecker):
            pytest.skip("the provider's sessions do not check resource ids")
        checked_any = False
        problems: list[str] = []
        for kind in h.caps.resource_kinds:
            made = h.target.resources(kind, 2)
            unknown = [made[0] + "0"]
            try:
                found = session.existing_resources(kind, [*made, *unknown])
            except SpecError:
                continue
            checked_any = True
            if set(found) != set(made):
                problems.append(f"{kind.value}: {sorted(found)} exist, expected {sorted(made)}")
        assert checked_any, "the session is a ResourceChecker but checks no declared kind"
        assert not problems, "\n".join(problems)

    # -- helpers ---------------------------------------------------------------------------------------------------

    def test_inventory_lists_resources_with_their_tags(self, conformance: Harness) -> None:
        """Where sessions are ``ResourceInventory``s: a resource made in the sandbox is in the inventory of its kind,
        with that kind and its tags; a kind the session cannot list is a SpecError; at least one kind lists."""
        h = conformance
        session = h.client.session
        if not isinstance(session, ResourceInventory):
            pytest.skip("the provider's sessions keep no inventory")
        listed_any = False
        problems: list[str] = []
        for kind in h.caps.resource_kinds:
            [made] = h.target.resources(kind, 1, tags={"conformance": h.token})
            try:
                found = {r.id: r for r in session.inventory([kind])}
            except SpecError:
                continue
            listed_any = True
            resource = found.get(made)
            if resource is None:
                problems.append(f"{kind.value}: {made} is not in the inventory")
            elif resource.kind is not kind or resource.tags.get("conformance") != h.token:
                problems.append(f"{kind.value}: {made} is listed as {resource!r}")
        assert listed_any, "the session is a ResourceInventory but lists no declared kind"
        assert not problems, "\n".join(problems)
