"""Every attribute read back and kept in line: options, creation time and BusinessStatus read from the cloud,
drift found attribute by attribute, tags, IP version and resource group changed in place, the provider's input
rules applied by ``Client.modify`` before any call. Through the official SDK against the emulator."""

from __future__ import annotations

import hashlib
import json
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from alibabacloud_tea_openapi.models import Config
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client as SdkClient

import multiflow
from multiflow.auditing import CoverageCriteria
from multiflow.client import Connections
from multiflow.errors import AccountStateError, FlowLogFailed, MultiflowError, SpecError, UnsupportedFeature
from multiflow.model import DeliveryStatus, FlowLogStatus
from multiflow.ownership import MANAGED_TAG, SPEC_TAG, options_digest
from multiflow.planning import Action, Difference
from multiflow_alibaba.options import AlibabaOptions
from multiflow_alibaba.sandbox_support import connect_options

from .provider_support import KEY_ID, LOGSTORE, PROJECT, REGION, SECRET, World, running_world


@pytest.fixture
def world() -> Iterator[World]:
    with running_world(vswitches=1) as made:
        made.emu.add_resource_group("rg-one")
        made.emu.add_resource_group("rg-two")
        yield made


@pytest.fixture
def connections(world: World) -> Iterator[Connections]:
    options = connect_options(world.emu, KEY_ID, rate_limit=None, retry_timeout=5.0)
    with Connections(lambda provider, region: options) as made:
        yield made


def sdk(world: World) -> SdkClient:
    """The official SDK, for changes made outside multiflow."""
    return SdkClient(Config(**world.emu.client_settings(KEY_ID, REGION)))


