"""The Alibaba VPC emulator, driven by the official, unmodified SDK over real HTTP on loopback."""

from __future__ import annotations

import ast
import asyncio
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from alibabacloud_tea_openapi import utils_models
from alibabacloud_tea_openapi.exceptions import ClientException, ServerException, ThrottlingException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_tea_openapi.utils import Utils
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client
from darabonba.core import DaraCore
from darabonba.exceptions import RetryError, UnretryableException
from darabonba.policy.retry import RetryOptions
from darabonba.runtime import RuntimeOptions

import multiflow_alibaba_emulator
from multiflow_alibaba_emulator import (
    DEMO_ACCESS_KEY_ID,
    DEMO_ACCESS_KEY_SECRET,
    ERROR_CATALOGUE,
    AlibabaEmulator,
    Faults,
    ManualClock,
    seed_demo,
)

from ..conftest import ACCOUNT_ID, KEY_ID, LOGSTORE, PROJECT, REGION, ClientFactory, Inventory

# --- helpers -------------------------------------------------------------------------------------------------


def create_request(resource_id: str, resource_type: str = "VPC", **fields: Any) -> m.CreateFlowLogRequest:
    values: dict[str, Any] = {
        "region_id": REGION,
        "resource_type": resource_type,
        "resource_id": resource_id,
        "traffic_type": "All",
        "project_name": PROJECT,
        "log_store_name": LOGSTORE,
    }
    values.update(fields)
    return m.CreateFlowLogRequest(**{k: v for k, v in values.items() if v is not None})


def create(client: Client, resource_id: str, resource_type: str = "VPC", **fields: Any) -> str:
    body = client.create_flow_log(create_request(resource_id, resource_type, **fields)).body
    assert body.success == "true"
    assert body.flow_log_id.startswith("fl-") and len(body.flow_log_id) == 23
    return str(body.flow_log_id)


def describe(client: Client, **filters: Any) -> m.DescribeFlowLogsResponseBody:
    return client.describe_flow_logs(m.DescribeFlowLogsRequest(region_id=REGION, **filters)).body


def status_of(client: Client, flow_log_id: str) -> str | None:
    logs = describe(client, flow_log_id=flow_log_id).flow_logs.flow_log
    return logs[0].status if logs else None


def raises(exc_type: type[Exception], call: Callable[[], Any]) -> Any:
    with pytest.raises(exc_type) as info:
        call()
    return info.value


def assert_cloud_error(exc: Any, code: str, status: int) -> None:
    """The SDK exception carries the emulator's code, status, request id and the cloud's JSON body."""
    assert exc.code == code
    assert exc.status_code == status
    assert exc.data["Code"] == code
    assert exc.data["RequestId"] == exc.request_id
    assert len(exc.request_id) == 36 and exc.request_id == exc.request_id.upper()
    assert set(exc.data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert exc.data["Message"] in exc.message


def rpc(client: Client, action: str, version: str, query: dict[str, Any]) -> dict[str, Any]:
    """Call any RPC action through the SDK's generic ``call_api`` (as ECS or unknown actions need)."""
    params = utils_models.Params(
        action=action,
        version=version,
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = utils_models.OpenApiRequest(query=Utils.query(query))
    return dict(client.call_api(params, request, RuntimeOptions())["body"])


# --- the flow-log service switch -----------------------------------------------------------------------------


def test_service_must_be_opened_before_flow_logs_can_be_created(
    emulator: AlibabaEmulator, cloud: Inventory, make_client: ClientFactory
) -> None:
    emulator.add_account("LTAI5tClosedAccount00001", "closed-secret", account_id="2222222222", service_opened=False)
    emulator.add_vpc(REGION, "vpc-closed0000000000000001", account_id="2222222222")
    emulator.add_logstore(REGION, PROJECT, LOGSTORE, account_id="2222222222")
    closed = make_client("LTAI5tClosedAccount00001", "closed-secret")

    status = closed.get_flow_log_service_status(m.GetFlowLogServiceStatusRequest(region_id=REGION)).body
    assert status.enabled is False and status.request_id
    exc = raises(ClientException, lambda: create(closed, "vpc-closed0000000000000001"))
    assert_cloud_error(exc, "OptInRequired.FlowLog", 400)

    opened = closed.open_flow_log_service(m.OpenFlowLogServiceRequest(region_id=REGION)).body
    assert opened.code == "200" and opened.request_id
    status = closed.get_flow_log_service_status(m.GetFlowLogServiceStatusRequest(region_id=REGION)).body
    assert status.enabled is True
    assert create(closed, "vpc-closed0000000000000001")


def test_the_sdks_async_path_is_accepted_too(client: Client, cloud: Inventory) -> None:
    # aiohttp adds an unsigned Content-Type after signing; the cloud (and so the emulator) accepts it.
    async def round_trip() -> tuple[str, str]:
        created = await client.create_flow_log_async(create_request(cloud.vpc, description="async a+b c"))
        found = await client.describe_flow_logs_async(m.DescribeFlowLogsRequest(region_id=REGION))
        return created.body.flow_log_id, found.body.flow_logs.flow_log[0].flow_log_id

    created_id, described_id = asyncio.run(round_trip())
    assert created_id == described_id


# --- create and describe --------------------------------------------------------------------------------------


def test_create_then_describe_returns_every_field(
    emulator: AlibabaEmulator, cloud: Inventory, make_client: ClientFactory
) -> None:
    emulator.add_account("LTAI5tPathsAccount000001", "paths-secret", account_id="3333333333", traffic_path_enabled=True)
    vpc = emulator.add_vpc(REGION, account_id="3333333333")
    emulator.add_logstore(REGION, PROJECT, LOGSTORE, account_id="3333333333")
    emulator.add_resource_group("rg-acfmteamnetops01", account_id="3333333333")
    client = make_client("LTAI5tPathsAccount000001", "paths-secret")
    tags = [m.CreateFlowLogRequestTag(key="multiflow:managed", value="true"), m.CreateFlowLogRequestTag(key="team")]

    created = client.create_flow_log(
        create_request(
            vpc,
            flow_log_name="prod flow log",
            # Unicode, spaces, '+', '/', '~', '*', quotes: the signature must survive all of them.
            description="流日志 a+b/c~d*e 'q' & more",
            traffic_type="Drop",
            aggregation_interval=1,
            traffic_path=["internetGateway", "natGateway"],
            ip_version="IPv4",
            resource_group_id="rg-acfmteamnetops01",
            tag=tags,
        )
    ).body
    assert created.resource_group_id == "rg-acfmteamnetops01"

    body = describe(client, flow_log_id=created.flow_log_id)
    assert (body.total_count, body.page_number, body.page_size, body.success) == ("1", "1", "20", "true")
    [log] = body.flow_logs.flow_log
    assert log.flow_log_id == created.flow_log_id
    assert log.flow_log_name == "prod flow log"
    assert log.description == "流日志 a+b/c~d*e 'q' & more"
    assert (log.resource_type, log.resource_id, log.region_id) == ("VPC", vpc, REGION)
    assert (log.project_name, log.log_store_name) == (PROJECT, LOGSTORE)
    assert (log.traffic_type, log.aggregation_interval, log.ip_version) == ("Drop", 1, "IPv4")
    assert log.traffic_path.traffic_path_list == ["internetGateway", "natGateway"]
    assert log.resource_group_id == "rg-acfmteamnetops01"
    assert [(t.key, t.value) for t in log.tags.tag] == [("multiflow:managed", "true"), ("team", "")]
    assert log.status == "Active"  # activation_delay 0: Activating completes at once
    assert log.creation_time.endswith("Z") and log.business_status == "Normal"


def test_defaults_are_the_clouds(client: Client, cloud: Inventory) -> None:
    flow_log_id = create(client, cloud.vswitch, "VSwitch")
    [log] = describe(client, flow_log_id=flow_log_id).flow_logs.flow_log
    assert log.aggregation_interval == 10
    assert log.traffic_path.traffic_path_list == ["all"]
    assert log.ip_version == "IPv4"
    assert log.resource_group_id.startswith("rg-acfm")
    assert log.flow_log_name == "" and log.description == ""


# --- lifecycle on a manual clock --------------------------------------------------------------------------------


def test_lifecycle_follows_the_clock(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    emulator.activation_delay = 60
    emulator.deactivation_delay = 20
    emulator.deletion_delay = 30
    flow_log_id = create(client, cloud.vpc)
    assert status_of(client, flow_log_id) == "Activating"
    clock.advance(59.9)
    assert status_of(client, flow_log_id) == "Activating"
    clock.advance(0.1)
    assert status_of(client, flow_log_id) == "Active"

    client.deactive_flow_log(m.DeactiveFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id))
    assert status_of(client, flow_log_id) == "Deactivating"
    clock.advance(20)
    assert status_of(client, flow_log_id) == "Inactive"

    client.active_flow_log(m.ActiveFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id))
    assert status_of(client, flow_log_id) == "Activating"
    clock.advance(60)
    assert status_of(client, flow_log_id) == "Active"

    deleted = client.delete_flow_log(m.DeleteFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id)).body
    assert deleted.success == "true"
    assert status_of(client, flow_log_id) == "Deleting"
    clock.advance(29)
    assert status_of(client, flow_log_id) == "Deleting"
    clock.advance(1)
    assert status_of(client, flow_log_id) is None
    assert describe(client).total_count == "0"
    exc = raises(
        ClientException,
        lambda: client.delete_flow_log(m.DeleteFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id)),
    )
    assert_cloud_error(exc, "InvalidFlowLogId.NotFound", 400)
    # The resource is free again once the old flow log is gone.
    assert create(client, cloud.vpc)


