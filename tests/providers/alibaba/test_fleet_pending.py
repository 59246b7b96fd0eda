"""A flow log stuck activating is not converged (issue #17): plan shows a wait, apply waits, then it is a keep."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.planning import Action

from .provider_support import KEY_ID, LOGSTORE, PROJECT, REGION, World, running_world

ACTIVATION = 3600.0  # on the emulator's manual clock: activating until the test moves the clock


@pytest.fixture
def world() -> Iterator[World]:
    with running_world(vswitches=2, activation_delay=ACTIVATION) as made:
        yield made


def test_activating_flow_logs_are_pending_until_active(world: World) -> None:
    from multiflow_alibaba.sandbox_support import connect_options

    fleet = multiflow.loads(
        textwrap.dedent(f"""\
        name: slow
        flow_logs:
          - name: subnets
            provider: alibaba
            regions: [{REGION}]
            resources: {{kind: subnet, ids: [{", ".join(world.vswitches)}]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
        """)
    )
    options = connect_options(world.emu, KEY_ID, rate_limit=None, retry_timeout=5.0)
    with Connections(lambda provider, region: options) as connections:
        first = multiflow.apply(multiflow.plan(fleet, connections), connections, timeout=0.5)
        assert not first.ok  # the wait for activation timed out; the flow logs exist, activating

        stuck = multiflow.plan(fleet, connections)
        assert [c.action for c in stuck.changes] == [Action.WAIT, Action.WAIT]
        assert len(stuck.pending) == 2 and all("activating" in c.reasons[0] for c in stuck.changes)

        world.emu.reset_calls()
        timed_out = multiflow.apply(stuck, connections, timeout=0.5)
        assert [f.change.action for f in timed_out.failed] == [Action.WAIT, Action.WAIT]
        assert world.emu.calls.get("CreateFlowLog", 0) == 0 and world.emu.calls.get("DeleteFlowLog", 0) == 0

        world.clock.advance(ACTIVATION + 1)
        waited = multiflow.apply(stuck, connections, timeout=30)
        assert waited.ok and [c.action for c in waited.done] == [Action.WAIT, Action.WAIT]
        assert multiflow.plan(fleet, connections).pending == []
