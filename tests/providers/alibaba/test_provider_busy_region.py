"""A busy region: what plan read of the region is reused by the create that follows it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from multiflow.model import FlowLogStatus
from multiflow.ownership import MANAGED_TAG, SPEC_TAG

from .provider_support import World, running_world


@pytest.fixture
def world() -> Iterator[World]:
    with running_world() as running:
        yield running


@pytest.fixture
def busy(world: World) -> list[str]:
    """60 flow logs nobody here owns, on vSwitches of their own; the 5 vSwitches returned have none."""
    client = world.connect()
    client.create(world.spec(ids=[world.vswitch() for _ in range(60)]), wait=False)
    return [world.vswitch() for _ in range(5)]


def describe_calls(world: World) -> int:
    return int(world.emu.calls["DescribeFlowLogs"])


def test_a_create_after_a_whole_region_listing_looks_nothing_up_again(world: World, busy: list[str]) -> None:
    client = world.connect()
    client.describe()  # what plan reads
    before = describe_calls(world)
    created = client.create(world.spec(ids=busy), wait=False)
    assert len(created) == 5
    assert describe_calls(world) == before  # no lookup of the 5 resources: the listing showed them bare


def test_without_a_listing_the_create_looks_its_resources_up(world: World, busy: list[str]) -> None:
    client = world.connect()
    before = describe_calls(world)
    client.create(world.spec(ids=busy), wait=False)
    assert describe_calls(world) > before


def test_a_flow_log_made_since_the_listing_is_still_adopted(world: World, busy: list[str]) -> None:
    client = world.connect()
    client.describe()
    other = world.connect()
    made_elsewhere = other.create(world.spec(ids=busy[:1]), wait=False)  # between plan and apply, by another run
    created: Any = client.create(world.spec(ids=busy), wait=False)
    assert len(created) == 5
    assert made_elsewhere[0].id in {f.id for f in created}  # the cloud refused a second one; it was adopted


def test_many_of_one_entry_leaving_activating_are_listed_by_their_tags_not_looked_up() -> None:
    with running_world(activation_delay=5.0) as world:
        others = [world.vswitch() for _ in range(120)]  # 3 pages of someone else's flow logs
        world.connect().create(world.spec(ids=others), wait=False)
        client = world.connect()
        mine = [world.vswitch() for _ in range(8)]
        owner = {MANAGED_TAG: "fleet", SPEC_TAG: "entry"}
        made = client.session.create([world.spec(ids=mine)], extra_tags=owner, dry_run=False).created
        ids = [f.id for f in made]
        world.clock.advance(10.0)  # all eight are Active now
        before = describe_calls(world)
        found = client.session.get(ids, transitional=FlowLogStatus.ACTIVATING)
        assert {f.status for f in found.values()} == {FlowLogStatus.ACTIVE} and set(found) == set(ids)
        # The entry's eight fit in one page: one listing by its tags answers for all, not one lookup per id.
        assert describe_calls(world) - before == 1


def test_an_entry_larger_than_its_pending_lists_the_state_then_the_leavers_by_tags() -> None:
    with running_world(activation_delay=5.0) as world:
        client = world.connect()
        mine = [world.vswitch() for _ in range(120)]  # an entry of 3 pages
        owner = {MANAGED_TAG: "fleet", SPEC_TAG: "entry"}
        made = client.session.create([world.spec(ids=mine)], extra_tags=owner, dry_run=False).created
        ids = [f.id for f in made][:8]  # eight of them still waited on
        world.clock.advance(10.0)
        before = describe_calls(world)
        found = client.session.get(ids, transitional=FlowLogStatus.ACTIVATING)
        assert {f.status for f in found.values()} == {FlowLogStatus.ACTIVE} and set(found) == set(ids)
        # The entry's Activating listing (one page for the eight), then, as all eight left it, the entry's three
        # pages by its tags: 4 calls, where listing the entry first would have been 3 pages every poll.
        assert describe_calls(world) - before == 4
