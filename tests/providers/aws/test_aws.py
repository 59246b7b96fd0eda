"""The AWS provider, through boto3 over HTTP against moto's server on loopback."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ec2_answers import ec2_error

import multiflow
from multiflow.errors import (
    AlreadyExists,
    AuthError,
    DryRunSucceeded,
    InvalidRequest,
    NotFound,
    PartialFailure,
    SpecError,
    Throttled,
    UnsupportedFeature,
)
from multiflow.model import DeliveryStatus, FlowLogStatus
from multiflow.spec import FlowLogSpec, ResourceKind, Traffic

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/flow-logs"


def s3_spec(ids: list[str], bucket: str, kind: str = "vpc", **extra: Any) -> FlowLogSpec:
    return FlowLogSpec(resources={"kind": kind, "ids": ids}, destination={"kind": "s3", "bucket": bucket}, **extra)


# -- every row of DESIGN.md's AWS column --------------------------------------------------------------------


def test_vpc_to_s3_round_trip_keeps_every_setting(aws_env: Any, aws_client: Any, wire: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("central-flowlogs")
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": vpcs},
        destination={
            "kind": "s3",
            "bucket": bucket,
            "prefix": "prod/",
            "file_format": "parquet",
            "hive_compatible_partitions": True,
            "per_hour_partition": True,
        },
        traffic="reject",
        interval=60,
        fields=["version", "account_id", "src_addr", "dst_addr", "src_port", "dst_port", "flow_direction"],
        name="prod-vpcs",
        tags={"team": "netops"},
    )

    created = aws_client.create(spec)

    [call] = wire.calls("CreateFlowLogs")
    assert call["ResourceType"] == ["VPC"]
    assert call["TrafficType"] == ["REJECT"]
    assert call["MaxAggregationInterval"] == ["60"]
    assert call["LogDestinationType"] == ["s3"]
    assert call["LogDestination"] == ["arn:aws:s3:::central-flowlogs/prod/"]
    assert call["DestinationOptions.FileFormat"] == ["parquet"]
    assert call["DestinationOptions.HiveCompatiblePartitions"] == ["true"]
    assert call["LogFormat"] == [
        "${version} ${account-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} ${flow-direction}"
    ]
    assert call["ClientToken"][0].startswith("multiflow-")
    assert sorted(f.resource.id for f in created) == sorted(vpcs)
    described = aws_client.describe(resource_ids=vpcs)
    assert {f.id for f in described} == {f.id for f in created}
    flow_log = described[0]
    assert flow_log.provider == "aws" and flow_log.region == REGION
    assert flow_log.resource.kind is ResourceKind.VPC
    assert flow_log.status is FlowLogStatus.ACTIVE
    assert flow_log.traffic is Traffic.REJECT
    assert flow_log.interval == 60
    assert flow_log.fields == spec.fields
    assert flow_log.destination == spec.destination.model_copy(update={"bucket": "arn:aws:s3:::central-flowlogs"})
    assert flow_log.name == "prod-vpcs"
    assert flow_log.tags == {"team": "netops"}
    assert flow_log.delivery_status is DeliveryStatus.OK
    assert flow_log.created_at is not None
    assert flow_log.raw["FlowLogId"] == flow_log.id


def test_bucket_name_becomes_an_arn_in_the_region_partition(aws_env: Any, aws_client: Any, wire: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    aws_env.create_bucket("plain-name")
    aws_client.create(s3_spec([vpc], "plain-name"))
    assert wire.calls("CreateFlowLogs")[0]["LogDestination"] == ["arn:aws:s3:::plain-name"]


def test_cloudwatch_logs_with_role(aws_env: Any, aws_client: Any, wire: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    group = aws_env.create_log_group("flow-logs")
    role = aws_env.create_role("flow-logs")
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": [vpc]},
        destination={"kind": "cloudwatch_logs", "log_group": group, "role_arn": role},
    )
    [created] = aws_client.create(spec)
    call = wire.calls("CreateFlowLogs")[0]
    assert call["LogDestinationType"] == ["cloud-watch-logs"]
    assert call["LogGroupName"] == ["flow-logs"]
    assert call["DeliverLogsPermissionArn"] == [role]
    assert created.destination.log_group == "flow-logs"
    assert created.destination.role_arn == role
    assert created.traffic is Traffic.ALL and created.interval == 600  # the defaults
    assert created.delivery_status is DeliveryStatus.OK


def test_cloudwatch_logs_to_a_missing_group_reports_failed_delivery(aws_env: Any, aws_client: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": [vpc]},
        destination={"kind": "cloudwatch_logs", "log_group": "no-such-group", "role_arn": ROLE},
    )
    [created] = aws_client.create(spec)
    assert created.delivery_status is DeliveryStatus.FAILED
    assert created.delivery_error == "Access error"


def test_cloudwatch_logs_without_role_is_refused_before_any_call(aws_env: Any, aws_client: Any, wire: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": [vpc]}, destination={"kind": "cloudwatch_logs", "log_group": "g"}
    )
    with pytest.raises(SpecError) as caught:
        aws_client.create(spec)
    assert caught.value.field == "destination.role_arn"
    assert "aws: destination.role_arn=None" in str(caught.value)
    assert "IAM role ARN" in str(caught.value)
    assert wire.requests == []


def test_firehose_destination(aws_env: Any, aws_client: Any, wire: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/flow-logs"
    [created] = aws_client.create(
        FlowLogSpec(resources={"kind": "vpc", "ids": [vpc]}, destination={"kind": "firehose", "stream_arn": stream})
    )
    assert wire.calls("CreateFlowLogs")[0]["LogDestinationType"] == ["kinesis-data-firehose"]
    assert created.destination.kind == "firehose"
    assert created.destination.stream_arn == stream


@pytest.mark.parametrize(("kind", "resource_type"), [("subnet", "Subnet"), ("network_interface", "NetworkInterface")])
def test_subnet_and_network_interface_kinds(
    aws_env: Any, aws_client: Any, wire: Any, kind: str, resource_type: str
) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    [subnet] = aws_env.seed_subnets(REGION, vpc, 1)
    ids = [subnet] if kind == "subnet" else aws_env.seed_network_interfaces(REGION, subnet, 2)
    bucket = aws_env.create_bucket("bucket-one")
    created = aws_client.create(s3_spec(ids, bucket, kind=kind))
    assert wire.calls("CreateFlowLogs")[0]["ResourceType"] == [resource_type]
    assert {f.resource.kind for f in created} == {ResourceKind(kind)}
    assert aws_client.describe(resource_kind=kind)[0].resource.kind is ResourceKind(kind)


def test_transit_gateways_go_25_a_call_at_60_seconds_without_traffic_type(
    aws_env: Any, aws_client: Any, wire: Any
) -> None:
    bucket = aws_env.create_bucket("tgw-logs")
    ids = [f"tgw-{n:017x}" for n in range(30)]
    created = aws_client.create(s3_spec(ids, bucket, kind="transit_gateway"))
    calls = wire.calls("CreateFlowLogs")
    assert [len([k for k in c if k.startswith("ResourceId.")]) for c in calls] == [25, 5]
    assert all(c["MaxAggregationInterval"] == ["60"] and "TrafficType" not in c for c in calls)
    assert all(c["ResourceType"] == ["TransitGateway"] for c in calls)
    assert len(created) == 30
    assert {f.resource.kind for f in created} == {ResourceKind.TRANSIT_GATEWAY}


def test_transit_gateway_refuses_traffic_and_a_600_second_interval(aws_client: Any, wire: Any) -> None:
    with pytest.raises(UnsupportedFeature, match="take no traffic type"):
        aws_client.create(s3_spec(["tgw-1"], "bucket-x", kind="transit_gateway", traffic="all"))
    with pytest.raises(SpecError, match=r"interval=600 is not allowed.*allowed: 60$"):
        aws_client.create(s3_spec(["tgw-1"], "bucket-x", kind="transit_gateway", interval=600))
    assert wire.requests == []


@pytest.mark.slow
def test_more_than_300_resources_split_into_calls_of_300(aws_env: Any, aws_client: Any, wire: Any) -> None:
    # CreateFlowLogs takes at most 300 ResourceIds for VPCs, subnets and ENIs (botocore's EC2 model).
    vpcs = aws_env.seed_vpcs(REGION, 1001)
    bucket = aws_env.create_bucket("many")
    created = aws_client.create(s3_spec(vpcs, bucket))
    calls = wire.calls("CreateFlowLogs")
    assert [len([k for k in c if k.startswith("ResourceId.")]) for c in calls] == [300, 300, 300, 101]
    assert len(created) == 1001
    # DescribeFlowLogs pages at 1000: reading them all back takes two pages.
    before = len(wire.calls("DescribeFlowLogs"))
    assert len(aws_client.describe()) == 1001
    pages = wire.calls("DescribeFlowLogs")[before:]
    assert len(pages) == 2 and "NextToken" in pages[1]


def flow_log_ids_per_call(wire: Any, action: str) -> list[int]:
    """How many ``FlowLogId.N`` each recorded ``action`` request carried."""
    return [len([k for k in params if k.startswith("FlowLogId.")]) for params in wire.calls(action)]


def test_the_sandbox_refuses_more_than_1000_flow_log_ids_a_call_as_aws_does(aws_env: Any) -> None:
    ec2 = aws_env.client("ec2", REGION)
    ids = [f"fl-{n:017x}" for n in range(1001)]
    assert ec2.describe_flow_logs(FlowLogIds=ids[:1000])["FlowLogs"] == []
    for call in (ec2.describe_flow_logs, ec2.delete_flow_logs):
        with pytest.raises(ec2.exceptions.ClientError) as caught:
            call(FlowLogIds=ids)
        assert caught.value.response["Error"]["Code"] == "InvalidParameterValue"
        assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_describe_and_delete_by_id_send_at_most_1000_flow_log_ids_a_call(
    aws_env: Any, aws_client: Any, wire: Any
) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 1001)
    bucket = aws_env.create_bucket("many")
    ids = [f.id for f in aws_client.create(s3_spec(vpcs, bucket))]
    assert len(ids) == 1001
    assert {f.id for f in aws_client.describe(ids=ids)} == set(ids)
    assert sorted(aws_client.delete(ids)) == sorted(ids)
    assert aws_client.describe() == []
    described, deleted = flow_log_ids_per_call(wire, "DescribeFlowLogs"), flow_log_ids_per_call(wire, "DeleteFlowLogs")
    assert max(described) <= 1000 and max(deleted) <= 1000
    assert sum(deleted) == 1001


def test_specs_with_identical_settings_share_one_call(aws_env: Any, aws_client: Any, wire: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 4)
    bucket = aws_env.create_bucket("shared")
    other = aws_env.create_bucket("shared-other")
    specs = [
        s3_spec(vpcs[:2], bucket, interval=60),
        s3_spec(vpcs[2:], bucket, interval=60),
        s3_spec(vpcs[:1], other, interval=600, tags={"other": "x"}),
    ]
    created = aws_client.create(specs)
    assert len(wire.calls("CreateFlowLogs")) == 2
    assert len(created) == 5


def test_tag_field_specifications_and_cross_account_role(aws_env: Any, aws_client: Any, wire: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    stream = "arn:aws:firehose:us-east-1:123456789012:deliverystream/x"
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": [vpc]},
        destination={"kind": "firehose", "stream_arn": stream},
        aws={"cross_account_role": ROLE, "tag_fields": [{"resource_type": "instance", "keys": ["env", "app"]}]},
    )
    [created] = aws_client.create(spec)
    call = wire.calls("CreateFlowLogs")[0]
    assert call["DeliverCrossAccountRole"] == [ROLE]
    assert call["TagFieldSpecification.1.ResourceType"] == ["instance"]
    assert call["TagFieldSpecification.1.TagKey.2"] == ["app"]
    assert created.raw["TagFieldSpecifications"] == [{"ResourceType": "instance", "TagKeys": ["env", "app"]}]
    assert created.raw["DeliverCrossAccountRole"] == ROLE


def test_describe_filters_by_tag_and_id(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 3)
    bucket = aws_env.create_bucket("tags")
    aws_client.create(s3_spec(vpcs[:2], bucket, tags={"env": "prod"}))
    [other] = aws_client.create(s3_spec(vpcs[2:], bucket, tags={"env": "dev"}))
    assert {f.resource.id for f in aws_client.describe(tags={"env": "prod"})} == set(vpcs[:2])
    assert len(aws_client.describe(tags={"env": None})) == 3
    assert [f.id for f in aws_client.describe(ids=[other.id])] == [other.id]
    assert aws_client.get(other.id).tags == {"env": "dev"}
    with pytest.raises(NotFound):
        aws_client.get("fl-0000000000000000")


def test_dry_run_changes_nothing(aws_env: Any, aws_client: Any, wire: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    bucket = aws_env.create_bucket("dry")
    with pytest.raises(DryRunSucceeded) as caught:
        aws_client.create(s3_spec([vpc], bucket), dry_run=True)
    assert caught.value.code == "DryRunOperation"
    assert wire.calls("CreateFlowLogs")[0]["DryRun"] == ["true"]
    assert aws_client.describe() == []


# -- failures, per resource and whole-call -----------------------------------------------------------------


def test_missing_bucket_is_a_partial_failure_that_keeps_what_succeeded(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 3)
    bucket = aws_env.create_bucket("exists")
    with pytest.raises(PartialFailure) as caught:
        aws_client.create([s3_spec(vpcs[:1], bucket), s3_spec(vpcs[1:], "arn:aws:s3:::does-not-exist")])
    failure = caught.value
    assert [f.resource.id for f in failure.succeeded] == vpcs[:1]
    assert sorted(f.resource_id for f in failure.failed) == sorted(vpcs[1:])
    error = failure.failed[0].error
    assert isinstance(error, InvalidRequest)
    assert error.code == "400" and "does-not-exist" in error.message
    assert error.request_id
    assert "1 succeeded, 2 failed" in str(failure)


def test_one_failure_alone_is_raised_as_itself(aws_env: Any, aws_client: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    with pytest.raises(InvalidRequest) as caught:
        aws_client.create(s3_spec([vpc], "arn:aws:s3:::missing"))
    assert caught.value.resource_id == vpc


def test_unknown_vpc_is_not_found(aws_env: Any, aws_client: Any) -> None:
    aws_env.create_bucket("bucket-two")
    with pytest.raises(NotFound) as caught:
        aws_client.create(s3_spec(["vpc-0123456789abcdef0"], "arn:aws:s3:::bucket-two"))
    assert caught.value.code == "InvalidVpcID.NotFound"
    assert caught.value.operation == "CreateFlowLogs"
    assert caught.value.request_id


def test_duplicate_is_already_exists_and_the_rest_are_still_created(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 3)
    bucket = aws_env.create_bucket("dupes")
    [first] = aws_client.create(s3_spec(vpcs[:1], bucket))
    with pytest.raises(PartialFailure) as caught:
        # Other tags: another request (another ClientToken), same destination: AWS refuses the duplicate.
        aws_client.create(s3_spec(vpcs, bucket, tags={"again": "yes"}))
    [failed] = caught.value.failed
    assert failed.resource_id == vpcs[0]
    assert isinstance(failed.error, AlreadyExists) and failed.error.code == "FlowLogAlreadyExists"
    assert sorted(f.resource.id for f in caught.value.succeeded) == sorted(vpcs[1:])
    assert len(aws_client.describe(resource_ids=[vpcs[0]])) == 1
    assert aws_client.describe(resource_ids=[vpcs[0]])[0].id == first.id


def test_rerunning_the_same_create_makes_no_duplicate(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("idem")
    first = aws_client.create(s3_spec(vpcs, bucket))
    again = aws_client.create(s3_spec(vpcs, bucket))
    assert sorted(f.id for f in again) == sorted(f.id for f in first)
    assert len(aws_client.describe()) == 2


def test_create_after_delete_is_not_answered_with_the_deleted_flow_logs(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("recreate")
    first = aws_client.create(s3_spec(vpcs, bucket))
    aws_client.delete([f.id for f in first])
    second = aws_client.create(s3_spec(vpcs, bucket))
    assert len(second) == 2
    assert not {f.id for f in second} & {f.id for f in first}
    assert len(aws_client.describe()) == 2


def test_bad_interval_is_refused_before_any_call_unless_finer_is_allowed(
    aws_env: Any, aws_client: Any, wire: Any
) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    bucket = aws_env.create_bucket("interval")
    with pytest.raises(SpecError) as caught:
        aws_client.create(s3_spec([vpc], bucket, interval=300))
    assert str(caught.value).startswith("aws: interval=300 is not allowed")
    assert "allowed: 60, 600" in str(caught.value)
    assert wire.requests == []
    [created] = aws_client.create(s3_spec([vpc], bucket, interval=300, interval_policy="finer"))
    assert created.interval == 60


def test_sls_destination_is_unsupported_on_aws(aws_client: Any, wire: Any) -> None:
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": ["vpc-1"]}, destination={"kind": "sls", "project": "p", "logstore": "l"}
    )
    with pytest.raises(UnsupportedFeature) as caught:
        aws_client.create(spec)
    assert str(caught.value) == (
        "aws does not support destination.kind='sls'; it offers: 'cloudwatch_logs', 's3', 'firehose'"
    )
    assert wire.requests == []


def test_unknown_field_names_the_field_and_the_allowed_names(aws_client: Any) -> None:
    with pytest.raises(SpecError) as caught:
        aws_client.create(s3_spec(["vpc-1"], "bucket-x", fields=["src_addr", "source_address"]))
    assert caught.value.field == "fields[1]"
    assert caught.value.value == "source_address"
    assert "'src_addr'" in str(caught.value) and "'reject_reason'" in str(caught.value)


# -- delete --------------------------------------------------------------------------------------------------


def test_delete_reports_unknown_ids_and_deletes_the_rest(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("del")
    created = aws_client.create(s3_spec(vpcs, bucket))
    ids = [f.id for f in created]
    with pytest.raises(PartialFailure) as caught:
        aws_client.delete([*ids, "fl-00000000000000000"])
    assert sorted(caught.value.succeeded) == sorted(ids)
    [missing] = caught.value.failed
    assert missing.resource_id == "fl-00000000000000000"
    assert isinstance(missing.error, NotFound) and missing.error.code == "InvalidFlowLogId.NotFound"
    assert "was not sent" in missing.error.message and missing.error.request_id is None  # said, not made up
    assert aws_client.describe() == []


def test_aws_offers_no_start_stop_or_modify(aws_client: Any) -> None:
    with pytest.raises(UnsupportedFeature, match="aws does not support stop"):
        aws_client.stop(["fl-1"])
    with pytest.raises(UnsupportedFeature, match="aws does not support interval"):
        aws_client.modify("fl-1", interval=60)


# -- retries -------------------------------------------------------------------------------------------------


class FailFirst:
    """A botocore before-send hook that answers the first ``times`` calls with an EC2 error document."""

    def __init__(self, code: str, message: str, times: int, status: int = 400) -> None:
        self.code, self.message, self.left, self.status = code, message, times, status
        self.answered = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        if self.left <= 0:
            return None
        self.left -= 1
        self.answered += 1
        return ec2_error(request, self.status, self.code, self.message, f"req-{self.answered}")


def test_iam_role_propagation_is_retried_until_it_passes(aws_env: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    group = aws_env.create_log_group("g")
    slept: list[float] = []
    client = multiflow.connect("aws", region=REGION, sleep=slept.append, **aws_env.connect_options())
    hook = FailFirst("InvalidParameter", "Unable to assume given IAM role", times=3)
    client.session.ec2.meta.events.register("before-send.ec2.CreateFlowLogs", hook)
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": [vpc]},
        destination={"kind": "cloudwatch_logs", "log_group": group, "role_arn": ROLE},
    )
    [created] = client.create(spec)
    assert created.resource.id == vpc
    assert hook.answered == 3
    assert len(slept) == 3 and slept[1] > slept[0] and all(0 < s <= 10 for s in slept)


def test_iam_role_propagation_gives_up_at_its_deadline(aws_env: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    client = multiflow.connect("aws", region=REGION, iam_propagation_timeout=0.3, **aws_env.connect_options())
    client.session.ec2.meta.events.register(
        "before-send.ec2.CreateFlowLogs", FailFirst("InvalidParameter", "Unable to assume given IAM role", 100)
    )
    spec = FlowLogSpec(
        resources={"kind": "vpc", "ids": [vpc]},
        destination={"kind": "cloudwatch_logs", "log_group": "g", "role_arn": ROLE},
    )
    with pytest.raises(InvalidRequest, match="Unable to assume given IAM role"):
        client.create(spec)


def test_throttling_is_retried_by_botocore_then_surfaces_as_throttled(aws_env: Any) -> None:
    aws_env.create_bucket("throttle")
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    patient = multiflow.connect("aws", region=REGION, **aws_env.connect_options())
    hook = FailFirst("RequestLimitExceeded", "Request limit exceeded.", times=2, status=503)
    patient.session.ec2.meta.events.register("before-send.ec2.CreateFlowLogs", hook)
    assert len(patient.create(s3_spec([vpc], "throttle"))) == 1
    assert hook.answered == 2

    impatient = multiflow.connect("aws", region=REGION, max_attempts=1, **aws_env.connect_options())
    impatient.session.ec2.meta.events.register(
        "before-send.ec2.DescribeFlowLogs", FailFirst("RequestLimitExceeded", "Request limit exceeded.", 1, 503)
    )
    with pytest.raises(Throttled) as caught:
        impatient.describe()
    assert caught.value.retryable and caught.value.request_id == "req-1"


def test_auth_failure_is_an_auth_error(aws_env: Any) -> None:
    client = multiflow.connect("aws", region=REGION, **aws_env.connect_options())
    client.session.ec2.meta.events.register(
        "before-send.ec2.DescribeFlowLogs", FailFirst("AuthFailure", "AWS was not able to validate", 5, 401)
    )
    with pytest.raises(AuthError) as caught:
        client.describe()
    assert caught.value.code == "AuthFailure" and not caught.value.retryable


def test_unreachable_endpoint_is_a_service_error(unused_port: int) -> None:
    client = multiflow.connect(
        "aws",
        region=REGION,
        endpoint_url=f"http://127.0.0.1:{unused_port}",
        max_attempts=1,
        connect_timeout=1,
        aws_access_key_id="x",
        aws_secret_access_key="y",
    )
    with pytest.raises(multiflow.errors.ServiceError) as caught:
        client.describe()
    assert caught.value.code == "ConnectionError"


# -- secrets ---------------------------------------------------------------------------------------------------

SENTINEL = "SENTINEL-SECRET-5f1e0c"


def test_secret_key_never_appears_in_reprs_errors_or_debug_logs(aws_env: Any, caplog: pytest.LogCaptureFixture) -> None:
    options = {**aws_env.connect_options(), "aws_secret_access_key": SENTINEL}
    with caplog.at_level(logging.DEBUG):
        client = multiflow.connect("aws", region=REGION, **options)
        seen = [repr(client), str(client), repr(client.session)]
        try:
            client.create(s3_spec(["vpc-0000000000000000a"], "arn:aws:s3:::nothing"))
        except multiflow.errors.MultiflowError as exc:
            seen += [str(exc), repr(exc)]
        client.describe()
    seen += [record.getMessage() for record in caplog.records]
    assert len(seen) > 10
    assert not [text for text in seen if SENTINEL in text]
