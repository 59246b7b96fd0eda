"""The emulator's API rate limits are counted per account and action, as Alibaba counts them."""

from __future__ import annotations

import pytest
from alibabacloud_tea_openapi.exceptions import ThrottlingException
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client

from multiflow_alibaba_emulator import AlibabaEmulator

from ..conftest import REGION, ClientFactory

OTHER_KEY_ID, OTHER_SECRET, OTHER_ACCOUNT = "LTAIotheraccount", "other-secret-of-the-test", "2222222222"


def outcomes(client: Client, calls: int) -> list[str]:
    seen = []
    for _ in range(calls):
        try:
            client.describe_flow_logs(m.DescribeFlowLogsRequest(region_id=REGION))
            seen.append("ok")
        except ThrottlingException as exc:
            assert exc.code == "Throttling.Api"
            seen.append("throttled")
    return seen


@pytest.fixture
def other(emulator: AlibabaEmulator, make_client: ClientFactory) -> Client:
    emulator.add_account(OTHER_KEY_ID, OTHER_SECRET, account_id=OTHER_ACCOUNT)
    return make_client(OTHER_KEY_ID, OTHER_SECRET)


def test_each_account_has_the_whole_rate_of_an_action(emulator: AlibabaEmulator, client: Client, other: Client) -> None:
    emulator.faults.qps_limits = {"DescribeFlowLogs": 3}
    assert outcomes(client, 4) == ["ok", "ok", "ok", "throttled"]
    assert outcomes(other, 4) == ["ok", "ok", "ok", "throttled"]


def test_an_account_may_have_its_own_limits(emulator: AlibabaEmulator, client: Client, other: Client) -> None:
    emulator.faults.qps_limits = {"DescribeFlowLogs": 3}
    emulator.faults.account_qps_limits = {OTHER_ACCOUNT: {"DescribeFlowLogs": 1}}
    assert emulator.faults.qps_limit("DescribeFlowLogs", OTHER_ACCOUNT) == 1
    assert outcomes(other, 2) == ["ok", "throttled"]
    assert outcomes(client, 4) == ["ok", "ok", "ok", "throttled"]
    emulator.faults.reset()
    assert emulator.faults.account_qps_limits == {} and outcomes(other, 3) == ["ok"] * 3
