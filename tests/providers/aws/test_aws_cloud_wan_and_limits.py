"""Cloud WAN flow logs, both Firehose ARN forms, and CreateFlowLogs' batch limit, through boto3 against moto."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.errors import SpecError, UnsupportedFeature
from multiflow.fleet import loads
from multiflow.planning import plan
from multiflow.plugins import get_provider
from multiflow.spec import FlowLogSpec, ResourceKind
from multiflow.validate import check

REGION = "us-east-1"
ACCOUNT = "123456789012"
CORE_NETWORKS = ["core-network-0a1b2c3d4e5f60718", "core-network-1a1b2c3d"]
ATTACHMENTS = ["attachment-0a1b2c3d4e5f60718", "attachment-2b1b2c3d4e"]
STREAM = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/flow-logs"
STREAM_REFERENCE_FORM = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream:flow-logs"


@pytest.fixture
def connections(aws_env: Any) -> Any:
    with Connections(lambda provider, region: aws_env.connect_options()) as made:
        yield made


def actions(made: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for change in made.changes:
        found.setdefault(change.action.value, []).append(change.resource_id)
    return {k: sorted(v) for k, v in found.items()}


def fleet(resources: dict[str, Any], destination: dict[str, Any]) -> Any:
    return loads(
        textwrap.dedent(f"""\
            name: netops
            flow_logs:
              - name: wan
                provider: aws
                regions: [{REGION}]
                resources: {json.dumps(resources)}
                destination: {json.dumps(destination)}
            """)
    )


# -- Cloud WAN --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "ids", "resource_type"),
    [
        ("core_network", CORE_NETWORKS, "CoreNetwork"),
        ("core_network_attachment", ATTACHMENTS, "CoreNetworkAttachment"),
    ],
)
def test_cloud_wan_flow_logs_plan_apply_and_read_back(
    kind: str, ids: list[str], resource_type: str, aws_env: Any, connections: Any
) -> None:
    bucket = aws_env.create_bucket("wan-flowlogs")
    wanted = fleet({"kind": kind, "ids": ids}, {"kind": "s3", "bucket": bucket})
    assert actions(plan(wanted, connections)) == {"create": sorted(ids)}
    sent: list[dict[str, Any]] = []
    ec2 = connections.client("aws", REGION).session.ec2
    ec2.meta.events.register("provide-client-params.ec2.CreateFlowLogs", lambda params, **_: sent.append(params))

    assert multiflow.apply(plan(wanted, connections), connections).ok

    [params] = sent
    assert params["ResourceType"] == resource_type
    assert "TrafficType" not in params  # "not supported for transit gateway or Cloud WAN resource types"
    assert params["MaxAggregationInterval"] == 60  # "must be 60 seconds for transit gateway and Cloud WAN"
    again = plan(wanted, connections)
    assert actions(again) == {"keep": sorted(ids)}, [c.reasons for c in again.changes]
    read = connections.client("aws", REGION).describe(resource_ids=ids)
    assert sorted((f.resource.id, f.resource.kind) for f in read) == [(i, ResourceKind(kind)) for i in sorted(ids)]
    assert {f.interval for f in read} == {60} and {f.traffic for f in read} == {None}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"traffic": "all"}, "traffic"),
        ({"interval": 600}, "interval"),
        ({"fields": ["src_addr"]}, "fields"),
        ({"resources": {"kind": "core_network", "ids": ["attachment-0a1b2c3d4e5f60718"]}}, "resources.ids[0]"),
        ({"resources": {"kind": "core_network", "ids": ["core-network-xyz"]}}, "resources.ids[0]"),
        ({"resources": {"kind": "vpc", "ids": ["core-network-0a1b2c3d"]}}, "resources.ids[0]"),
    ],
    ids=["traffic", "interval", "fields", "attachment-as-core-network", "not-hexadecimal", "core-network-as-vpc"],
)
def test_what_cloud_wan_does_not_take_is_refused_naming_the_field(change: dict[str, Any], field: str) -> None:
    settings: dict[str, Any] = {
        "resources": {"kind": "core_network", "ids": CORE_NETWORKS[:1]},
        "destination": {"kind": "s3", "bucket": "arn:aws:s3:::wan"},
        **change,
    }
    with pytest.raises((SpecError, UnsupportedFeature)) as caught:
        check(FlowLogSpec(**settings), get_provider("aws"))
    assert caught.value.field == field


def test_the_sandbox_takes_cloud_wan_ids_only_for_their_types_and_well_formed(aws_env: Any) -> None:
    ec2 = aws_env.client("ec2", REGION)
    bucket = aws_env.create_bucket("wan-strict")
    common = {"LogDestinationType": "s3", "LogDestination": bucket, "MaxAggregationInterval": 60}
    made = ec2.create_flow_logs(ResourceType="CoreNetwork", ResourceIds=CORE_NETWORKS[:1], **common)
    assert len(made["FlowLogIds"]) == 1
    for resource_type, resource_id in (("CoreNetwork", "core-network-xyz"), ("CoreNetworkAttachment", "attach-1")):
        with pytest.raises(ec2.exceptions.ClientError) as caught:
            ec2.create_flow_logs(ResourceType=resource_type, ResourceIds=[resource_id], **common)
        assert caught.value.response["Error"]["Code"] == "InvalidID"


# -- Firehose ARN forms -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "answered"),
    [
        (STREAM, STREAM),
        (STREAM_REFERENCE_FORM, STREAM_REFERENCE_FORM),
        (STREAM_REFERENCE_FORM, STREAM),
        (STREAM, STREAM_REFERENCE_FORM),
    ],
    ids=["slash", "colon", "colon-answered-slash", "slash-answered-colon"],
)
def test_both_firehose_arn_forms_converge_whichever_form_describe_answers(
    written: str, answered: str, aws_env: Any, connections: Any
) -> None:
    from moto.ec2.models import ec2_backends

    vpcs = aws_env.seed_vpcs(REGION, 2)
    wanted = fleet({"kind": "vpc", "ids": vpcs}, {"kind": "firehose", "stream_arn": written})
    assert multiflow.apply(plan(wanted, connections), connections).ok
    # The plan sends the normalised (IAM) form; then EC2 is made to answer ``answered``, as it may.
    stored = list(ec2_backends[ACCOUNT][REGION].flow_logs.values())
    assert {f.log_destination for f in stored} == {STREAM}
    for flow_log in stored:
        flow_log.log_destination = answered
    records = connections.client("aws", REGION).session.ec2.describe_flow_logs()["FlowLogs"]
    assert {r["LogDestination"] for r in records} == {answered}
    again = plan(wanted, connections)
    assert actions(again) == {"keep": sorted(vpcs)}, [c.reasons for c in again.changes]


# -- batches as botocore's model documents them -----------------------------------------------------------


def test_capabilities_take_the_batch_limits_of_botocores_model() -> None:
    import botocore.session

    shape = botocore.session.get_session().get_service_model("ec2").operation_model("CreateFlowLogs").input_shape
    text = shape.members["ResourceIds"].documentation
    caps = get_provider("aws").capabilities
    assert "Maximum of 25 for transit gateway resource types" in text
    assert "Maximum of 300 for the other resource types" in text
    tgw = {ResourceKind.TRANSIT_GATEWAY, ResourceKind.TRANSIT_GATEWAY_ATTACHMENT}
    assert {k: caps.ids_per_call[k] for k in caps.resource_kinds} == {
        k: 25 if k in tgw else 300 for k in caps.resource_kinds
    }
    declared = {k.value for k in caps.resource_kinds}
    # Every ResourceType of the model is declared, but CoreNetworkEdge, whose ids the docs do not describe.
    from multiflow_aws.capabilities import RESOURCE_TYPES

    assert set(shape.members["ResourceType"].enum) - set(RESOURCE_TYPES.values()) == {"CoreNetworkEdge"}
    assert declared == {k.value for k in RESOURCE_TYPES}


def test_301_vpcs_take_two_calls_counted_at_the_server_side(aws_env: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 301)
    bucket = aws_env.create_bucket("batched")
    proxy = aws_env.fault_proxy()
    client = multiflow.connect("aws", region=REGION, **aws_env.connect_options(proxy=proxy))
    try:
        spec = FlowLogSpec(resources={"kind": "vpc", "ids": vpcs}, destination={"kind": "s3", "bucket": bucket})
        created = client.create(spec)
    finally:
        client.close()
    assert len(created) == 301
    assert proxy.calls["CreateFlowLogs"] == 2  # 300 + 1; the sandbox refuses a call of 301, as AWS does


@pytest.mark.parametrize(("resource_type", "most"), [("VPC", 300), ("CoreNetwork", 300), ("TransitGateway", 25)])
def test_the_sandbox_refuses_more_resource_ids_a_call_than_aws_takes(
    resource_type: str, most: int, aws_env: Any
) -> None:
    ec2 = aws_env.client("ec2", REGION)
    prefix = {"VPC": "vpc-", "CoreNetwork": "core-network-", "TransitGateway": "tgw-"}[resource_type]
    ids = [f"{prefix}{n:017x}" for n in range(most + 1)]
    with pytest.raises(ec2.exceptions.ClientError) as caught:
        ec2.create_flow_logs(
            ResourceType=resource_type,
            ResourceIds=ids,
            LogDestinationType="s3",
            LogDestination="arn:aws:s3:::none-such",
            MaxAggregationInterval=60,
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
    assert str(most) in caught.value.response["Error"]["Message"]
