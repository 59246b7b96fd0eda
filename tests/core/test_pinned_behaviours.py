"""Behaviours users rely on, pinned so a regression cannot land green (issue #18).

Each test drives a fleet file through ``multiflow.loads``/``multiflow.plan``/``multiflow.apply`` against a sandbox
(moto's server for AWS, the wire-level emulator for Alibaba) and reads the cloud back through the SDK or the
emulator's own view, never through multiflow's private helpers:

* a change to a provider's option block alone is planned as a change (it cannot be read back from the cloud);
* a flow log of another fleet, or one made by hand, on a wanted resource is a conflict, never adopted: not at plan
  time, and not when it appears between plan and apply;
* a flow log being deleted is neither kept nor deleted again;
* an entry's tags win over the defaults' tags, key by key.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.ownership import MANAGED_TAG, SPEC_TAG
from multiflow.planning import Action
from multiflow_alibaba.sandbox_support import connect_options

# The emulator (its import path may move with the emulator's own package; kept to this one place).
from multiflow_alibaba_emulator import AlibabaEmulator, ManualClock

AWS_REGION = "us-east-1"
ALI_REGION = "cn-hangzhou"
ALI_KEY_ID = "LTAI5tPinnedBehaviours01"
ALI_SECRET = "pinned-behaviours-secret"
PROJECT = "pinned-project"
LOGSTORE = "pinned-store"
BUCKET = "pinned-flowlogs"


# -- sandboxes ------------------------------------------------------------------------------------------------------


@pytest.fixture
def aws(aws_env: Any) -> Iterator[tuple[Any, Connections, list[str]]]:
    """The emptied AWS sandbox, connections to it, and three VPCs with a bucket for their flow logs."""
    aws_env.create_bucket(BUCKET)
    vpcs = aws_env.seed_vpcs(AWS_REGION, 3)
    with Connections(lambda provider, region: aws_env.connect_options()) as connections:
        yield aws_env, connections, vpcs


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlibabaEmulator]:
    """An emulator on a manual clock (transitions are instant unless a test sets a delay); always stopped."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)  # the Alibaba SDK would send even 127.0.0.1 through a proxy
    emu = AlibabaEmulator(clock=ManualClock())
    emu.add_account(ALI_KEY_ID, ALI_SECRET, traffic_path_enabled=True)
    with emu:
        emu.add_logstore(ALI_REGION, PROJECT, LOGSTORE)
        yield emu


@pytest.fixture
def alibaba(emulator: AlibabaEmulator) -> Iterator[tuple[AlibabaEmulator, Connections, list[str]]]:
    """The emulator, connections to it, and three vSwitches of one VPC."""
    vpc = emulator.add_vpc(ALI_REGION, name="pinned")
    switches = [emulator.add_vswitch(ALI_REGION, vpc) for _ in range(3)]
    options = connect_options(emulator, ALI_KEY_ID, rate_limit=None, retry_timeout=5.0)
    with Connections(lambda provider, region: options) as connections:
        yield emulator, connections, switches


def aws_fleet(vpcs: list[str], extra: str = "", *, name: str = "pinned", tags: str = "{team: netops}") -> Any:
    """A fleet with one AWS entry on ``vpcs`` to the test bucket; ``extra`` lines join the entry."""
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: {name}
        defaults:
          traffic: all
          interval: 60
          tags: {tags}
        flow_logs:
          - name: vpcs
            provider: aws
            regions: [{AWS_REGION}]
            resources: {{kind: vpc, ids: [{", ".join(vpcs)}]}}
            destination: {{kind: s3, bucket: {BUCKET}}}
        """)
        + textwrap.indent(textwrap.dedent(extra), "    ")
    )


def alibaba_fleet(switches: list[str], extra: str = "", *, name: str = "pinned", tags: str = "{team: netops}") -> Any:
    """A fleet with one Alibaba entry on ``switches`` to the test logstore; ``extra`` lines join the entry."""
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: {name}
        defaults:
          traffic: all
          interval: 60
          tags: {tags}
        flow_logs:
          - name: switches
            provider: alibaba
            regions: [{ALI_REGION}]
            resources: {{kind: subnet, ids: [{", ".join(switches)}]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
        """)
        + textwrap.indent(textwrap.dedent(extra), "    ")
    )


def aws_flow_logs(sandbox: Any) -> list[dict[str, Any]]:
    """Every flow log in the AWS sandbox, as boto3's DescribeFlowLogs returns it."""
    return list(sandbox.client("ec2", AWS_REGION).describe_flow_logs()["FlowLogs"])


def aws_tags(record: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in record.get("Tags", [])}


