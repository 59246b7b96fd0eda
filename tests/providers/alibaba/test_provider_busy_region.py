"""A busy region: what plan read of the region is reused by the create that follows it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

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
