"""Garbage from AWS (answers that are not EC2's XML, records without their fields) comes out of multiflow as a
ProviderError (ServiceError ``UnexpectedResponse``), never as a KeyError, ValueError or botocore's own
ResponseParserError; and a create whose answer was garbage does not leave a duplicate behind."""

from __future__ import annotations

from typing import Any

import pytest

import multiflow
from multiflow.errors import ServiceError, WaitTimeout

from .stub_server import stub_server

pytestmark = pytest.mark.timeout(120)

REGION = "us-east-1"
ALI_REGION = "cn-hangzhou"


def aws_spec(vpcs: list[str], bucket: str) -> multiflow.FlowLogSpec:
    return multiflow.FlowLogSpec(resources={"kind": "vpc", "ids": vpcs}, destination={"kind": "s3", "bucket": bucket})


def unexpected(exc: BaseException) -> bool:
    return isinstance(exc, ServiceError) and exc.code == "UnexpectedResponse" and exc.retryable


# -- AWS --------------------------------------------------------------------------------------------------------


def test_aws_unparsable_answers_are_service_errors(aws_env: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    bucket = aws_env.create_bucket("garbage")
    proxy = aws_env.fault_proxy(seed=1, garbage_rate=1.0)
    client = multiflow.connect("aws", region=REGION, **aws_env.connect_options(proxy=proxy))
    with pytest.raises(ServiceError) as caught:
        client.describe()
    assert unexpected(caught.value) and caught.value.operation == "DescribeFlowLogs"
    with pytest.raises(ServiceError) as caught:
        client.session.list_resources(multiflow.ResourceKind.VPC, {})
    assert unexpected(caught.value)
    # The create reached moto (garbage replaces the answer after the call): the error says so, and a rerun with
    # the same ClientToken gets moto's first answer instead of a second flow log.
    with pytest.raises(ServiceError) as caught:
        client.create(aws_spec([vpc], bucket))
    assert unexpected(caught.value) and caught.value.resource_id == vpc
    proxy.reset()
    [again] = client.create(aws_spec([vpc], bucket))
    assert [f["FlowLogId"] for f in aws_env.client("ec2").describe_flow_logs()["FlowLogs"]] == [again.id]


EC2_FLOW_LOGS = """<?xml version="1.0" encoding="UTF-8"?>
<DescribeFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
<requestId>r-1</requestId><flowLogSet><item>{item}</item></flowLogSet></DescribeFlowLogsResponse>"""


@pytest.mark.parametrize(
    "item",
    [
        "<resourceId>vpc-1</resourceId><flowLogStatus>ACTIVE</flowLogStatus>",  # no flowLogId
        "<flowLogId>fl-1</flowLogId><resourceId>vpc-1</resourceId><trafficType>SOMETIMES</trafficType>",
        "<flowLogId>fl-1</flowLogId><logDestinationType>s3</logDestinationType><logDestination>x</logDestination>",
    ],
    ids=["no-id", "unknown-traffic", "bad-destination"],
)
def test_aws_records_without_their_fields_are_service_errors(item: str) -> None:
    with stub_server() as stub:
        stub.answer = (200, "text/xml", EC2_FLOW_LOGS.format(item=item).encode())
        client = multiflow.connect(
            "aws",
            region=REGION,
            endpoint_url=f"http://127.0.0.1:{stub.port}",
            aws_access_key_id="AKIAEXAMPLE",
            aws_secret_access_key="not-a-secret",
            max_attempts=1,
        )
        for call in (client.describe, lambda: client.get("fl-1")):
            with pytest.raises(ServiceError) as caught:
                call()
            assert unexpected(caught.value)
        # A wait sees the same garbage on every poll: it ends at its deadline, naming the id, the error as cause.
        with pytest.raises(WaitTimeout) as waited:
            client.wait(["fl-1"], timeout=1)
        assert waited.value.ids == ["fl-1"] and unexpected(waited.value.__cause__)  # type: ignore[arg-type]


def test_aws_listing_items_without_ids_are_service_errors() -> None:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        "<requestId>r</requestId><vpcSet><item><cidrBlock>10.0.0.0/16</cidrBlock></item></vpcSet></DescribeVpcsResponse>"
    )
    with stub_server() as stub:
        stub.answer = (200, "text/xml", body.encode())
        client = multiflow.connect(
            "aws",
            region=REGION,
            endpoint_url=f"http://127.0.0.1:{stub.port}",
            aws_access_key_id="AKIAEXAMPLE",
            aws_secret_access_key="not-a-secret",
            max_attempts=1,
        )
        with pytest.raises(ServiceError) as caught:
            client.session.list_resources(multiflow.ResourceKind.VPC, {"env": "prod"})
        assert unexpected(caught.value)
