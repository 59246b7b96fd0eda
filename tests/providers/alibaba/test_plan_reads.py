"""Plan's reads follow the fleet, not the region: a fleet of a few vSwitches in a region holding many other flow
logs and vSwitches costs calls for those few, and the create after it looks nothing up again."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.planning import Action
from multiflow_alibaba.reads import PAGE_SIZE

from .provider_support import KEY_ID, LOGSTORE, PROJECT, REGION, World, running_world

OTHERS = 10 * PAGE_SIZE  # someone else's flow logs, each on a vSwitch of its own: 10 pages of each listing


@pytest.fixture
def world() -> Iterator[World]:
    with running_world() as made:
        made.connect().create(made.spec(ids=[made.vswitch() for _ in range(OTHERS)]), wait=False)
        yield made


def fleet(ids: list[str]) -> Any:
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: proportional
        flow_logs:
          - name: few
            provider: alibaba
            regions: [{REGION}]
            resources: {{kind: subnet, ids: [{", ".join(ids)}]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
        """)
    )


@pytest.fixture
def connections(world: World) -> Iterator[Connections]:
    from multiflow_alibaba.sandbox_support import connect_options

    options = connect_options(world.emu, KEY_ID, rate_limit=None, retry_timeout=5.0)
    with Connections(lambda provider, region: options) as made:
        yield made


def test_a_first_plan_of_two_reads_them_and_not_the_region(world: World, connections: Connections) -> None:
    mine = [world.vswitch() for _ in range(2)]
    world.emu.reset_calls()
    plan = multiflow.plan(fleet(mine), connections)
    assert [c.action for c in plan.changes] == [Action.CREATE, Action.CREATE]
    # The fleet's own (by its tag: one page), then each of the two by resource (2), and each vSwitch by id (2).
    assert world.emu.calls["DescribeFlowLogs"] == 1 + 2
    assert world.emu.calls["DescribeVSwitches"] == 2


def test_a_plan_of_many_probes_once_then_asks_for_the_fewer(world: World, connections: Connections) -> None:
    mine = [world.vswitch() for _ in range(6)]
    world.emu.reset_calls()
    multiflow.plan(fleet(mine), connections)
    # Six is more than three lookups: one probe page of the region, then the six by resource (fewer than the
    # region's other 9 pages), for flow logs and for vSwitches alike.
    assert world.emu.calls["DescribeFlowLogs"] == 1 + 1 + 6
    assert world.emu.calls["DescribeVSwitches"] == 1 + 6


def test_a_plan_of_more_than_the_region_holds_reads_the_region(world: World, connections: Connections) -> None:
    mine = [world.vswitch() for _ in range(12)]
    world.emu.reset_calls()
    multiflow.plan(fleet(mine), connections)
    # Twelve lookups are more than the region's 10 pages of flow logs: the probe page, then the other 9.
    assert world.emu.calls["DescribeFlowLogs"] == 1 + 1 + 9


def test_a_create_after_the_plan_looks_none_of_them_up_again(world: World, connections: Connections) -> None:
    mine = [world.vswitch() for _ in range(2)]
    multiflow.plan(fleet(mine), connections)
    world.emu.reset_calls()
    created = connections.client("alibaba", REGION).create(world.spec(ids=mine), wait=False)  # what apply sends
    assert len(created) == 2
    assert world.emu.calls["CreateFlowLog"] == 2
    assert world.emu.calls["DescribeFlowLogs"] == 0  # plan's lookups by resource found them bare


def test_a_plan_of_a_converged_fleet_reads_only_its_own(world: World, connections: Connections) -> None:
    mine = [world.vswitch() for _ in range(2)]
    assert multiflow.apply(multiflow.plan(fleet(mine), connections), connections).ok
    world.emu.reset_calls()
    again = multiflow.plan(fleet(mine), connections)
    assert {c.action for c in again.changes} == {Action.KEEP}
    assert world.emu.calls["DescribeFlowLogs"] == 1  # one page of its own, by tag
    assert world.emu.calls["DescribeVSwitches"] == 0  # a resource with its flow log needs no existence check


def test_another_flow_log_on_a_wanted_resource_is_still_a_conflict(world: World, connections: Connections) -> None:
    mine = [world.vswitch() for _ in range(2)]
    world.connect().create(world.spec(ids=mine[:1]), wait=False)
    plan = multiflow.plan(fleet(mine), connections)
    assert sorted(c.action.value for c in plan.changes) == ["conflict", "create"]


def test_a_named_vswitch_that_does_not_exist_is_warned_of(world: World, connections: Connections) -> None:
    mine = [world.vswitch(), "vsw-nothere000000000001"]
    plan = multiflow.plan(fleet(mine), connections)
    assert any("no subnet vsw-nothere000000000001" in w for w in plan.warnings), plan.warnings
    assert not any(mine[0] in w for w in plan.warnings)


def test_flow_logs_still_activating_are_counted_in_the_plans_wait_column() -> None:
    import io

    from multiflow.cli import rendering
    from multiflow_alibaba.sandbox_support import connect_options

    with running_world(activation_delay=60.0) as world:  # a manual clock: nothing activates until it is moved
        mine = [world.vswitch() for _ in range(2)]
        options = connect_options(world.emu, KEY_ID, rate_limit=None, retry_timeout=5.0)
        with Connections(lambda provider, region: options) as connections:
            multiflow.apply(multiflow.plan(fleet(mine), connections), connections, timeout=0.5)
            again = multiflow.plan(fleet(mine), connections)
    assert [c.action for c in again.changes] == [Action.WAIT, Action.WAIT]
    shown = io.StringIO()
    rendering.print_plan(again, shown)
    header, row = [line.split() for line in shown.getvalue().splitlines() if line.startswith(("provider", "alibaba"))]
    assert dict(zip(header, row, strict=True))["wait"] == "2"
    assert "2 change(s) to make" in shown.getvalue()
