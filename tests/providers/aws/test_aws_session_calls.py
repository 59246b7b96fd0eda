"""What the AWS session sends and how it reports whole calls: dry runs, whole-call refusals, retry settings,
and a concurrent run's flow logs (through boto3 against the moto sandbox; EC2 error answers from a before-send
hook where moto cannot produce them)."""

from __future__ import annotations

from typing import Any

import pytest
from ec2_answers import ec2_error

import multiflow
from multiflow.errors import AlreadyExists, AuthError, DryRunSucceeded, PartialFailure, Throttled
from multiflow.spec import FlowLogSpec

REGION = "us-east-1"


def s3_spec(ids: list[str], bucket: str, **extra: Any) -> FlowLogSpec:
    return FlowLogSpec(resources={"kind": "vpc", "ids": ids}, destination={"kind": "s3", "bucket": bucket}, **extra)


class Answer:
    """A botocore before-send hook that answers the calls numbered in ``which`` (1-based) with an EC2 error."""

    def __init__(self, code: str, which: set[int], status: int = 400) -> None:
        self.code, self.which, self.status = code, which, status
        self.seen = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        self.seen += 1
        if self.seen not in self.which:
            return None
        return ec2_error(request, self.status, self.code, "refused", f"req-{self.seen}")


def test_a_dry_run_tries_every_call_of_the_create(aws_env: Any, aws_client: Any, wire: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("dry")
    specs = [s3_spec(vpcs[:1], bucket, interval=60), s3_spec(vpcs[1:], bucket, interval=600)]
    with pytest.raises(DryRunSucceeded):
        aws_client.create(specs, dry_run=True)
    assert [c["DryRun"] for c in wire.calls("CreateFlowLogs")] == [["true"], ["true"]]
    assert aws_client.describe() == []


def test_a_dry_run_reports_a_refusal_of_a_later_call(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("dry")
    aws_client.session.ec2.meta.events.register(
        "before-send.ec2.CreateFlowLogs", Answer("UnauthorizedOperation", {2}, 403)
    )
    specs = [s3_spec(vpcs[:1], bucket, interval=60), s3_spec(vpcs[1:], bucket, interval=600)]
    with pytest.raises(AuthError) as caught:
        aws_client.create(specs, dry_run=True)
    assert caught.value.code == "UnauthorizedOperation"


def test_a_whole_call_refusal_with_nothing_done_is_the_calls_own_error(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 3)
    bucket = aws_env.create_bucket("refused")
    aws_client.session.ec2.meta.events.register(
        "before-send.ec2.CreateFlowLogs", Answer("UnauthorizedOperation", {1}, 403)
    )
    with pytest.raises(AuthError) as caught:
        aws_client.create(s3_spec(vpcs, bucket))
    assert not isinstance(caught.value, PartialFailure)
    assert caught.value.code == "UnauthorizedOperation" and caught.value.request_id == "req-1"


def test_retry_settings_of_the_environment_are_not_overridden(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    monkeypatch.setenv("AWS_RETRY_MODE", "standard")
    client = multiflow.connect("aws", region=REGION, **aws_env.connect_options())
    hook = Answer("RequestLimitExceeded", {1}, 503)
    client.session.ec2.meta.events.register("before-send.ec2.DescribeFlowLogs", hook)
    with pytest.raises(Throttled):
        client.describe()  # one attempt, as AWS_MAX_ATTEMPTS says: no retry
    assert hook.seen == 1
    client.close()

    patient = multiflow.connect("aws", region=REGION, max_attempts=3, **aws_env.connect_options())
    hook = Answer("RequestLimitExceeded", {1}, 503)
    patient.session.ec2.meta.events.register("before-send.ec2.DescribeFlowLogs", hook)
    assert patient.describe() == []  # the caller's own setting wins over the environment's
    assert hook.seen == 2
    patient.close()


def test_a_concurrent_runs_flow_log_with_the_same_tags_is_adopted_not_failed(aws_env: Any, aws_client: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("race")
    ours = {"multiflow:managed": "netops", "multiflow:spec": "vpcs@abc"}
    spec = s3_spec(vpcs, bucket, name="prod", tags={"team": "netops"})
    sent = {**ours, "team": "netops", "Name": "prod"}
    # The other run's flow log on the first VPC: same destination, every tag this run sends.
    winner = aws_client.session.ec2.create_flow_logs(
        ResourceIds=vpcs[:1],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=bucket,
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": [{"Key": k, "Value": v} for k, v in sent.items()]}],
    )["FlowLogIds"][0]
    created = aws_client.create(spec, extra_tags=ours)
    assert sorted(f.resource.id for f in created) == sorted(vpcs)
    assert winner in {f.id for f in created}
    assert len(aws_client.describe()) == 2

    # Another fleet's (or a hand-made) flow log is still a duplicate, never adopted.
    theirs = {"multiflow:managed": "other", "multiflow:spec": "vpcs@abc"}
    with pytest.raises(AlreadyExists):
        aws_client.create(s3_spec(vpcs[:1], bucket, name="prod", tags={"team": "netops"}), extra_tags=theirs)


def test_extra_parameters_are_checked_against_botocores_model_and_sent(
    aws_env: Any, aws_client: Any, wire: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from multiflow.errors import SpecError
    from multiflow_aws import passthrough

    [vpc] = aws_env.seed_vpcs(REGION, 1)
    bucket = aws_env.create_bucket("extra")
    with pytest.raises(SpecError) as caught:
        aws_client.create(s3_spec([vpc], bucket, aws={"extra": {"NoSuchParameter": 1}}))
    assert caught.value.field == "options.aws.extra.NoSuchParameter"
    with pytest.raises(SpecError) as caught:
        aws_client.create(s3_spec([vpc], bucket, aws={"extra": {"TrafficType": "ALL"}}))
    assert caught.value.field == "options.aws.extra.TrafficType" and "sets it from the spec" in str(caught.value)
    assert wire.calls("CreateFlowLogs") == []

    # A parameter multiflow does not model (here made so by hand: today it models every one botocore has).
    monkeypatch.setattr(passthrough, "MODELLED", passthrough.MODELLED - {"DeliverCrossAccountRole"})
    role = "arn:aws:iam::123456789012:role/cross"
    with pytest.raises(SpecError) as caught:
        aws_client.create(s3_spec([vpc], bucket, aws={"extra": {"DeliverCrossAccountRole": 5}}))
    assert caught.value.field == "options.aws.extra" and "DeliverCrossAccountRole" in str(caught.value)
    aws_client.create(s3_spec([vpc], bucket, aws={"extra": {"DeliverCrossAccountRole": role}}))
    assert wire.calls("CreateFlowLogs")[0]["DeliverCrossAccountRole"] == [role]


def test_aws_only_criteria_are_describe_flow_logs_filters_answered_by_ec2(
    aws_env: Any, aws_client: Any, wire: Any
) -> None:
    from multiflow.errors import SpecError
    from multiflow.provider import DescribeQuery

    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("filters")
    aws_client.create([s3_spec(vpcs[:1], bucket, traffic="reject"), s3_spec(vpcs[1:], bucket, traffic="accept")])
    session = aws_client.session
    [rejecting] = session.describe(DescribeQuery(), traffic="reject", destination_kind="s3", delivery_status="ok")
    assert rejecting.resource.id == vpcs[0]
    [call] = [c for c in wire.calls("DescribeFlowLogs") if "Filter.1.Name" in c][-1:]
    names = {call[f"Filter.{n}.Name"][0]: call[f"Filter.{n}.Value.1"][0] for n in (1, 2, 3)}
    assert names == {"log-destination-type": "s3", "traffic-type": "REJECT", "deliver-log-status": "SUCCESS"}
    assert session.describe(DescribeQuery(), log_group="arn:aws:logs:us-east-1:123456789012:log-group:g:*") == []
    assert wire.calls("DescribeFlowLogs")[-1]["Filter.1.Value.1"] == ["g"]
    with pytest.raises(SpecError) as caught:
        session.describe(DescribeQuery(), destination_kind="sls")
    assert caught.value.field == "destination_kind"


def tgw_ids(count: int) -> list[str]:
    """Well-formed transit gateway ids (moto takes one that names nothing, as it does for transit gateways)."""
    return [f"tgw-{n:017x}" for n in range(1, count + 1)]


def test_a_create_reads_back_what_all_its_calls_made_in_one_describe(aws_env: Any, aws_client: Any, wire: Any) -> None:
    # 60 transit gateways: three CreateFlowLogs of at most 25, then one DescribeFlowLogs of the 60 new flow logs
    # (EC2's answers name the flow logs, not their resources), not one per call.
    ids = tgw_ids(60)
    bucket = aws_env.create_bucket("readback")
    spec = FlowLogSpec(resources={"kind": "transit_gateway", "ids": ids}, destination={"kind": "s3", "bucket": bucket})
    created = aws_client.create(spec)
    sent = [len([k for k in c if k.startswith("ResourceId.")]) for c in wire.calls("CreateFlowLogs")]
    assert sent == [25, 25, 10]
    described = wire.calls("DescribeFlowLogs")
    assert len(described) == 1 and len([k for k in described[0] if k.startswith("FlowLogId.")]) == 60
    assert sorted(f.resource.id for f in created) == ids
    truth = {f.id: f.resource.id for f in aws_client.describe()}
    assert {f.id: f.resource.id for f in created} == truth


def test_a_refusal_after_calls_that_made_flow_logs_is_a_partial_failure_with_them(
    aws_env: Any, aws_client: Any
) -> None:
    # The second of three calls is refused (403): the flow logs of the first and third are read back and reported
    # as made, beside the 25 resources of the refused call; not the refusal alone, as if nothing were done.
    ids = tgw_ids(60)
    bucket = aws_env.create_bucket("partial")
    aws_client.session.ec2.meta.events.register(
        "before-send.ec2.CreateFlowLogs", Answer("UnauthorizedOperation", {2}, 403)
    )
    spec = FlowLogSpec(resources={"kind": "transit_gateway", "ids": ids}, destination={"kind": "s3", "bucket": bucket})
    with pytest.raises(PartialFailure) as caught:
        aws_client.create(spec)
    made = sorted(f.resource.id for f in caught.value.succeeded)
    assert made == ids[:25] + ids[50:]
    assert sorted(f.resource_id for f in caught.value.failed) == ids[25:50]
