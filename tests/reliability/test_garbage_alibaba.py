"""Garbage from Alibaba Cloud (answers that are not the API's JSON, records without their fields) comes out of
multiflow as a ProviderError (ServiceError ``UnexpectedResponse``), never as a KeyError or TypeError; and a create
whose answer was garbage looks before sending again, so it leaves no duplicate behind."""

from __future__ import annotations

import json
from typing import Any

import pytest

import multiflow
from multiflow.errors import PartialFailure, ServiceError, WaitTimeout
from multiflow_alibaba_emulator import AlibabaEmulator

from .stub_server import stub_server

pytestmark = pytest.mark.timeout(120)

REGION = "us-east-1"
ALI_REGION = "cn-hangzhou"


def aws_spec(vpcs: list[str], bucket: str) -> multiflow.FlowLogSpec:
    return multiflow.FlowLogSpec(resources={"kind": "vpc", "ids": vpcs}, destination={"kind": "s3", "bucket": bucket})


def unexpected(exc: BaseException) -> bool:
    return isinstance(exc, ServiceError) and exc.code == "UnexpectedResponse" and exc.retryable


# -- Alibaba ------------------------------------------------------------------------------------------------------


def ali_connect(endpoint: str, **options: Any) -> multiflow.Client:
    return multiflow.connect(
        "alibaba",
        region=ALI_REGION,
        access_key_id="LTAI5tGarbageTests000001",
        access_key_secret="garbage-tests-secret",
        endpoint=endpoint,
        protocol="http",
        rate_limit=None,
        **options,
    )


def test_alibaba_malformed_answers_are_service_errors_and_creates_do_not_duplicate() -> None:
    with AlibabaEmulator() as emu:
        emu.add_account("LTAI5tGarbageTests000001", "garbage-tests-secret")
        vpc = emu.add_vpc(ALI_REGION)
        switches = [emu.add_vswitch(ALI_REGION, vpc) for _ in range(6)]
        emu.add_logstore(ALI_REGION, "garbage-project", "garbage-store")
        client = ali_connect(emu.endpoint, max_attempts=2, retry_timeout=5)
        emu.faults.malformed_rate = 1.0
        with pytest.raises(ServiceError) as caught:
            client.describe()
        assert unexpected(caught.value) and caught.value.operation == "DescribeFlowLogs"
        assert emu.errors[("DescribeFlowLogs", "<malformed>")] == 2  # retried once, like a lost answer
        with pytest.raises(ServiceError):
            client.session.list_resources(multiflow.ResourceKind.SUBNET, {})
        # Half the creates are answered with garbage (after the flow log was made): the session looks before
        # sending again and adopts what it finds.
        emu.faults.malformed_rate = 0.0
        emu.faults.actions = {"CreateFlowLog"}
        emu.faults.malformed_rate = 0.5
        emu.faults.seed(3)
        patient = ali_connect(emu.endpoint, max_attempts=8, retry_timeout=20)
        spec = multiflow.FlowLogSpec(
            resources={"kind": "subnet", "ids": switches},
            destination={"kind": "sls", "project": "garbage-project", "logstore": "garbage-store"},
        )
        created = patient.create(spec, wait=False)
        assert emu.errors[("CreateFlowLog", "<malformed>")] >= 1
        assert sorted(f.resource.id for f in created) == sorted(switches)
        assert len(emu.flow_logs()) == len(switches)


@pytest.mark.parametrize(
    "body",
    [
        {"FlowLogs": {"FlowLog": [{"ResourceId": "vsw-1", "Status": "Active"}]}, "TotalCount": 1},
        {"FlowLogs": {"FlowLog": [{"FlowLogId": "fl-1", "AggregationInterval": "often"}]}, "TotalCount": 1},
        {"FlowLogs": "none today", "TotalCount": 1},
        {"FlowLogs": {"FlowLog": []}, "TotalCount": "many"},
        [1, 2],
        "not json at all",
    ],
    ids=["no-id", "bad-interval", "flowlogs-a-string", "count-a-word", "a-list", "not-json"],
)
def test_alibaba_answers_without_their_fields_are_service_errors(body: Any) -> None:
    with stub_server() as stub:
        raw = (
            body.encode()
            if isinstance(body, str)
            else json.dumps({"RequestId": "R-1", **body} if isinstance(body, dict) else body).encode()
        )
        stub.answer = (200, "application/json", raw)
        client = ali_connect(f"127.0.0.1:{stub.port}", max_attempts=1)
        for call in (client.describe, lambda: client.get("fl-1")):
            with pytest.raises(ServiceError) as caught:
                call()
            assert unexpected(caught.value)
        # A wait sees the same garbage on every poll: it ends at its deadline, naming the id, the error as cause.
        with pytest.raises(WaitTimeout) as waited:
            client.wait(["fl-1"], timeout=1)
        assert waited.value.ids == ["fl-1"] and unexpected(waited.value.__cause__)  # type: ignore[arg-type]


def test_alibaba_create_answered_without_an_id_is_a_failure_not_a_crash() -> None:
    with stub_server() as stub:
        client = ali_connect(f"127.0.0.1:{stub.port}", max_attempts=1)
        spec = multiflow.FlowLogSpec(
            resources={"kind": "subnet", "ids": ["vsw-a", "vsw-b"]},
            destination={"kind": "sls", "project": "a-project", "logstore": "a-store"},
        )
        # Every call gets the same answer: an empty listing (fine) for the lookup, and no FlowLogId for the creates.
        stub.answer = (200, "application/json", b'{"RequestId": "R-2", "FlowLogs": {"FlowLog": []}, "TotalCount": 0}')
        with pytest.raises(PartialFailure) as caught:
            client.create(spec, wait=False)
        assert {f.resource_id for f in caught.value.failed} == {"vsw-a", "vsw-b"}
        assert all(unexpected(f.error) for f in caught.value.failed)