def test_operations_in_the_wrong_state_are_refused(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    emulator.activation_delay = emulator.deletion_delay = 10
    flow_log_id = create(client, cloud.vpc)
    calls = {
        "delete": lambda: client.delete_flow_log(m.DeleteFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id)),
        "deactivate": lambda: client.deactive_flow_log(
            m.DeactiveFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id)
        ),
        "activate": lambda: client.active_flow_log(m.ActiveFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id)),
        "modify": lambda: client.modify_flow_log_attribute(
            m.ModifyFlowLogAttributeRequest(region_id=REGION, flow_log_id=flow_log_id, flow_log_name="x")
        ),
    }
    for name in ("delete", "deactivate", "activate", "modify"):  # all refused while Activating
        assert_cloud_error(raises(ClientException, calls[name]), "IncorrectStatus.flowlog", 400)
    clock.advance(10)
    assert_cloud_error(raises(ClientException, calls["activate"]), "IncorrectStatus.flowlog", 400)  # Active
    calls["deactivate"]()
    assert_cloud_error(raises(ClientException, calls["deactivate"]), "IncorrectStatus.flowlog", 400)  # Inactive
    calls["delete"]()
    assert_cloud_error(raises(ClientException, calls["delete"]), "IncorrectStatus.flowlog", 400)  # Deleting


def test_modify_changes_attributes_and_keeps_the_status(client: Client, cloud: Inventory) -> None:
    flow_log_id = create(client, cloud.eni, "NetworkInterface", flow_log_name="old")
    client.deactive_flow_log(m.DeactiveFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id))
    body = client.modify_flow_log_attribute(
        m.ModifyFlowLogAttributeRequest(
            region_id=REGION, flow_log_id=flow_log_id, flow_log_name="new", description="desc", aggregation_interval=5
        )
    ).body
    assert body.success == "true"
    [log] = describe(client, flow_log_id=flow_log_id).flow_logs.flow_log
    assert (log.flow_log_name, log.description, log.aggregation_interval, log.status) == ("new", "desc", 5, "Inactive")
    bad = m.ModifyFlowLogAttributeRequest(region_id=REGION, flow_log_id=flow_log_id, aggregation_interval=2)
    assert_cloud_error(
        raises(ClientException, lambda: client.modify_flow_log_attribute(bad)), "IllegalParam.AggregationInterval", 400
    )


