"""Fleets on Alibaba: plan and apply where the cloud holds one flow log per resource."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.planning import Action

from .provider_support import KEY_ID, LOGSTORE, PROJECT, REGION, World, running_world


@pytest.fixture
def world() -> Iterator[World]:
    with running_world(vswitches=2) as made:
        yield made


def fleet(world: World, entry: str) -> Any:
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: one-per-resource
        flow_logs:
          - name: {entry}
            provider: alibaba
            regions: [{REGION}]
            resources: {{kind: subnet, ids: [{", ".join(world.vswitches)}]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
        """)
    )


def test_a_rename_whose_delete_fails_does_not_try_the_create(world: World) -> None:
    from multiflow_alibaba.sandbox_support import connect_options

    options = connect_options(world.emu, KEY_ID, rate_limit=None, retry_timeout=5.0)
    with Connections(lambda provider, region: options) as connections:
        assert multiflow.apply(multiflow.plan(fleet(world, "old-name"), connections), connections).ok
        renamed = multiflow.plan(fleet(world, "new-name"), connections)
        assert {c.action for c in renamed.changes} == {Action.DELETE, Action.CREATE}
        held = world.vswitches[0]
        [old] = [c.flow_log.id for c in renamed.changes if c.action is Action.DELETE and c.resource_id == held]
        world.emu.fail_next("DeleteFlowLog", "Forbidden.RAM", times=50)  # never retried: an auth error
        world.emu.reset_calls()
        result = multiflow.apply(renamed, connections)
    failures = {(f.change.action, f.change.resource_id): str(f.error) for f in result.failed}
    assert (Action.CREATE, held) in failures
    assert failures[(Action.CREATE, held)] == f"{held}: not created, {old} could not be deleted"
    assert world.emu.calls["CreateFlowLog"] == 0  # neither resource: both deletes were refused
