"""AWS plans that converge and promise only what AWS accepts, through boto3 against the moto sandbox."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.errors import SpecError
from multiflow.fleet import loads
from multiflow.planning import Action, plan
from multiflow.plugins import get_provider
from multiflow.spec import FlowLogSpec
from multiflow.validate import check

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/flow-logs"
ACCOUNT = "123456789012"


def fleet_text(destination: dict[str, Any], *, entry: str = "vpcs", extra: str = "") -> str:
    return textwrap.dedent(f"""\
        name: netops
        flow_logs:
          - name: {entry}
            provider: aws
            regions: [{REGION}]
            resources: {{kind: vpc, where: {{"tag:env": prod}}}}
            destination: {json.dumps(destination)}
        """) + textwrap.indent(textwrap.dedent(extra), "    ")


@pytest.fixture
def connections(aws_env: Any) -> Any:
    with Connections(lambda provider, region: aws_env.connect_options()) as made:
        yield made


def actions(made: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for change in made.changes:
        found.setdefault(change.action.value, []).append(change.resource_id)
    return {k: sorted(v) for k, v in found.items()}


GROUP_ARN = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:flow-logs"


@pytest.mark.parametrize(
    "destination",
    [
        {"kind": "cloudwatch_logs", "log_group": "flow-logs", "role_arn": ROLE},
        {"kind": "cloudwatch_logs", "log_group": GROUP_ARN, "role_arn": ROLE},
        {"kind": "cloudwatch_logs", "log_group": GROUP_ARN + ":*", "role_arn": ROLE},
        {"kind": "s3", "bucket": "central-flowlogs"},
        {"kind": "s3", "bucket": "arn:aws:s3:::central-flowlogs", "prefix": "prod/"},
    ],
    ids=["group-name", "group-arn", "group-arn-star", "bucket-name", "bucket-arn"],
)
def test_every_destination_form_converges_after_apply(
    destination: dict[str, Any], aws_env: Any, connections: Any
) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2, tags={"env": "prod"})
    aws_env.create_bucket("central-flowlogs")
    aws_env.create_log_group("flow-logs")
    fleet = loads(fleet_text(destination))
    assert actions(plan(fleet, connections)) == {"create": sorted(vpcs)}
    assert multiflow.apply(plan(fleet, connections), connections).ok
    again = plan(fleet, connections)
    assert actions(again) == {"keep": sorted(vpcs)}, [c.reasons for c in again.changes]


@pytest.mark.parametrize(
    ("region", "bucket"),
    [
        ("us-east-1", "arn:aws:s3:::b-1"),
        ("cn-north-1", "arn:aws-cn:s3:::b-1"),
        ("us-gov-west-1", "arn:aws-us-gov:s3:::b-1"),
    ],
)
def test_a_bucket_name_normalises_to_the_arn_of_its_partition(region: str, bucket: str) -> None:
    aws = get_provider("aws")
    by_name = FlowLogSpec(resources={"kind": "vpc", "ids": ["vpc-1"]}, destination={"kind": "s3", "bucket": "b-1"})
    by_arn = by_name.model_copy(update={"destination": by_name.destination.model_copy(update={"bucket": bucket})})
    assert aws.normalize(by_name, region).destination == aws.normalize(by_arn, region).destination
    assert aws.normalize(by_name, region).destination.bucket == bucket  # type: ignore[attr-defined]


def test_an_s3_destination_differing_only_in_format_is_a_conflict_not_a_create(aws_env: Any, connections: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1, tags={"env": "prod"})
    bucket = aws_env.create_bucket("central-flowlogs")
    ec2 = connections.client("aws", REGION).session.ec2
    by_hand = ec2.create_flow_logs(
        ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3", LogDestination=bucket
    )["FlowLogIds"][0]
    fleet = loads(fleet_text({"kind": "s3", "bucket": "central-flowlogs", "file_format": "parquet"}))
    made = plan(fleet, connections)
    [change] = made.changes
    assert change.action is Action.CONFLICT and change.flow_log is not None and change.flow_log.id == by_hand


def test_a_name_with_48_tags_is_refused_because_apply_would_send_51(aws_client: Any) -> None:
    tags = {f"k{n}": "v" for n in range(48)}
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": ["vpc-1"]}, destination={"kind": "s3", "bucket": "b-1"}, tags=tags
    )
    check(spec, get_provider("aws"))  # 48 + 2 of multiflow's = 50: allowed
    with pytest.raises(SpecError) as caught:
        check(spec.model_copy(update={"name": "named"}), get_provider("aws"))
    assert caught.value.field == "tags" and "47" in str(caught.value) and "Name" in str(caught.value)


def test_an_id_of_another_kind_is_refused_before_any_call(aws_client: Any, wire: Any) -> None:
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": ["vpc-1", "subnet-0abc"]}, destination={"kind": "s3", "bucket": "b-1"}
    )
    with pytest.raises(SpecError) as caught:
        aws_client.create(spec)
    assert caught.value.field == "resources.ids[1]" and "subnet" in str(caught.value)
    assert wire.requests == []


@pytest.mark.parametrize("separator", ["/", ":"])
def test_both_firehose_arn_forms_are_accepted(separator: str) -> None:
    arn = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream{separator}my_stream"
    spec = FlowLogSpec(resources={"kind": "vpc", "ids": ["vpc-1"]}, destination={"kind": "firehose", "stream_arn": arn})
    check(spec, get_provider("aws"))


def test_a_tag_change_is_an_update_in_place_that_keeps_the_id(aws_env: Any, connections: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2, tags={"env": "prod"})
    aws_env.create_bucket("central-flowlogs")
    destination = {"kind": "s3", "bucket": "central-flowlogs"}
    first = loads(fleet_text(destination, extra="tags: {team: netops, old: x}\n"))
    assert multiflow.apply(plan(first, connections), connections).ok
    before = {f.resource.id: f for f in connections.client("aws", REGION).describe()}
    changed = loads(fleet_text(destination, extra="tags: {team: sre}\n"))
    made = plan(changed, connections)
    assert actions(made) == {"update": sorted(vpcs)}
    assert multiflow.apply(made, connections).ok
    after = {f.resource.id: f for f in connections.client("aws", REGION).describe()}
    assert {v: f.id for v, f in after.items()} == {v: f.id for v, f in before.items()}
    for vpc in vpcs:
        tags = after[vpc].tags
        assert {k: v for k, v in tags.items() if not k.startswith("multiflow:")} == {"team": "sre"}
        assert tags["multiflow:managed"] == "netops" and after[vpc].name == "vpcs"
    assert actions(plan(changed, connections)) == {"keep": sorted(vpcs)}


def test_the_cross_account_role_and_tag_fields_are_read_back_and_compared(aws_env: Any, connections: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1, tags={"env": "prod"})
    stream = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/x"
    destination = {"kind": "firehose", "stream_arn": stream}
    other = "arn:aws:iam::123456789012:role/other"
    block = 'aws: {cross_account_role: "%s", tag_fields: [{resource_type: instance, keys: [env]}]}\n'
    fleet = loads(fleet_text(destination, extra=block % ROLE))
    assert multiflow.apply(plan(fleet, connections), connections).ok
    [flow_log] = connections.client("aws", REGION).describe()
    assert flow_log.options is not None
    assert flow_log.options.cross_account_role == ROLE  # type: ignore[attr-defined]
    assert flow_log.options.tag_fields[0].keys == ["env"]  # type: ignore[attr-defined]
    assert actions(plan(fleet, connections)) == {"keep": [vpc]}
    moved = plan(loads(fleet_text(destination, extra=block % other)), connections)
    [change] = moved.changes
    assert change.action is Action.REPLACE and change.differs_in("options.cross_account_role")
    assert not change.differs_in("options")  # compared as an attribute, not through the digest


def _ids_fleet(ids: list[str], bucket: str) -> Any:
    return loads(
        textwrap.dedent(f"""\
        name: named
        flow_logs:
          - name: vpcs
            provider: aws
            regions: [{REGION}]
            resources: {{kind: vpc, ids: [{", ".join(ids)}]}}
            destination: {{kind: s3, bucket: "{bucket}"}}
        """)
    )


def test_plan_of_named_vpcs_asks_about_them_not_the_region(aws_env: Any, connections: Any) -> None:
    from tests.conftest import WireRecorder

    aws_env.seed_vpcs(REGION, 5)  # other VPCs of the region, not the fleet's
    bucket = aws_env.create_bucket("named-plan")
    mine = aws_env.seed_vpcs(REGION, 2)
    wire = WireRecorder()
    connections.client("aws", REGION).session.ec2.meta.events.register("before-send.ec2", wire)
    made = plan(_ids_fleet([*mine, "vpc-0000000000000dead"], bucket), connections)
    assert actions(made) == {"create": sorted([*mine, "vpc-0000000000000dead"])}
    assert any("no vpc vpc-0000000000000dead" in w for w in made.warnings), made.warnings
    # The fleet's own flow logs by its tag; then the three by resource; the three VPCs by id, never the whole list.
    [owned, on_resources] = wire.calls("DescribeFlowLogs")
    assert owned["Filter.1.Name"] == ["tag:multiflow:managed"] and owned["Filter.1.Value.1"] == ["named"]
    assert on_resources["Filter.1.Name"] == ["resource-id"]
    [vpcs] = wire.calls("DescribeVpcs")
    assert vpcs["Filter.1.Name"] == ["vpc-id"]
    assert sorted(v for k, v in vpcs.items() if k.startswith("Filter.1.Value.")) == sorted(
        [[i] for i in [*mine, "vpc-0000000000000dead"]]
    )
    # Once applied, a plan reads the fleet's own flow logs and nothing else.
    assert multiflow.apply(plan(_ids_fleet(mine, bucket), connections), connections).ok
    wire.requests.clear()
    again = plan(_ids_fleet(mine, bucket), connections)
    assert set(actions(again)) == {"keep"}
    assert [name for name, _ in wire.requests] == ["DescribeFlowLogs"]