def test_set_status_holds_a_state_and_transitions_can_be_frozen(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    flow_log_id = create(client, cloud.vpc)
    emulator.set_status(flow_log_id, "Activating")
    clock.advance(10_000)
    assert status_of(client, flow_log_id) == "Activating"
    emulator.set_status(flow_log_id, "Activating", duration=5)
    clock.advance(5)
    assert status_of(client, flow_log_id) == "Active"

    emulator.activation_delay = 1
    emulator.transitions_frozen = True
    other = create(client, cloud.vswitch, "VSwitch")
    clock.advance(100)
    assert status_of(client, other) == "Activating"
    emulator.transitions_frozen = False
    assert status_of(client, other) == "Active"
    assert [(f["FlowLogId"], f["Status"], f["AccountId"]) for f in emulator.flow_logs()] == [
        (flow_log_id, "Active", ACCOUNT_ID),
        (other, "Active", ACCOUNT_ID),
    ]
    with pytest.raises(ValueError):
        emulator.set_status(flow_log_id, "Pending")


# --- CreateFlowLog business errors ------------------------------------------------------------------------------


def _enable_paths(emu: AlibabaEmulator) -> str:
    emu.add_account("LTAI5tPathsOnly000000001", "s", account_id="4444444444", traffic_path_enabled=True)
    emu.add_vpc(REGION, "vpc-paths000000000000000001", account_id="4444444444")
    emu.add_logstore(REGION, PROJECT, LOGSTORE, account_id="4444444444")
    return "LTAI5tPathsOnly000000001"


CREATE_ERRORS: list[tuple[str, Callable[[Inventory], dict[str, Any]], str]] = [
    ("missing traffic type", lambda c: {"resource_id": c.vpc, "traffic_type": None}, "MissingParameter"),
    ("missing resource id", lambda c: {"resource_id": None}, "MissingParameter"),
    ("missing resource type", lambda c: {"resource_id": c.vpc, "resource_type": None}, "MissingParameter"),
    (
        "unsupported type",
        lambda c: {"resource_id": c.vpc, "resource_type": "Subnet"},
        "OperationUnsupported.ResourceType",
    ),
    (
        "id of another type",
        lambda c: {"resource_id": c.vswitch, "resource_type": "VPC"},
        "InvalidResourceType.NotFound",
    ),
    ("unknown vpc", lambda c: {"resource_id": "vpc-doesnotexist00000000"}, "InvalidInstanceId"),
    ("unknown vswitch", lambda c: {"resource_id": "vsw-nope", "resource_type": "VSwitch"}, "InvalidInstanceId"),
    ("unknown eni", lambda c: {"resource_id": "eni-nope", "resource_type": "NetworkInterface"}, "InvalidInstanceId"),
    (
        "no destination",
        lambda c: {"resource_id": c.vpc, "project_name": None, "log_store_name": None},
        "MissingParam.TrafficAnalyzerIdOrLogProjectOrLogStore",
    ),
    ("unknown logstore", lambda c: {"resource_id": c.vpc, "log_store_name": "nope"}, "ProjectOrLogstoreNotExist"),
    ("unknown project", lambda c: {"resource_id": c.vpc, "project_name": "nope"}, "ProjectOrLogstoreNotExist"),
    ("interval 3", lambda c: {"resource_id": c.vpc, "aggregation_interval": 3}, "IllegalParam.AggregationInterval"),
    ("traffic Accept", lambda c: {"resource_id": c.vpc, "traffic_type": "Accept"}, "ParameterInvalid"),
    ("bad path", lambda c: {"resource_id": c.vpc, "traffic_path": ["internet"]}, "IllegalParam.TrafficPath"),
    (
        "custom path without the feature",
        lambda c: {"resource_id": c.vpc, "traffic_path": ["vbr"]},
        "UnsupportedFeature.UserDefinedTrafficPath",
    ),
    ("ip version 6", lambda c: {"resource_id": c.vpc, "ip_version": "IPv6"}, "IllegalParam.IpVersion"),
    (
        "unknown resource group",
        lambda c: {"resource_id": c.vpc, "resource_group_id": "rg-x"},
        "IllegalParam.ResourceGroupId",
    ),
    ("name too long", lambda c: {"resource_id": c.vpc, "flow_log_name": "n" * 129}, "ParameterInvalid"),
    ("name is a url", lambda c: {"resource_id": c.vpc, "flow_log_name": "https://x"}, "ParameterInvalid"),
    ("description too long", lambda c: {"resource_id": c.vpc, "description": "d" * 257}, "ParameterInvalid"),
    ("description is a url", lambda c: {"resource_id": c.vpc, "description": "http://x"}, "ParameterInvalid"),
    (
        "21 tags",
        lambda c: {"resource_id": c.vpc, "tag": [m.CreateFlowLogRequestTag(key=f"k{i}", value="v") for i in range(21)]},
        "QuotaExceeded.TagNum",
    ),
    (
        "tag key aliyun",
        lambda c: {"resource_id": c.vpc, "tag": [m.CreateFlowLogRequestTag(key="aliyun-x", value="v")]},
        "InvalidTagKey",
    ),
    (
        "tag key acs:",
        lambda c: {"resource_id": c.vpc, "tag": [m.CreateFlowLogRequestTag(key="acs:x", value="v")]},
        "InvalidTagKey",
    ),
    (
        "empty tag key",
        lambda c: {"resource_id": c.vpc, "tag": [m.CreateFlowLogRequestTag(key="", value="v")]},
        "InvalidTagKey",
    ),
    (
        "tag key too long",
        lambda c: {"resource_id": c.vpc, "tag": [m.CreateFlowLogRequestTag(key="k" * 129, value="v")]},
        "InvalidTagKey",
    ),
    (
        "tag value acs:",
        lambda c: {"resource_id": c.vpc, "tag": [m.CreateFlowLogRequestTag(key="k", value="acs:v")]},
        "InvalidTagValue",
    ),
    (
        "duplicate tag key",
        lambda c: {"resource_id": c.vpc, "tag": [m.CreateFlowLogRequestTag(key="k", value=v) for v in "ab"]},
        "Duplicate.TagKey",
    ),
    ("unknown region", lambda c: {"resource_id": c.vpc, "region_id": "cn-atlantis"}, "InvalidRegionId.NotFound"),
]


@pytest.mark.parametrize(("case", "fields", "code"), CREATE_ERRORS, ids=[c[0] for c in CREATE_ERRORS])
def test_create_flow_log_rejects_with_the_clouds_code(
    emulator: AlibabaEmulator, client: Client, cloud: Inventory, case: str, fields: Callable[..., Any], code: str
) -> None:
    values = fields(cloud)
    resource_id = values.pop("resource_id", None)
    exc = raises(ClientException, lambda: client.create_flow_log(create_request(resource_id, **values)))
    assert_cloud_error(exc, code, 400)
    if code in ("InvalidInstanceId", "ParameterInvalid", "IllegalParam.TrafficPath") or code.startswith("Missing"):
        assert exc.data["Message"]  # worded per case; the code is what matters
    else:
        assert exc.data["Message"] == ERROR_CATALOGUE[code][1]
    assert emulator.flow_logs() == []


def test_missing_parameter_names_the_parameter(client: Client, cloud: Inventory) -> None:
    exc = raises(ClientException, lambda: client.create_flow_log(create_request(cloud.vpc, traffic_type=None)))
    # Worded as the CreateFlowLog reference has it ("Missing mandatory parameter"), naming the parameter.
    assert exc.data["Message"] == "Missing mandatory parameter TrafficType."


def test_unknown_vswitch_message_is_the_clouds(client: Client, cloud: Inventory) -> None:
    exc = raises(ClientException, lambda: create(client, "vsw-nope", "VSwitch"))
    assert exc.data["Message"] == "vswitch does not exist."


def test_traffic_path_rules_for_accounts_with_the_feature(
    emulator: AlibabaEmulator, make_client: ClientFactory
) -> None:
    client = make_client(_enable_paths(emulator), "s")
    vpc = "vpc-paths000000000000000001"
    duplicated = create_request(vpc, traffic_path=["vbr", "vbr"])
    assert_cloud_error(
        raises(ClientException, lambda: client.create_flow_log(duplicated)), "DuplicatedParam.TrafficPath", 400
    )
    mixed = create_request(vpc, traffic_path=["all", "vbr"])
    assert_cloud_error(raises(ClientException, lambda: client.create_flow_log(mixed)), "IllegalParam.TrafficPath", 400)
    dual = create_request(vpc, traffic_path=["vbr"], ip_version="DualStack")
    assert_cloud_error(
        raises(ClientException, lambda: client.create_flow_log(dual)),
        "UnsupportedFeature.UserDefinedTrafficPathIpv6",
        400,
    )
    assert create(client, vpc, traffic_path=["transitRouter", "ecr"], ip_version="IPv4")


def test_one_flow_log_per_resource(client: Client, cloud: Inventory, emulator: AlibabaEmulator) -> None:
    create(client, cloud.eni, "NetworkInterface")
    exc = raises(ClientException, lambda: create(client, cloud.eni, "NetworkInterface"))
    assert_cloud_error(exc, "InvalidResourceId.NotFound", 400)
    assert exc.data["Message"] == "This resourceId already has flowlog instance existed."
    assert len(emulator.flow_logs()) == 1


def test_quota_counts_every_flow_log_of_the_account(
    emulator: AlibabaEmulator, client: Client, cloud: Inventory, make_client: ClientFactory
) -> None:
    emulator.add_account("LTAI5tQuotaAccount000001", "q", account_id="5555555555", flow_log_quota=2)
    quota_client = make_client("LTAI5tQuotaAccount000001", "q")
    vpcs = [emulator.add_vpc(REGION, account_id="5555555555") for _ in range(3)]
    emulator.add_logstore(REGION, PROJECT, LOGSTORE, account_id="5555555555")
    first = create(quota_client, vpcs[0])
    create(quota_client, vpcs[1])
    assert_cloud_error(
        raises(ClientException, lambda: create(quota_client, vpcs[2])), "QuotaExceeded.FlowlogCount", 400
    )
    quota_client.delete_flow_log(m.DeleteFlowLogRequest(region_id=REGION, flow_log_id=first))
    assert create(quota_client, vpcs[2])  # deletion_delay 0: the slot is free again
    assert create(client, cloud.vpc)  # other accounts have their own quota


# --- DescribeFlowLogs filters and pagination --------------------------------------------------------------------


def test_describe_flow_logs_filters(emulator: AlibabaEmulator, client: Client, cloud: Inventory) -> None:
    other_vpc = emulator.add_vpc(REGION)
    emulator.add_logstore(REGION, "other-project", "other-store")
    on_vpc = create(
        client,
        cloud.vpc,
        flow_log_name="a",
        description="first",
        tag=[m.CreateFlowLogRequestTag(key="team", value="net")],
    )
    on_vsw = create(client, cloud.vswitch, "VSwitch", traffic_type="Allow", flow_log_name="b")
    on_eni = create(client, cloud.eni, "NetworkInterface", traffic_type="Drop")
    on_other = create(client, other_vpc, project_name="other-project", log_store_name="other-store")
    client.deactive_flow_log(m.DeactiveFlowLogRequest(region_id=REGION, flow_log_id=on_eni))

    def ids(**filters: Any) -> list[str]:
        return [f.flow_log_id for f in describe(client, **filters).flow_logs.flow_log]

    assert ids() == [on_vpc, on_vsw, on_eni, on_other]
    assert ids(flow_log_id=on_vsw) == [on_vsw]
    assert ids(flow_log_name="a") == [on_vpc]
    assert ids(description="first") == [on_vpc]
    assert ids(resource_type="VSwitch") == [on_vsw]
    assert ids(resource_id=cloud.eni) == [on_eni]
    assert ids(vpc_id=cloud.vpc) == [on_vpc, on_vsw, on_eni]
    assert ids(project_name="other-project") == [on_other]
    assert ids(log_store_name=LOGSTORE) == [on_vpc, on_vsw, on_eni]
    assert ids(status="Inactive") == [on_eni]
    assert ids(status="Active", vpc_id=cloud.vpc) == [on_vpc, on_vsw]
    assert ids(traffic_type="Allow") == [on_vsw]
    assert ids(tags=[m.DescribeFlowLogsRequestTags(key="team", value="net")]) == [on_vpc]
    assert ids(tags=[m.DescribeFlowLogsRequestTags(key="team", value="other")]) == []
    assert ids(tags=[m.DescribeFlowLogsRequestTags(key="team")]) == [on_vpc]
    rg = describe(client, flow_log_id=on_vpc).flow_logs.flow_log[0].resource_group_id
    assert ids(resource_group_id=rg) == [on_vpc, on_vsw, on_eni, on_other]
    assert ids(resource_group_id="rg-other") == []
    assert ids(flow_log_id="fl-unknown") == []
    # Another region of the same account holds none of them.
    assert client.describe_flow_logs(m.DescribeFlowLogsRequest(region_id="cn-shanghai")).body.total_count == "0"


def test_pagination_past_50_in_creation_order(emulator: AlibabaEmulator, client: Client, cloud: Inventory) -> None:
    enis = [emulator.add_network_interface(REGION, cloud.vswitch) for _ in range(120)]
    created = [create(client, eni, "NetworkInterface") for eni in enis]

    pages = [describe(client, page_number=n, page_size=50) for n in (1, 2, 3, 4)]
    assert [p.total_count for p in pages] == ["120"] * 4
    assert [len(p.flow_logs.flow_log) for p in pages] == [50, 50, 20, 0]
    assert [f.flow_log_id for p in pages for f in p.flow_logs.flow_log] == created
    assert len(describe(client).flow_logs.flow_log) == 20  # the default page size

    for bad in ({"page_size": 51}, {"page_size": 0}, {"page_number": 0}):
        exc = raises(ClientException, lambda bad=bad: describe(client, **bad))
        assert_cloud_error(exc, "InvalidParameter", 400)
    emulator.page_size_max = 100
    assert len(describe(client, page_size=100).flow_logs.flow_log) == 100


# --- VPCs, vSwitches, ENIs ---------------------------------------------------------------------------------------


def test_describe_vpcs_pages_and_filters(emulator: AlibabaEmulator, client: Client, cloud: Inventory) -> None:
    more = [emulator.add_vpc(REGION, name=f"vpc-{i}", tags={"n": str(i % 2)}) for i in range(59)]
    first = client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, page_size=50)).body
    second = client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, page_size=50, page_number=2)).body
    assert (first.total_count, first.page_number, first.page_size) == (60, 1, 50)
    assert [v.vpc_id for v in first.vpcs.vpc + second.vpcs.vpc] == [cloud.vpc, *more]
    assert len(client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.vpcs.vpc) == 10

    main = client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_id=cloud.vpc)).body.vpcs.vpc[0]
    assert (main.vpc_name, main.status, main.region_id) == ("main", "Available", REGION)
    assert main.v_switch_ids.v_switch_id == [cloud.vswitch]
    assert [(t.key, t.value) for t in main.tags.tag] == [("env", "test")]
    assert main.owner_id == int(ACCOUNT_ID)

    two = client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_id=f"{more[0]},{more[1]}")).body
    assert [v.vpc_id for v in two.vpcs.vpc] == more[:2]
    tagged = client.describe_vpcs(
        m.DescribeVpcsRequest(region_id=REGION, tag=[m.DescribeVpcsRequestTag(key="n", value="1")], page_size=50)
    ).body
    assert tagged.total_count == 29
    named = client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, vpc_name="vpc-7")).body
    assert [v.vpc_id for v in named.vpcs.vpc] == [more[7]]
    exc = raises(ClientException, lambda: client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION, page_size=51)))
    assert_cloud_error(exc, "InvalidParameter", 400)


