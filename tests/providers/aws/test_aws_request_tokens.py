"""EC2's request token buckets in the AWS fault proxy, felt through boto3 as EC2 throttles: a burst of mutating
calls past the bucket's 50 tokens is refused with EC2's ``RequestLimitExceeded``, and botocore's retry modes
recover from it."""

from __future__ import annotations

from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from multiflow_aws.request_tokens import RequestTokens

REGION = "us-east-1"
BUCKET = "request-tokens-flowlogs"

pytestmark = pytest.mark.timeout(120)


class FrozenClock:
    """Time that stands still: no token comes back during the burst."""

    def __call__(self) -> float:
        return 0.0


def ec2(aws_env: Any, proxy: Any, retries: dict[str, Any]) -> Any:
    options = aws_env.connect_options(proxy=proxy)
    return boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=options["endpoint_url"],
        aws_access_key_id=options["aws_access_key_id"],
        aws_secret_access_key=options["aws_secret_access_key"],
        config=Config(retries=retries),
    )


def create(client: Any, vpc: str) -> None:
    client.create_flow_logs(
        ResourceType="VPC",
        ResourceIds=[vpc],
        TrafficType="ALL",
        LogDestinationType="s3",
        LogDestination=f"arn:aws:s3:::{BUCKET}",
    )


@pytest.fixture
def vpcs(aws_env: Any) -> list[str]:
    aws_env.create_bucket(BUCKET)
    return list(aws_env.seed_vpcs(REGION, 60))


def test_a_burst_of_60_creates_is_refused_after_the_50th_as_ec2_refuses_it(aws_env: Any, vpcs: list[str]) -> None:
    proxy = aws_env.fault_proxy(rate_limits=RequestTokens(clock=FrozenClock()))
    client = ec2(aws_env, proxy, {"mode": "standard", "total_max_attempts": 1})
    outcomes: list[str] = []
    for vpc in vpcs:
        try:
            create(client, vpc)
            outcomes.append("ok")
        except botocore.exceptions.ClientError as exc:
            answer = exc.response
            assert answer["Error"]["Code"] == "RequestLimitExceeded"
            assert answer["Error"]["Message"] == "Request limit exceeded."
            assert answer["ResponseMetadata"]["HTTPStatusCode"] == 503
            assert answer["ResponseMetadata"]["RequestId"]  # EC2's <RequestID>, parsed by botocore
            outcomes.append("throttled")
    assert outcomes == ["ok"] * 50 + ["throttled"] * 10
    assert proxy.injected == {"rate_limit": 10}
    # Describe calls have a bucket of their own (100 tokens): still served.
    assert len(client.describe_flow_logs()["FlowLogs"]) == 50


@pytest.mark.parametrize("mode", ["standard", "adaptive"])
def test_botocores_retry_modes_recover_from_the_empty_bucket(aws_env: Any, vpcs: list[str], mode: str) -> None:
    # Real time: the mutating bucket refills 5 tokens a second, so the 10 creates past the 50th need about 2 s.
    proxy = aws_env.fault_proxy(rate_limits=RequestTokens())
    client = ec2(aws_env, proxy, {"mode": mode, "total_max_attempts": 20})
    for vpc in vpcs:
        create(client, vpc)
    assert proxy.injected["rate_limit"] >= 1
    assert len(client.describe_flow_logs()["FlowLogs"]) == 60
