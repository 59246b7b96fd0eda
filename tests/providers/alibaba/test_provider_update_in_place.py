"""An in-place update, end to end: the file changes an attribute the cloud changes in place, apply modifies the
flow log (same id, no delete, no create), and the cloud reports the new value."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.planning import Action, Difference

from .provider_support import KEY_ID, LOGSTORE, PROJECT, REGION, World, running_world


@pytest.fixture
def world() -> Iterator[World]:
    with running_world(vswitches=2) as made:
        yield made


def fleet(world: World, interval: int, description: str) -> Any:
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: in-place
        flow_logs:
          - name: vswitches
            provider: alibaba
            regions: [{REGION}]
            resources: {{kind: subnet, ids: [{", ".join(world.vswitches)}]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
            interval: {interval}
            description: {description}
        """)
    )


def test_an_interval_and_description_change_is_applied_in_place_and_read_back(world: World) -> None:
    from multiflow_alibaba.sandbox_support import connect_options

    options = connect_options(world.emu, KEY_ID, rate_limit=None, retry_timeout=5.0)
    with Connections(lambda provider, region: options) as connections:
        assert multiflow.apply(multiflow.plan(fleet(world, 600, "first"), connections), connections).ok
        before = {f["FlowLogId"]: f for f in world.emu.flow_logs(REGION)}
        assert {f["AggregationInterval"] for f in before.values()} == {10}

        changed = multiflow.plan(fleet(world, 60, "second"), connections)
        assert {c.action for c in changed.changes} == {Action.UPDATE}
        for change in changed.changes:
            assert set(change.differences) == {
                Difference("interval", 600, 60),
                Difference("description", "first", "second"),
            }
        world.emu.reset_calls()
        result = multiflow.apply(changed, connections)
        assert result.ok, result.failed
        calls = world.emu.calls
        assert calls.get("ModifyFlowLogAttribute") == 2
        assert not calls.get("CreateFlowLog") and not calls.get("DeleteFlowLog")

        after = {f["FlowLogId"]: f for f in world.emu.flow_logs(REGION)}
        assert after.keys() == before.keys()  # the same flow logs, changed in place
        assert {f["AggregationInterval"] for f in after.values()} == {1}  # minutes, as the cloud keeps it
        assert {f["Description"] for f in after.values()} == {"second"}
        assert not multiflow.plan(fleet(world, 60, "second"), connections).pending