def ali_tags(record: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (record.get("Tags") or {}).get("Tag") or []}


def by_action(made: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for change in made.changes:
        found.setdefault(change.action.value, []).append(change.resource_id)
    return {k: sorted(v) for k, v in found.items()}


# -- 1. a change to a provider's options alone is a change ----------------------------------------------------------


def _assert_option_change_is_planned(made: Any, resources: list[str]) -> None:
    assert {c.resource_id for c in made.changes} == set(resources)
    for change in made.changes:
        assert change.action is not Action.KEEP, change
        assert change.action in (Action.UPDATE, Action.REPLACE), change
        assert any("options" in reason for reason in change.reasons), change.reasons
    assert len(made.pending) == len(resources)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param(
            "", "aws: {tag_fields: [{resource_type: network-interface, keys: [team]}]}\n", id="tag_fields-added"
        ),
        pytest.param(
            "aws: {tag_fields: [{resource_type: network-interface, keys: [team]}]}\n",
            "aws: {tag_fields: [{resource_type: network-interface, keys: [team, env]}]}\n",
            id="tag_fields-changed",
        ),
        pytest.param("", "aws: {cross_account_role: ROLE}\n", id="cross_account_role-added"),
    ],
)
def test_changing_only_an_aws_option_block_is_planned_as_a_change(
    aws: tuple[Any, Connections, list[str]], before: str, after: str
) -> None:
    sandbox, connections, vpcs = aws
    role = sandbox.create_role("pinned-delivery")
    before, after = before.replace("ROLE", role), after.replace("ROLE", role)
    assert multiflow.apply(multiflow.plan(aws_fleet(vpcs, before), connections), connections).ok
    assert not multiflow.plan(aws_fleet(vpcs, before), connections).pending  # converged: all keep
    changed = multiflow.plan(aws_fleet(vpcs, after), connections)
    _assert_option_change_is_planned(changed, vpcs)
    assert multiflow.apply(changed, connections).ok
    assert not multiflow.plan(aws_fleet(vpcs, after), connections).pending
    assert len(aws_flow_logs(sandbox)) == len(vpcs)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("", "alibaba: {ip_version: DualStack}\n", id="ip_version-added"),
        pytest.param("alibaba: {ip_version: IPv4}\n", "alibaba: {ip_version: DualStack}\n", id="ip_version-changed"),
        pytest.param("", "alibaba: {traffic_paths: [natGateway]}\n", id="traffic_paths-added"),
        pytest.param(
            "alibaba: {traffic_paths: [natGateway]}\n",
            "alibaba: {traffic_paths: [natGateway, vpnGateway]}\n",
            id="traffic_paths-changed",
        ),
    ],
)
def test_changing_only_an_alibaba_option_block_is_planned_as_a_change(
    alibaba: tuple[AlibabaEmulator, Connections, list[str]], before: str, after: str
) -> None:
    emu, connections, switches = alibaba
    assert multiflow.apply(multiflow.plan(alibaba_fleet(switches, before), connections), connections).ok
    assert not multiflow.plan(alibaba_fleet(switches, before), connections).pending  # converged: all keep
    changed = multiflow.plan(alibaba_fleet(switches, after), connections)
    _assert_option_change_is_planned(changed, switches)
    assert multiflow.apply(changed, connections).ok
    assert not multiflow.plan(alibaba_fleet(switches, after), connections).pending
    assert len(emu.flow_logs(ALI_REGION)) == len(switches)


# -- 2. another fleet's or a hand-made flow log is never adopted ----------------------------------------------------

#: Ownership tags of another fleet that has an entry of the same name (so only the fleet name tells them apart).
OTHER_FLEET = {MANAGED_TAG: "someone-else", SPEC_TAG: "switches@000000000000"}
OWNERS = [pytest.param(OTHER_FLEET, id="another-fleets"), pytest.param({}, id="made-by-hand")]


def ali_sdk_create(emu: AlibabaEmulator, vswitch: str, tags: dict[str, str]) -> str:
    """Create, straight through the official SDK, a flow log on ``vswitch`` with the fleet entry's very settings
    (name, traffic, interval, destination, its ``team`` tag) but ``tags`` for ownership; returns its id."""
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_vpc20160428 import models
    from alibabacloud_vpc20160428.client import Client

    settings = emu.client_settings(ALI_KEY_ID)
    sdk = Client(
        Config(
            access_key_id=settings["access_key_id"],
            access_key_secret=settings["access_key_secret"],
            endpoint=settings["endpoint"],
            protocol="http",
            region_id=ALI_REGION,
        )
    )
    request = models.CreateFlowLogRequest().from_map(
        {
            "RegionId": ALI_REGION,
            "ResourceType": "VSwitch",
            "ResourceId": vswitch,
            "TrafficType": "All",
            "ProjectName": PROJECT,
            "LogStoreName": LOGSTORE,
            "AggregationInterval": 1,
            "FlowLogName": "switches",
            "Tag": [{"Key": k, "Value": v} for k, v in sorted({"team": "netops", **tags}.items())],
        }
    )
    return str(sdk.create_flow_log(request).body.flow_log_id)


