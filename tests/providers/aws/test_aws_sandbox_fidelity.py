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


def test_a_resource_named_twice_in_one_call_is_refused_and_nothing_is_made(aws_env: Any) -> None:
    # moto's own per-resource duplicate scan is skipped (moto_fidelity checks the call once, against a set): the
    # check must still see a resource given twice, and a duplicate of an existing flow log, before creating any.
    vpcs = aws_env.seed_vpcs(REGION, 2)
    bucket = aws_env.create_bucket("twice")
    ec2 = aws_env.client("ec2", REGION)
    common = {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "s3", "LogDestination": bucket}
    with pytest.raises(ec2.exceptions.ClientError, match="FlowLogAlreadyExists"):
        ec2.create_flow_logs(ResourceIds=[vpcs[0], vpcs[1], vpcs[0]], **common)
    assert ec2.describe_flow_logs()["FlowLogs"] == []
    ec2.create_flow_logs(ResourceIds=[vpcs[0]], **common)
    with pytest.raises(ec2.exceptions.ClientError, match="FlowLogAlreadyExists"):
        ec2.create_flow_logs(ResourceIds=[vpcs[1], vpcs[0]], **common)
    assert [r["ResourceId"] for r in ec2.describe_flow_logs()["FlowLogs"]] == [vpcs[0]]


def test_describe_by_flow_log_ids_answers_exactly_those_in_creation_order(aws_env: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 5)
    bucket = aws_env.create_bucket("byid")
    ec2 = aws_env.client("ec2", REGION)
    made = ec2.create_flow_logs(
        ResourceIds=vpcs, ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3", LogDestination=bucket
    )["FlowLogIds"]
    wanted = [made[3], made[0], made[4]]
    records = ec2.describe_flow_logs(FlowLogIds=wanted)["FlowLogs"]
    assert [r["FlowLogId"] for r in records] == [i for i in made if i in wanted]


def test_a_new_vpc_has_its_own_default_security_group_found_by_id_and_name(aws_env: Any) -> None:
    # CreateVpc's lookup of "default" no longer scans every group as an id (moto_fidelity): each VPC still gets
    # one default group, and groups are still found by id.
    ec2 = aws_env.client("ec2", REGION)
    vpcs = [ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"] for _ in range(2)]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": vpcs}])["SecurityGroups"]
    assert sorted((g["VpcId"], g["GroupName"]) for g in groups) == sorted((v, "default") for v in vpcs)
    group_id = groups[1]["GroupId"]  # moto finds the group by id to change it
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
    [changed] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    assert [(p["FromPort"], p["IpRanges"][0]["CidrIp"]) for p in changed["IpPermissions"]] == [(443, "10.9.0.0/16")]


def test_id_filters_answer_the_same_by_set_and_by_pattern(aws_env: Any) -> None:
    # moto_fidelity matches a filter of literal values by set membership (moto tries fnmatch per value): the
    # answer must be the same, unknown ids left out, and a wildcard value still a pattern.
    vpcs = aws_env.seed_vpcs(REGION, 4)
    ec2 = aws_env.client("ec2", REGION)

    def described(values: list[str]) -> list[str]:
        return sorted(v["VpcId"] for v in ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": values}])["Vpcs"])

    assert described([vpcs[0], vpcs[2], "vpc-0000000000000dead"]) == sorted([vpcs[0], vpcs[2]])
    assert set(vpcs) <= set(described(["vpc-*", "vpc-0000000000000dead"]))
    assert vpcs[1] in described([vpcs[1][:-1] + "?", "vpc-0000000000000dead"])