def test_describe_vswitches_pages_and_filters(emulator: AlibabaEmulator, client: Client, cloud: Inventory) -> None:
    other_vpc = emulator.add_vpc(REGION)
    extra = [
        emulator.add_vswitch(REGION, other_vpc, zone_id=f"cn-hangzhou-{'ij'[i % 2]}", tags={"i": str(i)})
        for i in range(55)
    ]
    page1 = client.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, page_size=50)).body
    page2 = client.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, page_size=50, page_number=2)).body
    assert page1.total_count == 56
    assert [s.v_switch_id for s in page1.v_switches.v_switch + page2.v_switches.v_switch] == [cloud.vswitch, *extra]

    by_vpc = client.describe_vswitches(m.DescribeVSwitchesRequest(vpc_id=cloud.vpc)).body  # no RegionId needed
    [main] = by_vpc.v_switches.v_switch
    assert (main.v_switch_id, main.vpc_id, main.zone_id, main.v_switch_name) == (
        cloud.vswitch,
        cloud.vpc,
        "cn-hangzhou-h",
        "main-a",
    )
    by_id = client.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, v_switch_id=extra[3])).body
    assert [s.v_switch_id for s in by_id.v_switches.v_switch] == [extra[3]]
    by_zone = client.describe_vswitches(
        m.DescribeVSwitchesRequest(region_id=REGION, vpc_id=other_vpc, zone_id="cn-hangzhou-i", page_size=50)
    ).body
    assert by_zone.total_count == 28  # the even ones
    by_tag = client.describe_vswitches(
        m.DescribeVSwitchesRequest(region_id=REGION, tag=[m.DescribeVSwitchesRequestTag(key="i", value="9")])
    ).body
    assert [s.v_switch_id for s in by_tag.v_switches.v_switch] == [extra[9]]
    exc = raises(
        ClientException, lambda: client.describe_vswitches(m.DescribeVSwitchesRequest(region_id=REGION, page_size=51))
    )
    assert_cloud_error(exc, "InvalidParameter", 400)


