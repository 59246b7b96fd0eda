"""The Alibaba provider's mapping (neutral spec ↔ CreateFlowLog/DescribeFlowLogs) and its own spec rules.

Every row goes through ``multiflow.connect("alibaba")``, the official SDK and real HTTP to the emulator; what the
cloud stored is read back both raw (the emulator's record) and neutral (``describe``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any

import pytest

import multiflow
from multiflow.errors import SpecError, UnsupportedFeature
from multiflow.model import DeliveryStatus, FlowLogStatus
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic
from multiflow_alibaba.options import SlsDestination

from .provider_support import LOGSTORE, PROJECT, PROXY_VARIABLES, World, running_world


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    """The emulator, with the TrafficPath feature enabled for the account."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with running_world(traffic_path_enabled=True) as running:
        yield running


def create_one(world: World, spec: FlowLogSpec) -> tuple[multiflow.FlowLog, dict[str, Any]]:
    """Create (without waiting), then return the neutral flow log as described and the raw record."""
    client = world.connect()
    [created] = client.create(spec, wait=False)
    [described] = client.describe(ids=[created.id])
    return described, world.record(created.id)


# -- importing ---------------------------------------------------------------------------------------------


def test_importing_the_provider_loads_no_sdk() -> None:
    code = (
        "import sys, multiflow, multiflow_alibaba; multiflow.get_provider('alibaba');"
        "bad = [m for m in sys.modules if m.startswith(('alibabacloud', 'darabonba', 'Tea'))];"
        "assert not bad, bad"
    )
    import subprocess

    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_capabilities_are_data() -> None:
    caps = multiflow.get_provider("alibaba").capabilities
    assert caps.resource_kinds == (ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE)
    assert caps.intervals[ResourceKind.VPC] == (60, 300, 600)
    assert caps.default_interval[ResourceKind.SUBNET] == 600
    assert caps.destinations == ("sls",)
    assert caps.fields[ResourceKind.VPC] == ()
    assert caps.ids_per_call[ResourceKind.NETWORK_INTERFACE] == 1
    assert (caps.max_tags, caps.max_tag_key_length, caps.max_tag_value_length) == (20, 128, 128)
    assert caps.reserved_tag_prefixes == ("aliyun", "acs:")
    assert (caps.name_max_length, caps.description_max_length) == (128, 256)
    assert caps.start_stop and caps.async_activation and not caps.dry_run
    assert caps.modifiable == (
        "name",
        "description",
        "interval",
        "tags",
        "options.ip_version",
        "options.resource_group_id",
    )
    assert caps.readable_options == ("traffic_paths", "ip_version", "resource_group_id")
    from multiflow_alibaba.options import AlibabaOptions, SlsDestination
    from multiflow_alibaba.provider import AlibabaProvider

    assert AlibabaProvider.options is AlibabaOptions and AlibabaProvider.destinations == (SlsDestination,)


# -- the mapping, row by row -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "resource_type"),
    [("vpc", "VPC"), ("subnet", "VSwitch"), ("network_interface", "NetworkInterface")],
)
def test_resource_kinds(world: World, kind: str, resource_type: str) -> None:
    flow_log, raw = create_one(world, world.spec(kind))
    assert raw["ResourceType"] == resource_type
    assert flow_log.resource.kind == ResourceKind(kind)
    assert flow_log.resource.id == raw["ResourceId"]


@pytest.mark.parametrize(
    ("traffic", "traffic_type"), [(None, "All"), ("all", "All"), ("accept", "Allow"), ("reject", "Drop")]
)
def test_traffic(world: World, traffic: str | None, traffic_type: str) -> None:
    flow_log, raw = create_one(world, world.spec(traffic=traffic))
    assert raw["TrafficType"] == traffic_type
    assert flow_log.traffic == Traffic(traffic or "all")


@pytest.mark.parametrize(("interval", "minutes"), [(None, 10), (60, 1), (300, 5), (600, 10)])
def test_intervals(world: World, interval: int | None, minutes: int) -> None:
    flow_log, raw = create_one(world, world.spec(interval=interval))
    assert raw["AggregationInterval"] == minutes
    assert flow_log.interval == minutes * 60


def test_an_interval_alibaba_lacks_is_refused_before_any_call(world: World) -> None:
    client = world.connect()
    with pytest.raises(SpecError, match=r"alibaba: interval=120 is not allowed.*60, 300, 600"):
        client.create(world.spec(interval=120))
    assert world.emu.calls == {}


def test_finer_interval_policy_takes_the_nearest_finer_one(world: World) -> None:
    _, raw = create_one(world, world.spec(interval=120, interval_policy="finer"))
    assert raw["AggregationInterval"] == 1