def aws_sdk_create(sandbox: Any, vpc: str, tags: dict[str, str]) -> str:
    """Create, straight through boto3, a flow log on ``vpc`` with the fleet entry's settings and ``tags``."""
    answer = sandbox.client("ec2", AWS_REGION).create_flow_logs(
        ResourceIds=[vpc],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{BUCKET}",
        MaxAggregationInterval=60,
        TagSpecifications=[
            {
                "ResourceType": "vpc-flow-log",
                "Tags": [{"Key": k, "Value": v} for k, v in {"team": "netops", **tags}.items()],
            }
        ],
    )
    [flow_log_id] = answer["FlowLogIds"]
    return str(flow_log_id)


def ali_record(emu: AlibabaEmulator, flow_log_id: str) -> dict[str, Any]:
    [record] = [r for r in emu.flow_logs(ALI_REGION) if r["FlowLogId"] == flow_log_id]
    return record


@pytest.mark.parametrize("owner_tags", OWNERS)
def test_alibaba_a_flow_log_the_fleet_did_not_make_is_a_conflict_and_is_never_taken_over(
    alibaba: tuple[AlibabaEmulator, Connections, list[str]], owner_tags: dict[str, str]
) -> None:
    emu, connections, switches = alibaba
    held = switches[0]
    theirs = ali_sdk_create(emu, held, owner_tags)
    before = ali_tags(ali_record(emu, theirs))
    made = multiflow.plan(alibaba_fleet(switches), connections)
    assert by_action(made) == {"conflict": [held], "create": sorted(switches[1:])}
    [conflict] = made.conflicts
    assert conflict.flow_log is not None and conflict.flow_log.id == theirs
    assert theirs in conflict.reasons[0]
    result = multiflow.apply(made, connections)
    assert result.ok and [c.resource_id for c in result.skipped] == [held]
    assert theirs not in {f.id for f in result.created}
    assert ali_tags(ali_record(emu, theirs)) == before  # not tagged as this fleet's
    on_held = [r for r in emu.flow_logs(ALI_REGION) if r["ResourceId"] == held]
    assert [r["FlowLogId"] for r in on_held] == [theirs]
    again = multiflow.plan(alibaba_fleet(switches), connections)
    assert by_action(again) == {"conflict": [held], "keep": sorted(switches[1:])}
    assert multiflow.apply(multiflow.plan(alibaba_fleet(switches), connections, destroy=True), connections).ok
    assert ali_tags(ali_record(emu, theirs)) == before  # destroy leaves it too


@pytest.mark.parametrize("owner_tags", OWNERS)
def test_alibaba_a_flow_log_made_between_plan_and_apply_fails_that_resource_and_is_not_adopted(
    alibaba: tuple[AlibabaEmulator, Connections, list[str]], owner_tags: dict[str, str]
) -> None:
    emu, connections, switches = alibaba
    made = multiflow.plan(alibaba_fleet(switches), connections)
    assert by_action(made) == {"create": sorted(switches)}
    raced = switches[0]
    theirs = ali_sdk_create(emu, raced, owner_tags)  # after plan, before apply
    before = ali_tags(ali_record(emu, theirs))
    result = multiflow.apply(made, connections)
    assert [f.change.resource_id for f in result.failed] == [raced]
    assert theirs in str(result.failed[0].error)
    assert {c.resource_id for c in result.done} == set(switches[1:])
    assert theirs not in {f.id for f in result.created}
    assert ali_tags(ali_record(emu, theirs)) == before
    assert [r["FlowLogId"] for r in emu.flow_logs(ALI_REGION) if r["ResourceId"] == raced] == [theirs]
    assert by_action(multiflow.plan(alibaba_fleet(switches), connections))["conflict"] == [raced]