def test_describe_network_interfaces_is_served_as_ecs(
    client: Client, cloud: Inventory, emulator: AlibabaEmulator
) -> None:
    tagged = emulator.add_network_interface(REGION, cloud.vswitch, tags={"role": "db"})
    body = rpc(client, "DescribeNetworkInterfaces", "2014-05-26", {"RegionId": REGION, "VpcId": cloud.vpc})
    assert body["TotalCount"] == 2
    assert [e["NetworkInterfaceId"] for e in body["NetworkInterfaceSets"]["NetworkInterfaceSet"]] == [cloud.eni, tagged]
    by_tag = rpc(
        client,
        "DescribeNetworkInterfaces",
        "2014-05-26",
        {"RegionId": REGION, "Tag": [{"Key": "role", "Value": "db"}]},
    )
    [eni] = by_tag["NetworkInterfaceSets"]["NetworkInterfaceSet"]
    assert (eni["NetworkInterfaceId"], eni["VSwitchId"], eni["Tags"]["Tag"]) == (
        tagged,
        cloud.vswitch,
        [{"TagKey": "role", "TagValue": "db"}],
    )
    by_id = rpc(
        client, "DescribeNetworkInterfaces", "2014-05-26", {"RegionId": REGION, "NetworkInterfaceId": [cloud.eni]}
    )
    assert by_id["TotalCount"] == 1