def test_sls_destination_name_description_and_tags(world: World) -> None:
    spec = world.spec(name="prod-flows", description="All prod traffic", tags={"team": "netops", "env": ""})
    flow_log, raw = create_one(world, spec)
    assert (raw["ProjectName"], raw["LogStoreName"]) == (PROJECT, LOGSTORE)
    assert flow_log.destination == SlsDestination(project=PROJECT, logstore=LOGSTORE)
    assert (raw["FlowLogName"], raw["Description"]) == ("prod-flows", "All prod traffic")
    assert (flow_log.name, flow_log.description) == ("prod-flows", "All prod traffic")
    assert raw["Tags"] == {"Tag": [{"Key": "env", "Value": ""}, {"Key": "team", "Value": "netops"}]}
    assert flow_log.tags == {"team": "netops", "env": ""}


def test_extra_tags_go_beside_the_spec_tags(world: World) -> None:
    client = world.connect()
    [created] = client.create(world.spec(tags={"team": "a"}), wait=False, extra_tags={"multiflow:managed": "true"})
    assert client.get(created.id).tags == {"team": "a", "multiflow:managed": "true"}


def test_options_traffic_paths_ip_version_and_resource_group(world: World) -> None:
    world.emu.add_resource_group("rg-acfmtest0001")
    spec = world.spec(
        alibaba={
            "traffic_paths": ["natGateway", "vpnGateway"],
            "ip_version": "IPv4",
            "resource_group_id": "rg-acfmtest0001",
        }
    )
    flow_log, raw = create_one(world, spec)
    assert raw["TrafficPath"] == {"TrafficPathList": ["natGateway", "vpnGateway"]}
    assert raw["IpVersion"] == "IPv4"
    assert raw["ResourceGroupId"] == "rg-acfmtest0001"
    assert flow_log.raw["ResourceGroupId"] == "rg-acfmtest0001"


def test_dual_stack(world: World) -> None:
    _, raw = create_one(world, world.spec(alibaba={"ip_version": "DualStack"}))
    assert raw["IpVersion"] == "DualStack"
    assert raw["TrafficPath"] == {"TrafficPathList": ["all"]}


def test_describe_maps_every_field_back(world: World) -> None:
    flow_log, raw = create_one(world, world.spec(name="n", interval=300))
    assert flow_log.provider == "alibaba" and flow_log.region == "cn-hangzhou"
    assert flow_log.status == FlowLogStatus.ACTIVE  # the emulator's activation delay is 0 here
    assert flow_log.delivery_status == DeliveryStatus.OK and flow_log.delivery_error is None
    assert flow_log.created_at is not None and flow_log.created_at.tzinfo is not None
    assert flow_log.fields is None
    assert flow_log.raw["FlowLogId"] == raw["FlowLogId"] == flow_log.id


@pytest.mark.parametrize(
    ("status", "neutral"),
    [
        ("Activating", FlowLogStatus.ACTIVATING),
        ("Active", FlowLogStatus.ACTIVE),
        ("Deactivating", FlowLogStatus.DEACTIVATING),
        ("Inactive", FlowLogStatus.INACTIVE),
        ("Deleting", FlowLogStatus.DELETING),
    ],
)
def test_statuses(world: World, status: str, neutral: FlowLogStatus) -> None:
    client = world.connect()
    [created] = client.create(world.spec(), wait=False)
    world.emu.set_status(created.id, status)
    assert client.get(created.id).status == neutral


def test_describe_filters(world: World) -> None:
    client = world.connect()
    subnet = client.create(world.spec("subnet", tags={"team": "a"}), wait=False)[0]
    vpc = client.create(world.spec("vpc", tags={"team": "b"}), wait=False)[0]
    assert {f.id for f in client.describe()} == {subnet.id, vpc.id}
    assert [f.id for f in client.describe(resource_kind="vpc")] == [vpc.id]
    assert [f.id for f in client.describe(tags={"team": "a"})] == [subnet.id]
    assert [f.id for f in client.describe(tags={"team": None}, resource_ids=[vpc.resource.id])] == [vpc.id]
    assert client.describe(resource_kind="transit_gateway") == []
    assert client.describe(ids=["fl-doesnotexist000000000"]) == []


# -- refusals before any call --------------------------------------------------------------------------


def refusal(world: World, spec_fields: dict[str, Any], kind: str = "subnet") -> str:
    client = world.connect()
    with pytest.raises(SpecError) as caught:
        client.create(FlowLogSpec(resources={"kind": kind, "ids": ["vsw-abc"]}, **spec_fields))
    assert world.emu.calls == {}
    return str(caught.value)


SLS = {"kind": "sls", "project": PROJECT, "logstore": LOGSTORE}


