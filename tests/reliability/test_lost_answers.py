"""A call that did its work but whose answer was lost: the retry must neither fail nor do the work twice."""

from __future__ import annotations

from typing import Any

import pytest

import multiflow
from multiflow_alibaba.sandbox_support import connect_options
from multiflow_alibaba_emulator import AlibabaEmulator

pytestmark = pytest.mark.timeout(120)

REGION = "us-east-1"
ALI_REGION = "cn-hangzhou"


def aws_flow_logs(aws_env: Any) -> list[str]:
    return [f["FlowLogId"] for f in aws_env.client("ec2").describe_flow_logs()["FlowLogs"]]


def lose_first_answer(client: multiflow.Client, proxy: Any, operation: str) -> list[int]:
    """Lose the answer of the first attempt of ``operation`` (the call happens), let the next ones through."""
    attempts: list[int] = []

    def flip(**_: Any) -> None:
        attempts.append(1)
        proxy.lost_response_rate = 1.0 if len(attempts) == 1 else 0.0

    proxy.actions = {operation}
    client.session.ec2.meta.events.register(f"before-send.ec2.{operation}", flip)
    return attempts


def test_aws_delete_whose_answer_was_lost_counts_as_deleted(aws_env: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 3)
    bucket = aws_env.create_bucket("lost-delete")
    direct = multiflow.connect("aws", region=REGION, **aws_env.connect_options())
    spec = multiflow.FlowLogSpec(resources={"kind": "vpc", "ids": vpcs}, destination={"kind": "s3", "bucket": bucket})
    ids = [f.id for f in direct.create(spec)]
    proxy = aws_env.fault_proxy(seed=1)
    client = multiflow.connect("aws", region=REGION, **aws_env.connect_options(proxy=proxy))
    attempts = lose_first_answer(client, proxy, "DeleteFlowLogs")
    # botocore resends after the lost answer; EC2 (here moto) then calls the ids unknown: they were deleted.
    assert sorted(client.delete(ids)) == sorted(ids)
    assert len(attempts) == 2 and proxy.injected["lost_response"] == 1
    assert aws_flow_logs(aws_env) == []


def test_aws_delete_still_reports_ids_that_never_existed(aws_env: Any) -> None:
    client = multiflow.connect("aws", region=REGION, **aws_env.connect_options())
    with pytest.raises(multiflow.errors.NotFound):
        client.delete(["fl-0123456789abcdef0"])


def test_aws_create_whose_answer_was_lost_makes_no_duplicate(aws_env: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 4)
    bucket = aws_env.create_bucket("lost-create")
    proxy = aws_env.fault_proxy(seed=2)
    client = multiflow.connect("aws", region=REGION, **aws_env.connect_options(proxy=proxy))
    attempts = lose_first_answer(client, proxy, "CreateFlowLogs")
    spec = multiflow.FlowLogSpec(resources={"kind": "vpc", "ids": vpcs}, destination={"kind": "s3", "bucket": bucket})
    created = client.create(spec)
    assert len(attempts) == 2 and sorted(f.id for f in created) == sorted(aws_flow_logs(aws_env))
    assert len(created) == 4


@pytest.mark.parametrize("operation", ["CreateFlowLog", "DeleteFlowLog"])
def test_alibaba_calls_whose_answer_was_lost_are_settled_by_looking(operation: str) -> None:
    with AlibabaEmulator(deletion_delay=0.2) as emu:
        emu.add_account("LTAI5tLostAnswers0000001", "lost-answers-secret")
        vpc = emu.add_vpc(ALI_REGION)
        switches = [emu.add_vswitch(ALI_REGION, vpc) for _ in range(5)]
        emu.add_logstore(ALI_REGION, "lost-project", "lost-store")
        client = multiflow.connect(
            "alibaba", region=ALI_REGION, **connect_options(emu, "LTAI5tLostAnswers0000001", rate_limit=None)
        )
        spec = multiflow.FlowLogSpec(
            resources={"kind": "subnet", "ids": switches},
            destination={"kind": "sls", "project": "lost-project", "logstore": "lost-store"},
        )
        emu.faults.actions = {operation}
        emu.faults.seed(1)  # draws 0.13, 0.85, 0.76, 0.26, 0.50: three of five answers lost
        emu.faults.lost_response_rate = 0.5 if operation == "CreateFlowLog" else 0.0
        created = client.create(spec, wait=True, timeout=30)
        assert sorted(f.resource.id for f in created) == sorted(switches)
        assert len(emu.flow_logs()) == len(switches)
        if operation == "DeleteFlowLog":
            emu.faults.lost_response_rate = 0.5
        deleted = client.delete([f.id for f in created], timeout=30)
        assert sorted(deleted) == sorted(f.id for f in created)
        assert emu.flow_logs() == []
        assert emu.errors[(operation, "<dropped>")] >= 1, (emu.errors, emu.calls)
        client.close()