def test_unknown_action_and_version(client: Client) -> None:
    exc = raises(ClientException, lambda: rpc(client, "DescribeEverything", "2016-04-28", {"RegionId": REGION}))
    assert_cloud_error(exc, "InvalidAction.NotFound", 404)
    exc = raises(ClientException, lambda: rpc(client, "DescribeFlowLogs", "2099-01-01", {"RegionId": REGION}))
    assert_cloud_error(exc, "InvalidVersion", 400)


def test_accounts_are_isolated(
    emulator: AlibabaEmulator, client: Client, cloud: Inventory, make_client: ClientFactory
) -> None:
    create(client, cloud.vpc)
    emulator.add_account("LTAI5tOtherAccount000001", "other", account_id="6666666666")
    emulator.add_logstore(REGION, PROJECT, LOGSTORE, account_id="6666666666")
    other = make_client("LTAI5tOtherAccount000001", "other")
    assert describe(other).total_count == "0"
    assert other.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.total_count == 0
    assert_cloud_error(raises(ClientException, lambda: create(other, cloud.vpc)), "InvalidInstanceId", 400)
    # A second key of the first account sees its flow logs.
    emulator.add_account("LTAI5tSecondKeyFirstAcct", "second", account_id=ACCOUNT_ID)
    assert describe(make_client("LTAI5tSecondKeyFirstAcct", "second")).total_count == "1"


# --- signatures -----------------------------------------------------------------------------------------------------


def test_wrong_secret_is_signature_does_not_match(make_client: ClientFactory) -> None:
    exc = raises(ClientException, lambda: describe(make_client(secret="not-the-secret")))
    assert_cloud_error(exc, "SignatureDoesNotMatch", 400)
    assert "string to sign" in exc.data["Message"] and "not-the-secret" not in json.dumps(exc.data)


def test_unknown_key_is_not_found_404(make_client: ClientFactory) -> None:
    exc = raises(ClientException, lambda: describe(make_client(key_id="LTAI5tNobodyHasThisKey00")))
    assert_cloud_error(exc, "InvalidAccessKeyId.NotFound", 404)


def test_disabled_key_is_inactive(emulator: AlibabaEmulator, client: Client) -> None:
    emulator.set_access_key_active(KEY_ID, False)
    assert_cloud_error(raises(ClientException, lambda: describe(client)), "InvalidAccessKeyId.Inactive", 400)
    emulator.set_access_key_active(KEY_ID, True)
    assert describe(client).success == "true"


def test_reused_nonce_is_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Utils, "get_nonce", staticmethod(lambda: "f" * 32))
    assert describe(client).success == "true"
    assert_cloud_error(raises(ClientException, lambda: describe(client)), "SignatureNonceUsed", 400)


@pytest.mark.parametrize(("skew_minutes", "ok"), [(-14, True), (14, True), (-16, False), (16, False)])
def test_request_date_must_be_within_15_minutes(
    client: Client, monkeypatch: pytest.MonkeyPatch, skew_minutes: int, ok: bool
) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + skew_minutes * 60))
    monkeypatch.setattr(Utils, "get_timestamp", staticmethod(lambda: stamp))
    if ok:
        assert describe(client).success == "true"
    else:
        assert_cloud_error(raises(ClientException, lambda: describe(client)), "InvalidTimeStamp.Expired", 400)


def _tamper_after_signing(monkeypatch: pytest.MonkeyPatch, change: Callable[[Any], None]) -> None:
    """Let the real SDK sign, then alter the request on its way to the wire."""
    original = DaraCore.do_action

    def tampered(request: Any, runtime_option: Any = None) -> Any:
        change(request)
        return original(request, runtime_option)

    monkeypatch.setattr(DaraCore, "do_action", staticmethod(tampered))


def test_a_query_changed_after_signing_is_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _tamper_after_signing(monkeypatch, lambda r: r.query.update(RegionId="cn-shanghai"))
    assert_cloud_error(raises(ClientException, lambda: describe(client)), "SignatureDoesNotMatch", 400)


def test_a_header_changed_after_signing_is_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _tamper_after_signing(monkeypatch, lambda r: r.headers.update({"x-acs-action": "DeleteFlowLog"}))
    assert_cloud_error(raises(ClientException, lambda: describe(client)), "SignatureDoesNotMatch", 400)


def test_an_unsigned_acs_header_is_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _tamper_after_signing(monkeypatch, lambda r: r.headers.update({"x-acs-extra": "1"}))
    assert_cloud_error(raises(ClientException, lambda: describe(client)), "IncompleteSignature", 400)


def test_a_request_without_authorization_is_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _tamper_after_signing(monkeypatch, lambda r: r.headers.pop("Authorization"))
    exc = raises(ClientException, lambda: describe(client))
    assert_cloud_error(exc, "MissingParameter", 400)
    assert "Authorization" in exc.data["Message"]