@pytest.mark.parametrize(
    ("fields", "kind", "message"),
    [
        ({"destination": {"kind": "sls", "project": "ab", "logstore": LOGSTORE}}, "subnet", "destination.project='ab'"),
        ({"destination": {"kind": "sls", "project": "Upper", "logstore": LOGSTORE}}, "subnet", "an SLS project name"),
        ({"destination": {"kind": "sls", "project": "-lead", "logstore": LOGSTORE}}, "subnet", "an SLS project name"),
        ({"destination": {"kind": "sls", "project": "a_b_c", "logstore": LOGSTORE}}, "subnet", "an SLS project name"),
        ({"destination": {"kind": "sls", "project": "p" * 64, "logstore": LOGSTORE}}, "subnet", "3-63"),
        ({"destination": {"kind": "sls", "project": PROJECT, "logstore": "xy"}}, "subnet", "an SLS logstore name"),
        ({"destination": {"kind": "sls", "project": PROJECT, "logstore": "bad_"}}, "subnet", "logstore='bad_'"),
        ({"destination": {"kind": "sls", "project": PROJECT, "logstore": "a.b.c"}}, "subnet", "an SLS logstore name"),
        ({"destination": SLS, "name": "n" * 129}, "subnet", "name='nnn.*1 to 128 characters"),
        ({"destination": SLS, "name": "http://x"}, "subnet", "not starting with http:// or https://"),
        ({"destination": SLS, "description": "https://x"}, "subnet", "description='https://x'"),
        ({"destination": SLS, "description": "d" * 257}, "subnet", "1 to 256 characters"),
        ({"destination": SLS, "tags": {"aliyun-owner": "x"}}, "subnet", "reserved"),
        ({"destination": SLS, "tags": {"acs:team": "x"}}, "subnet", "reserved"),
        ({"destination": SLS, "tags": {" ": "x"}}, "subnet", "non-empty keys"),
        ({"destination": SLS, "tags": {"k": "v" * 129}}, "subnet", "values of at most 128 characters"),
        ({"destination": SLS, "tags": {"k": "https://x"}}, "subnet", "without http://"),
        ({"destination": SLS, "tags": {f"k{i}": "v" for i in range(19)}}, "subnet", "at most 18"),
        ({"destination": SLS, "alibaba": {"traffic_paths": ["bogus"]}}, "subnet", "alibaba.traffic_paths.0.='bogus'"),
        ({"destination": SLS, "alibaba": {"traffic_paths": ["vbr", "vbr"]}}, "subnet", "repeated: vbr"),
        ({"destination": SLS, "alibaba": {"traffic_paths": ["all", "vbr"]}}, "subnet", "'all' already covers"),
        (
            {"destination": SLS, "alibaba": {"traffic_paths": ["vbr"], "ip_version": "DualStack"}},
            "subnet",
            "dual-stack flow logs take no custom traffic path",
        ),
        ({"destination": SLS, "alibaba": {"ip_version": "IPv6"}}, "subnet", "alibaba.ip_version"),
        ({"destination": SLS, "alibaba": {"resource_group_id": "group-1"}}, "subnet", "a resource group id"),
        ({"destination": SLS, "interval": 900}, "subnet", "interval=900"),
    ],
)
def test_refusals(world: World, fields: dict[str, Any], kind: str, message: str) -> None:
    assert _search(message, refusal(world, fields, kind))


def _search(pattern: str, text: str) -> bool:
    import re

    if re.search(pattern, text):
        return True
    raise AssertionError(f"{pattern!r} not found in {text!r}")


@pytest.mark.parametrize(
    ("fields", "kind", "what"),
    [
        ({"destination": SLS}, "transit_gateway", "resources.kind='transit_gateway'"),
        ({"destination": SLS}, "transit_gateway_attachment", "resources.kind"),
        ({"destination": SLS}, "regional_nat_gateway", "resources.kind='regional_nat_gateway'"),
        ({"destination": {"kind": "s3", "bucket": "arn:aws:s3:::b"}}, "subnet", "destination.kind='s3'"),
        ({"destination": {"kind": "cloudwatch_logs", "log_group": "g"}}, "subnet", "destination.kind"),
        ({"destination": SLS, "fields": ["src_addr"]}, "subnet", "fields="),
    ],
)
def test_unsupported_features(world: World, fields: dict[str, Any], kind: str, what: str) -> None:
    client = world.connect()
    spec = FlowLogSpec(resources={"kind": kind, "ids": ["vsw-x1" if kind == "subnet" else "x-1"]}, **fields)
    with pytest.raises(UnsupportedFeature, match=r"^alibaba does not support " + what):
        client.create(spec)
    assert world.emu.calls == {}


def test_a_valid_spec_passes_validation(world: World) -> None:
    spec = world.spec(
        name="ok",
        description="fine",
        interval=300,
        tags={"team": "netops"},
        alibaba={"traffic_paths": ["all"], "ip_version": "DualStack", "resource_group_id": "rg-acfm123"},
    )
    assert world.connect().validate(spec) == [spec]