def fleet(world: World, *, tags: str = "{team: net}", ip_version: str = "IPv4", group: str = "rg-one") -> Any:
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: attributes
        flow_logs:
          - name: switches
            provider: alibaba
            regions: [{REGION}]
            resources: {{kind: subnet, ids: [{world.vswitches[0]}]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
            tags: {tags}
            options:
              alibaba: {{ip_version: {ip_version}, resource_group_id: {group}}}
        """)
    )


def applied(world: World, connections: Connections, fleet_: Any) -> str:
    result = multiflow.apply(multiflow.plan(fleet_, connections), connections)
    assert result.ok, result.failed
    [record] = world.emu.flow_logs(REGION)
    return str(record["FlowLogId"])


def test_options_creation_time_and_tags_are_read_back(world: World, connections: Connections) -> None:
    flow_log_id = applied(world, connections, fleet(world))
    flow_log = world.connect().get(flow_log_id)
    assert flow_log.options == AlibabaOptions(traffic_paths=["all"], ip_version="IPv4", resource_group_id="rg-one")
    assert flow_log.created_at is not None and flow_log.tags["team"] == "net"
    dumped = flow_log.model_dump(mode="json")  # what -o json shows
    assert dumped["options"] == {"traffic_paths": ["all"], "ip_version": "IPv4", "resource_group_id": "rg-one"}
    assert dumped["delivery_status"] == "ok"


def test_a_change_outside_multiflow_plans_an_update_and_is_put_back(world: World, connections: Connections) -> None:
    flow_log_id = applied(world, connections, fleet(world))
    sdk(world).modify_flow_log_attribute(
        m.ModifyFlowLogAttributeRequest(region_id=REGION, flow_log_id=flow_log_id, ip_version="DualStack")
    )
    sdk(world).move_resource_group(
        m.MoveResourceGroupRequest(
            region_id=REGION, resource_id=flow_log_id, resource_type="FLOWLOG", new_resource_group_id="rg-two"
        )
    )
    drifted = multiflow.plan(fleet(world), connections)
    [change] = drifted.changes
    assert change.action is Action.UPDATE
    assert set(change.differences) == {
        Difference("options.ip_version", "DualStack", "IPv4"),
        Difference("options.resource_group_id", "rg-two", "rg-one"),
    }
    world.emu.reset_calls()
    assert multiflow.apply(drifted, connections).ok
    calls = world.emu.calls
    assert calls["ModifyFlowLogAttribute"] == 1 and calls["MoveResourceGroup"] == 1
    assert not calls.get("CreateFlowLog") and not calls.get("DeleteFlowLog")
    record = world.record(flow_log_id)
    assert (record["IpVersion"], record["ResourceGroupId"]) == ("IPv4", "rg-one")
    assert not multiflow.plan(fleet(world), connections).pending


def test_tags_change_in_place_keeping_multiflows_own(world: World, connections: Connections) -> None:
    flow_log_id = applied(world, connections, fleet(world, tags="{team: net, old: x}"))
    before = {t["Key"]: t["Value"] for t in world.record(flow_log_id)["Tags"]["Tag"]}
    changed = multiflow.plan(fleet(world, tags="{team: sec, new: y}"), connections)
    [change] = changed.changes
    assert change.action is Action.UPDATE and {d.field for d in change.differences} == {"tags"}
    world.emu.reset_calls()
    assert multiflow.apply(changed, connections).ok
    calls = world.emu.calls
    assert calls["UnTagResources"] == 1 and calls["TagResources"] == 1
    assert not calls.get("CreateFlowLog") and not calls.get("DeleteFlowLog")
    after = {t["Key"]: t["Value"] for t in world.record(flow_log_id)["Tags"]["Tag"]}
    ours = {k: v for k, v in before.items() if k.startswith("multiflow:")}
    assert len(ours) == 2
    assert after == {**ours, "team": "sec", "new": "y"}
    assert not multiflow.plan(fleet(world, tags="{team: sec, new: y}"), connections).pending


def test_a_flow_log_tagged_by_version_01_with_an_options_block_is_kept(world: World, connections: Connections) -> None:
    wanted = fleet(world)
    flow_log_id = applied(world, connections, wanted)
    [entry] = wanted.flow_logs
    spec = next(iter(wanted.targets())).spec
    block = spec.options_for("alibaba")
    assert block is not None
    # How version 0.1 digested a spec: the top-level aws and alibaba blocks whole (readable fields included).
    payload = {"aws": None, "alibaba": block.model_dump(mode="json"), "options": {}, "fields": spec.fields}
    old = f"{entry.name}@{hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:12]}"
    assert old.partition("@")[2] != options_digest(
        spec, "alibaba", ("traffic_paths", "ip_version", "resource_group_id")
    )
    sdk(world).tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type="FLOWLOG",
            resource_id=[flow_log_id],
            tag=[m.TagResourcesRequestTag(key=SPEC_TAG, value=old)],
        )
    )
    assert not multiflow.plan(wanted, connections).pending


def test_modify_applies_the_providers_rules_before_any_call(world: World, connections: Connections) -> None:
    flow_log_id = applied(world, connections, fleet(world))
    client = world.connect()
    world.emu.reset_calls()
    cases: list[tuple[dict[str, Any], type[MultiflowError], str]] = [
        ({"name": "http://example.com"}, SpecError, "name"),
        ({"description": "https://example.com"}, SpecError, "description"),
        ({"tags": {"aliyun-owned": "x"}}, SpecError, "tags.aliyun-owned"),
        ({"tags": {"multiflow:mine": "x"}}, SpecError, "tags.multiflow:mine"),
        ({"tags": {f"k{i}": "v" for i in range(19)}}, SpecError, "tags"),
        ({"options": {"ip_version": "IPv6"}}, SpecError, "options.alibaba.ip_version"),
        ({"options": {"resource_group_id": "group-1"}}, SpecError, "options.alibaba.resource_group_id"),
        ({"options": {"traffic_paths": ["vpnGateway"]}}, UnsupportedFeature, "options.traffic_paths"),
    ]
    for changes, error, field in cases:
        with pytest.raises(error) as info:
            client.modify(flow_log_id, **changes)
        assert getattr(info.value, "field", None) == field, changes
    assert sum(world.emu.calls.values()) == 0  # nothing reached the cloud


def test_an_abnormal_flow_log_is_a_suspended_delivery_and_does_not_count(
    world: World, connections: Connections
) -> None:
    flow_log_id = applied(world, connections, fleet(world))
    client = world.connect()
    world.emu.remove_logstore(REGION, PROJECT, LOGSTORE)
    flow_log = client.get(flow_log_id)
    assert flow_log.delivery_status is DeliveryStatus.SUSPENDED
    assert flow_log.delivery_error is not None and "BusinessStatus Abnormal" in flow_log.delivery_error
    assert "ProjectOrLogstoreNotExist" in flow_log.delivery_error
    refusal = CoverageCriteria().refusal(flow_log)
    assert refusal is not None and refusal.startswith("is suspended by the cloud")
    world.emu.add_logstore(REGION, PROJECT, LOGSTORE)
    assert CoverageCriteria().refusal(client.get(flow_log_id)) is None


def test_an_activation_that_lands_abnormal_is_not_a_success() -> None:
    with running_world(activation_delay=1.0) as world:
        client = world.connect()
        spec = world.spec()
        world.emu.transitions_frozen = True
        [made] = client.create(spec, wait=False)
        world.emu.set_business_status(made.id, "Abnormal")
        world.emu.transitions_frozen = False
        world.clock.advance(2.0)
        result = multiflow.waiting.wait_until(client.session, [made.id], "active", timeout=5.0)
        assert not result.done
        [failure] = result.failed
        assert isinstance(failure.error, FlowLogFailed) and "suspended" in failure.error.status


def test_an_overdue_account_is_an_account_state_error_not_a_key_problem() -> None:
    with running_world() as world:
        client = world.connect()
        world.emu.set_overdue(True)
        with pytest.raises(MultiflowError) as info:
            client.create(world.spec())
        errors = [info.value, *[f.error for f in getattr(info.value, "failed", [])]]
        found = [e for e in errors if isinstance(e, AccountStateError)]
        assert found and found[0].code == "IncorrectBusinessStatus.FlowLog" and not found[0].retryable
        assert SECRET not in str(info.value)


def test_waiting_on_a_few_in_a_busy_region_costs_their_pages_only() -> None:
    with running_world(activation_delay=30.0, vswitches=62) as world:
        client = world.connect()
        client.create(world.spec(ids=world.vswitches[:60]), wait=False)  # someone else's, activating
        ours = {MANAGED_TAG: "fleet", SPEC_TAG: "entry@digest"}
        ids = [f.id for f in client.create(world.spec(ids=world.vswitches[60:]), wait=False, extra_tags=ours)]
        fresh = world.connect()  # a session that knows our flow logs only from reading them
        fresh.session.get(ids)
        for session in (client.session, fresh.session):
            world.emu.reset_calls()
            states = session.get(ids, transitional=FlowLogStatus.ACTIVATING)
            assert {f.status for f in states.values()} == {FlowLogStatus.ACTIVATING} and len(states) == 2
            assert world.emu.calls == {"DescribeFlowLogs": 1}  # not ceil(62/50): the others are not listed
