"""The sandbox reads a resource's tags from its own entry (moto scans every tag of the region): the same tags,
through boto3, as EC2's DescribeTags gives, and tag filters still select by them."""

from __future__ import annotations

from typing import Any

REGION = "us-east-1"


def test_described_flow_logs_carry_exactly_their_own_tags(aws_env: Any) -> None:
    ec2 = aws_env.client("ec2", REGION)
    bucket = aws_env.create_bucket("tags-flowlogs")  # its ARN
    vpcs = aws_env.seed_vpcs(REGION, 3, tags={"team": "net"})
    made = []
    for n, vpc in enumerate(vpcs):
        tags = [{"Key": "multiflow:entry", "Value": f"e{n}"}, {"Key": "shared", "Value": "yes"}]
        answer = ec2.create_flow_logs(
            ResourceType="VPC",
            ResourceIds=[vpc],
            TrafficType="ALL",
            LogDestinationType="s3",
            LogDestination=bucket,
            TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": tags}],
        )
        made += answer["FlowLogIds"]
    described = {f["FlowLogId"]: f.get("Tags", []) for f in ec2.describe_flow_logs(FlowLogIds=made)["FlowLogs"]}
    for n, flow_log_id in enumerate(made):
        expected = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [flow_log_id]}])["Tags"]
        assert sorted((t["Key"], t["Value"]) for t in described[flow_log_id]) == sorted(
            (t["Key"], t["Value"]) for t in expected
        )
        assert {(t["Key"], t["Value"]) for t in described[flow_log_id]} == {
            ("multiflow:entry", f"e{n}"),
            ("shared", "yes"),
        }
    picked = ec2.describe_flow_logs(Filters=[{"Name": "tag:multiflow:entry", "Values": ["e1"]}])["FlowLogs"]
    assert [f["FlowLogId"] for f in picked] == [made[1]]
    vpc_tags = ec2.describe_vpcs(VpcIds=vpcs[:1])["Vpcs"][0]["Tags"]
    assert vpc_tags == [{"Key": "team", "Value": "net"}]
