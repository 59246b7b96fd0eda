"""The AWS sandbox is as strict as AWS, and no stricter, where it matters to users (boto3 against moto)."""

from __future__ import annotations

from typing import Any

import pytest

REGION = "us-east-1"


@pytest.mark.parametrize("order", [("", "prod/"), ("prod/", "")], ids=["bucket-first", "subfolder-first"])
def test_a_bucket_and_its_subfolder_are_two_destinations_in_either_order(order: tuple[str, str], aws_env: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    bucket = aws_env.create_bucket("order")
    ec2 = aws_env.client("ec2", REGION)
    for prefix in order:
        destination = f"{bucket}/{prefix}" if prefix else bucket
        ec2.create_flow_logs(
            ResourceIds=[vpc],
            ResourceType="VPC",
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination=destination,
        )
    records = ec2.describe_flow_logs()["FlowLogs"]
    assert sorted(r["LogDestination"] for r in records) == sorted([bucket, f"{bucket}/prod/"])
    with pytest.raises(ec2.exceptions.ClientError, match="FlowLogAlreadyExists"):  # a true duplicate still is one
        ec2.create_flow_logs(
            ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3", LogDestination=bucket
        )