def test_a_malformed_authorization_is_incomplete(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    _tamper_after_signing(monkeypatch, lambda r: r.headers.update({"Authorization": "ACS3-HMAC-SHA256 Credential=x"}))
    assert_cloud_error(raises(ClientException, lambda: describe(client)), "IncompleteSignature", 400)


def test_raw_http_without_any_header_gets_the_clouds_json(emulator: AlibabaEmulator) -> None:
    request = urllib.request.Request(f"http://{emulator.endpoint}/?RegionId={REGION}", method="POST", data=b"")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    body = json.loads(info.value.read())
    assert info.value.code == 400
    assert body["Code"] == "MissingParameter" and "Action" in body["Message"]
    assert info.value.headers["x-acs-request-id"] == body["RequestId"]


def test_other_http_methods_get_the_clouds_json(emulator: AlibabaEmulator) -> None:
    request = urllib.request.Request(f"http://{emulator.endpoint}/", method="PUT", data=b"")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 405
    assert json.loads(info.value.read())["Code"] == "UnsupportedHTTPMethod"


# --- faults ----------------------------------------------------------------------------------------------------------


def test_throttling_arrives_as_throttling_exception(emulator: AlibabaEmulator, client: Client) -> None:
    emulator.faults.throttle_rate = 1.0
    exc = raises(ThrottlingException, lambda: describe(client))
    assert_cloud_error(exc, "Throttling.User", 400)
    assert exc.retry_after == 200 and exc.data["Message"] == "Request was denied due to user flow control."
    assert not isinstance(exc, ClientException)
    # Without x-acs-retry-after the SDK sees a plain 400 ClientException.
    emulator.faults.retry_after_ms = None
    assert_cloud_error(raises(ClientException, lambda: describe(client)), "Throttling.User", 400)
    emulator.faults.reset()
    assert describe(client).success == "true"


def test_qps_limit_is_a_token_bucket_per_action(emulator: AlibabaEmulator, client: Client) -> None:
    emulator.faults.qps_limits = {"DescribeFlowLogs": 5}
    outcomes: list[str] = []
    for _ in range(12):
        try:
            describe(client)
            outcomes.append("ok")
        except ThrottlingException as exc:
            assert exc.code == "Throttling.Api" and exc.retry_after >= 1
            outcomes.append("throttled")
    assert outcomes[:5] == ["ok"] * 5
    assert outcomes.count("throttled") >= 6
    # Other actions are not limited.
    assert client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.request_id


def test_server_errors_are_5xx_server_exceptions_and_seeded(emulator: AlibabaEmulator, client: Client) -> None:
    def codes() -> list[tuple[str, int]]:
        seen = []
        for _ in range(8):
            exc = raises(ServerException, lambda: describe(client))
            assert exc.data["Message"] == ERROR_CATALOGUE[exc.code][1]
            seen.append((exc.code, exc.status_code))
        return seen

    emulator.faults.server_error_rate = 1.0
    emulator.faults.seed(7)
    first = codes()
    emulator.faults.seed(7)
    assert codes() == first
    assert set(first) <= {("ServiceUnavailable", 503), ("InternalError", 500)}
    assert len(set(first)) == 2


def test_latency_is_added_to_each_call(emulator: AlibabaEmulator, client: Client) -> None:
    emulator.faults.latency = 0.3
    started = time.perf_counter()
    describe(client)
    assert time.perf_counter() - started >= 0.3


def test_dropped_connection_reaches_the_sdk_as_unretryable(
    emulator: AlibabaEmulator, client: Client, cloud: Inventory
) -> None:
    emulator.faults.drop_rate = 1.0
    exc = raises(UnretryableException, lambda: create(client, cloud.vpc))
    assert isinstance(exc.inner_exception, RetryError)
    assert emulator.flow_logs() == []  # dropped before it was handled
    assert emulator.errors[("CreateFlowLog", "<dropped>")] == 1
    emulator.faults.drop_rate = 0.0
    assert create(client, cloud.vpc)


def test_lost_response_means_the_call_did_happen(emulator: AlibabaEmulator, client: Client, cloud: Inventory) -> None:
    emulator.faults.lost_response_rate = 1.0
    raises(UnretryableException, lambda: create(client, cloud.vpc))
    emulator.faults.lost_response_rate = 0.0
    [log] = emulator.flow_logs()
    assert log["ResourceId"] == cloud.vpc
    assert_cloud_error(raises(ClientException, lambda: create(client, cloud.vpc)), "InvalidResourceId.NotFound", 400)


def test_malformed_answer_means_the_call_did_happen(
    emulator: AlibabaEmulator, client: Client, cloud: Inventory
) -> None:
    emulator.faults.malformed_rate = 1.0
    raises(UnretryableException, lambda: create(client, cloud.vpc))  # the SDK cannot read the cut JSON
    assert emulator.errors[("CreateFlowLog", "<malformed>")] == 1
    emulator.faults.reset()
    assert emulator.faults.malformed_rate == 0.0
    [log] = emulator.flow_logs()
    assert log["ResourceId"] == cloud.vpc


def test_random_faults_can_target_some_actions(emulator: AlibabaEmulator, client: Client) -> None:
    emulator.faults = Faults(throttle_rate=1.0, actions={"CreateFlowLog"})
    assert describe(client).success == "true"
    assert emulator.faults.throttle_rate == 1.0


def test_sdk_retry_options_retry_throttling_with_the_servers_retry_after(
    emulator: AlibabaEmulator, make_client: ClientFactory
) -> None:
    retry = RetryOptions(
        {
            "retryable": True,
            "retryCondition": [
                {"maxAttempts": 3, "errorCode": ["Throttling.User"], "backoff": {"policy": "Fixed", "period": 5}}
            ],
        }
    )
    client = make_client(retry_options=retry)
    emulator.fail_next("DescribeFlowLogs", "Throttling.User", times=2, retry_after_ms=20)
    started = time.perf_counter()
    assert describe(client).success == "true"
    assert time.perf_counter() - started >= 0.04  # slept the server's 20 ms twice
    assert emulator.calls["DescribeFlowLogs"] == 3
    emulator.fail_next("DescribeFlowLogs", "Throttling.User", times=3)
    raises(ThrottlingException, lambda: describe(client))


# --- fail_next --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status", "exc_type"),
    [
        ("OptInRequired.FlowLog", 400, ClientException),
        ("QuotaExceeded.FlowlogCount", 400, ClientException),
        ("OperationFailed.InternalError", 400, ClientException),
        ("IncorrectBusinessStatus.FlowLog", 400, ClientException),
        ("Forbidden.RAM", 403, ClientException),
        ("ServiceUnavailable", 503, ServerException),
        ("Throttling", 400, ThrottlingException),
    ],
)
def test_fail_next_serves_a_code_with_the_clouds_status_and_message(
    emulator: AlibabaEmulator, client: Client, cloud: Inventory, code: str, status: int, exc_type: type[Exception]
) -> None:
    emulator.fail_next("CreateFlowLog", code, times=2)
    for _ in range(2):
        exc = raises(exc_type, lambda: create(client, cloud.vpc))
        assert_cloud_error(exc, code, status)
        assert exc.data["Message"] == ERROR_CATALOGUE[code][1]
    assert emulator.flow_logs() == []
    assert create(client, cloud.vpc)  # the queue is spent


def test_every_catalogued_code_can_be_served(emulator: AlibabaEmulator, client: Client) -> None:
    for code, (status, message) in ERROR_CATALOGUE.items():
        emulator.fail_next("DescribeFlowLogs", code)
        exc = raises(Exception, lambda: describe(client))
        expected = (
            ThrottlingException
            if code.startswith("Throttling")
            else ClientException
            if status < 500
            else ServerException
        )
        assert isinstance(exc, expected), code
        assert (exc.code, exc.status_code, exc.data["Message"]) == (code, status, message)