@pytest.mark.parametrize(
    "owner_tags", [pytest.param({**OTHER_FLEET, SPEC_TAG: "vpcs@0"}, id="another-fleets"), OWNERS[1]]
)
def test_aws_a_flow_log_the_fleet_did_not_make_is_a_conflict_and_is_never_taken_over(
    aws: tuple[Any, Connections, list[str]], owner_tags: dict[str, str]
) -> None:
    sandbox, connections, vpcs = aws
    held = vpcs[0]
    theirs = aws_sdk_create(sandbox, held, owner_tags)
    made = multiflow.plan(aws_fleet(vpcs), connections)
    assert by_action(made) == {"conflict": [held], "create": sorted(vpcs[1:])}
    [conflict] = made.conflicts
    assert conflict.flow_log is not None and conflict.flow_log.id == theirs and theirs in conflict.reasons[0]
    result = multiflow.apply(made, connections)
    assert result.ok and [c.resource_id for c in result.skipped] == [held]
    [record] = [r for r in aws_flow_logs(sandbox) if r["FlowLogId"] == theirs]
    assert aws_tags(record) == {"team": "netops", **owner_tags}
    assert [r["FlowLogId"] for r in aws_flow_logs(sandbox) if r["ResourceId"] == held] == [theirs]
    assert multiflow.apply(multiflow.plan(aws_fleet(vpcs), connections, destroy=True), connections).ok
    assert [r["FlowLogId"] for r in aws_flow_logs(sandbox)] == [theirs]


@pytest.mark.parametrize(
    "owner_tags", [pytest.param({**OTHER_FLEET, SPEC_TAG: "vpcs@0"}, id="another-fleets"), OWNERS[1]]
)
def test_aws_a_flow_log_made_between_plan_and_apply_fails_that_resource_and_is_not_adopted(
    aws: tuple[Any, Connections, list[str]], owner_tags: dict[str, str]
) -> None:
    sandbox, connections, vpcs = aws
    made = multiflow.plan(aws_fleet(vpcs), connections)
    raced = vpcs[0]
    theirs = aws_sdk_create(sandbox, raced, owner_tags)
    result = multiflow.apply(made, connections)
    assert [f.change.resource_id for f in result.failed] == [raced]
    assert {c.resource_id for c in result.done} == set(vpcs[1:])
    [record] = [r for r in aws_flow_logs(sandbox) if r["FlowLogId"] == theirs]
    assert aws_tags(record) == {"team": "netops", **owner_tags}
    assert [r["FlowLogId"] for r in aws_flow_logs(sandbox) if r["ResourceId"] == raced] == [theirs]


# -- 3. a flow log being deleted is neither kept nor deleted again ----------------------------------------------------


def ali_sdk_delete(emu: AlibabaEmulator, flow_log_id: str) -> None:
    """DeleteFlowLog straight through the official SDK (the flow log is then Deleting until the clock moves)."""
    from alibabacloud_tea_openapi.models import Config
    from alibabacloud_vpc20160428 import models
    from alibabacloud_vpc20160428.client import Client

    settings = emu.client_settings(ALI_KEY_ID)
    sdk = Client(
        Config(
            access_key_id=settings["access_key_id"],
            access_key_secret=settings["access_key_secret"],
            endpoint=settings["endpoint"],
            protocol="http",
            region_id=ALI_REGION,
        )
    )
    sdk.delete_flow_log(models.DeleteFlowLogRequest(region_id=ALI_REGION, flow_log_id=flow_log_id))


def test_a_flow_log_being_deleted_is_neither_kept_nor_deleted_again_and_its_resource_is_planned_a_create(
    alibaba: tuple[AlibabaEmulator, Connections, list[str]],
) -> None:
    emu, connections, switches = alibaba
    fleet = alibaba_fleet(switches)
    assert multiflow.apply(multiflow.plan(fleet, connections), connections).ok
    emu.deletion_delay = 60.0  # on the manual clock: Deleting until the test moves it
    leaving = switches[0]
    [doomed] = [r["FlowLogId"] for r in emu.flow_logs(ALI_REGION) if r["ResourceId"] == leaving]
    ali_sdk_delete(emu, doomed)
    assert ali_record(emu, doomed)["Status"] == "Deleting"

    made = multiflow.plan(fleet, connections)
    assert by_action(made) == {"create": [leaving], "keep": sorted(switches[1:])}
    assert all(c.flow_log is None or c.flow_log.id != doomed for c in made.changes)
    destroy = multiflow.plan(fleet, connections, destroy=True)
    assert by_action(destroy) == {"delete": sorted(switches[1:])}
    assert doomed not in {c.flow_log.id for c in destroy.changes if c.flow_log}

    # Applied while it is still being deleted: that create fails, saying so; nothing is deleted again.
    emu.reset_calls()
    result = multiflow.apply(made, connections, timeout=5)
    assert [f.change.resource_id for f in result.failed] == [leaving]
    assert "still being deleted" in str(result.failed[0].error)
    assert emu.calls["DeleteFlowLog"] == 0 and emu.calls["CreateFlowLog"] == 0
    assert ali_record(emu, doomed)["Status"] == "Deleting"

    clock = emu.clock
    assert isinstance(clock, ManualClock)
    clock.advance(61)  # the deletion completes
    assert doomed not in {r["FlowLogId"] for r in emu.flow_logs(ALI_REGION)}
    again = multiflow.plan(fleet, connections)
    assert by_action(again) == {"create": [leaving], "keep": sorted(switches[1:])}
    assert multiflow.apply(again, connections, timeout=5).ok
    assert not multiflow.plan(fleet, connections).pending


# -- 4. an entry's tags win over the defaults' ------------------------------------------------------------------------


def test_aws_an_entrys_tag_wins_over_the_defaults_tag_of_the_same_key(aws: tuple[Any, Connections, list[str]]) -> None:
    sandbox, connections, vpcs = aws
    fleet = aws_fleet(vpcs, "tags: {team: b}\n", tags="{team: a, env: x}")
    assert multiflow.apply(multiflow.plan(fleet, connections), connections).ok
    records = aws_flow_logs(sandbox)
    assert sorted(r["ResourceId"] for r in records) == sorted(vpcs)
    for record in records:
        tags = aws_tags(record)  # besides multiflow's and the Name tag AWS names flow logs with
        assert (tags["team"], tags["env"]) == ("b", "x")
    assert not multiflow.plan(fleet, connections).pending


def test_alibaba_an_entrys_tag_wins_over_the_defaults_tag_of_the_same_key(
    alibaba: tuple[AlibabaEmulator, Connections, list[str]],
) -> None:
    emu, connections, switches = alibaba
    fleet = alibaba_fleet(switches, "tags: {team: b}\n", tags="{team: a, env: x}")
    assert multiflow.apply(multiflow.plan(fleet, connections), connections).ok
    records = emu.flow_logs(ALI_REGION)
    assert sorted(r["ResourceId"] for r in records) == sorted(switches)
    for record in records:
        user_tags = {k: v for k, v in ali_tags(record).items() if not k.startswith("multiflow:")}
        assert user_tags == {"team": "b", "env": "x"}
    assert not multiflow.plan(fleet, connections).pending


# -- a selector the cloud cannot list is refused before any call -----------------------------------------------------


def test_a_selector_on_a_kind_that_cannot_be_listed_is_refused_located_before_any_call(aws_env: Any) -> None:
    from multiflow_aws.fault_proxy import FaultProxy

    text = textwrap.dedent(f"""\
        flow_logs:
          - name: nat
            provider: aws
            regions: [{AWS_REGION}]
            resources: {{kind: regional_nat_gateway, where: {{"tag:env": prod}}}}
            destination: {{kind: s3, bucket: {BUCKET}}}
        """)
    with FaultProxy(aws_env.endpoint_url) as proxy:
        with (
            Connections(lambda provider, region: aws_env.connect_options(proxy=proxy)) as connections,
            pytest.raises(multiflow.fleet.FleetError) as caught,
        ):
            multiflow.plan(multiflow.loads(text, source="fleet.yaml"), connections)
        assert sum(proxy.calls.values()) == 0
    assert str(caught.value).startswith("fleet.yaml:5:16: aws: flow_logs[0].resources.where='regional_nat_gateway'")
    assert "cannot be listed: give ids" in str(caught.value)


@pytest.mark.parametrize("provider", ["aws", "alibaba"])
def test_the_kinds_a_provider_refuses_selectors_on_are_exactly_those_its_session_cannot_list(
    provider: str, aws_env: Any, alibaba: tuple[AlibabaEmulator, Connections, list[str]]
) -> None:
    from multiflow.errors import UnsupportedFeature
    from multiflow.plugins import get_provider
    from multiflow.spec import ResourceKind
    from multiflow.validate import check_selector

    caps = get_provider(provider).capabilities
    if provider == "aws":
        client = multiflow.connect("aws", region=AWS_REGION, **aws_env.connect_options())
    else:
        client = alibaba[1].client("alibaba", ALI_REGION)
    try:
        for kind in ResourceKind:
            try:
                check_selector(kind, caps)
                refused = False
            except UnsupportedFeature:
                refused = True
            try:
                client.session.list_resources(kind, {"env": "none-such"})
                listed = True
            except UnsupportedFeature:
                listed = False
            assert refused is not listed, (kind, refused, listed)
    finally:
        if provider == "aws":
            client.close()