def test_fail_next_with_custom_message_status_and_any_action(emulator: AlibabaEmulator, client: Client) -> None:
    emulator.fail_next("*", "SomethingNew", message="made up", http_status=502)
    exc = raises(ServerException, lambda: client.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)))
    assert (exc.code, exc.status_code, exc.data["Message"]) == ("SomethingNew", 502, "made up")
    emulator.fail_next("DescribeFlowLogs", "TaskConflict")
    emulator.clear_failures()
    assert describe(client).success == "true"


def test_calls_and_errors_are_counted(emulator: AlibabaEmulator, client: Client) -> None:
    emulator.reset_calls()
    describe(client)
    emulator.fail_next("DescribeFlowLogs", "InternalError")
    raises(ServerException, lambda: describe(client))
    assert emulator.calls == {"DescribeFlowLogs": 2}
    assert emulator.errors == {("DescribeFlowLogs", "InternalError"): 1}
    emulator.reset_calls()
    assert emulator.calls == {}


# --- server lifecycle -------------------------------------------------------------------------------------------------


def test_binds_loopback_only_and_stop_closes_everything() -> None:
    emu = AlibabaEmulator()
    with pytest.raises(RuntimeError):
        _ = emu.endpoint
    with emu:
        assert emu.running and emu.endpoint == f"127.0.0.1:{emu.port}"
        assert emu._loopback.server.server_address[0] == "127.0.0.1"
        port = emu.port
        # A keep-alive client connection, answered once and left idle in its server thread.
        idle = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        idle.request("POST", "/", body=b"")
        answer = idle.getresponse()
        assert answer.status == 400 and json.loads(answer.read())["Code"] == "MissingParameter"
        assert answer.getheader("Connection") != "close"
    assert not emu.running
    assert idle.sock is not None and idle.sock.recv(1) == b""  # the server closed it on stop
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    emu.stop()  # a second stop is harmless
    assert not [t for t in threading.enumerate() if t.name.startswith("alibaba-emulator")]


def test_demo_inventory_serves_the_sdk(make_client: ClientFactory, emulator: AlibabaEmulator) -> None:
    inventory = seed_demo(emulator)
    demo = make_client(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET)
    vpcs = demo.describe_vpcs(m.DescribeVpcsRequest(region_id=inventory.region)).body
    assert [v.vpc_id for v in vpcs.vpcs.vpc] == inventory.vpc_ids
    assert len(inventory.vswitch_ids) == len(inventory.eni_ids) == 4
    flow_log_id = create(
        demo,
        inventory.eni_ids[0],
        "NetworkInterface",
        project_name=inventory.project,
        log_store_name=inventory.logstore,
    )
    assert status_of(demo, flow_log_id) == "Active"


def test_module_entry_point_serves_the_demo_until_interrupted() -> None:
    env = {k: v for k, v in os.environ.items() if k.lower() not in ("http_proxy", "https_proxy")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "multiflow_alibaba_emulator", "--activation-delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        endpoint = first.split("http://", 1)[1].split()[0]
        printed = "".join(proc.stdout.readline() for _ in range(8))
        assert DEMO_ACCESS_KEY_ID in printed and "vpc-demoprod" in printed
        assert endpoint.startswith("127.0.0.1:")
        demo = Client(
            Config(
                access_key_id=DEMO_ACCESS_KEY_ID,
                access_key_secret=DEMO_ACCESS_KEY_SECRET,
                endpoint=endpoint,
                protocol="http",
                region_id=REGION,
            )
        )
        assert demo.describe_vpcs(m.DescribeVpcsRequest(region_id=REGION)).body.total_count == 2
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0  # generous: CI machines are shared and noisy
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


def _imports_of(source: Path) -> set[str]:
    """Absolute modules ``source`` imports (``import a.b`` and ``from a.b import c`` both give ``a.b``)."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            imported.add(node.module)
    return imported


def _not_stdlib(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] not in sys.stdlib_module_names and m != "__future__")


def test_the_emulator_imports_only_the_standard_library_and_multiflow_loopback() -> None:
    package = Path(multiflow_alibaba_emulator.__file__).parent
    imported = set().union(*(_imports_of(source) for source in package.glob("*.py")))
    assert imported, "no imports found: the check is looking in the wrong place"
    assert _not_stdlib(imported) == ["multiflow.loopback"]
    loopback = Path(multiflow_alibaba_emulator.__file__).parents[2] / "multiflow" / "loopback.py"
    assert _not_stdlib(_imports_of(loopback)) == []


def test_importing_the_emulator_loads_no_sdk_no_pydantic_and_no_provider() -> None:
    watched = ("multiflow", "pydantic", "alibabacloud", "darabonba", "pluggy", "yaml")
    script = (
        "import sys, multiflow_alibaba_emulator\n"
        f"print(sorted(m for m in sys.modules if m.startswith({watched!r})"
        " and not m.startswith('multiflow_alibaba_emulator')))"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "['multiflow', 'multiflow.loopback']"


# --- scale ---------------------------------------------------------------------------------------------------------


def test_a_thousand_flow_logs_created_concurrently_and_polled_by_page(
    emulator: AlibabaEmulator, clock: ManualClock, make_client: ClientFactory, cloud: Inventory
) -> None:
    emulator.activation_delay = 30
    enis = [emulator.add_network_interface(REGION, cloud.vswitch) for _ in range(1000)]
    local = threading.local()

    def create_one(eni: str) -> str:
        if not hasattr(local, "client"):
            local.client = make_client()
        return create(local.client, eni, "NetworkInterface")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(create_one, enis))
    client = make_client()
    pending = describe(client, status="Activating", page_size=50)
    assert pending.total_count == "1000" and len(pending.flow_logs.flow_log) == 50
    clock.advance(30)
    seen: list[str] = []
    for page_number in range(1, 21):
        seen += [
            f.flow_log_id
            for f in describe(client, status="Active", page_size=50, page_number=page_number).flow_logs.flow_log
        ]
    assert sorted(seen) == sorted(ids) and len(set(ids)) == 1000
    assert time.perf_counter() - started < 20
