"""The emulator's tags, resource groups, in-place changes and BusinessStatus, through the official SDK."""

from __future__ import annotations

from typing import Any

import pytest
from alibabacloud_tea_openapi import utils_models
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client
from darabonba.runtime import RuntimeOptions

from multiflow_alibaba_emulator import AlibabaEmulator, ManualClock

from ..conftest import LOGSTORE, PROJECT, REGION, Inventory


def _create(client: Client, cloud: Inventory, **fields: Any) -> str:
    request = m.CreateFlowLogRequest(
        region_id=REGION,
        resource_type="VPC",
        resource_id=cloud.vpc,
        traffic_type="All",
        project_name=PROJECT,
        log_store_name=LOGSTORE,
        **fields,
    )
    return str(client.create_flow_log(request).body.flow_log_id)


def _record(client: Client, flow_log_id: str) -> Any:
    (record,) = client.describe_flow_logs(
        m.DescribeFlowLogsRequest(region_id=REGION, flow_log_id=flow_log_id)
    ).body.flow_logs.flow_log
    return record


def _active(emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory) -> str:
    flow_log_id = _create(client, cloud, tag=[m.CreateFlowLogRequestTag(key="keep", value="1")])
    clock.advance(emulator.activation_delay + 1)
    return flow_log_id


def _tags(client: Client, flow_log_id: str) -> dict[str, str]:
    return {t.key: t.value for t in _record(client, flow_log_id).tags.tag}


def test_tag_and_untag_a_flow_log(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    client.tag_resources(
        m.TagResourcesRequest(
            region_id=REGION,
            resource_type="FLOWLOG",
            resource_id=[flow_log_id],
            tag=[m.TagResourcesRequestTag(key="team", value="net"), m.TagResourcesRequestTag(key="keep", value="2")],
        )
    )
    assert _tags(client, flow_log_id) == {"keep": "2", "team": "net"}
    listed = client.list_tag_resources(
        m.ListTagResourcesRequest(region_id=REGION, resource_type="FLOWLOG", resource_id=[flow_log_id])
    ).body.tag_resources.tag_resource
    assert {(t.resource_id, t.tag_key, t.tag_value) for t in listed} == {
        (flow_log_id, "keep", "2"),
        (flow_log_id, "team", "net"),
    }
    client.un_tag_resources(
        m.UnTagResourcesRequest(region_id=REGION, resource_type="FLOWLOG", resource_id=[flow_log_id], tag_key=["team"])
    )
    assert _tags(client, flow_log_id) == {"keep": "2"}
    client.un_tag_resources(
        m.UnTagResourcesRequest(region_id=REGION, resource_type="FLOWLOG", resource_id=[flow_log_id], all=True)
    )
    assert _tags(client, flow_log_id) == {}


def test_list_tag_resources_by_tag_pages_with_next_token(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    tags = [m.TagResourcesRequestTag(key=f"k{i}", value="v") for i in range(5)]
    client.tag_resources(
        m.TagResourcesRequest(region_id=REGION, resource_type="FLOWLOG", resource_id=[flow_log_id], tag=tags)
    )
    seen: list[str] = []
    token = None
    for _ in range(10):
        body = client.list_tag_resources(
            m.ListTagResourcesRequest(
                region_id=REGION,
                resource_type="FLOWLOG",
                tag=[m.ListTagResourcesRequestTag(key="k0", value="v")],
                max_results=2,
                next_token=token,
            )
        ).body
        seen += [t.tag_key for t in body.tag_resources.tag_resource]
        token = body.next_token or None
        if token is None:
            break
    assert sorted(seen) == ["k0", "k1", "k2", "k3", "k4", "keep"]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (
            m.TagResourcesRequest(
                region_id=REGION,
                resource_type="FLOWLOG",
                resource_id=["fl-nope"],
                tag=[m.TagResourcesRequestTag(key="a", value="b")],
            ),
            "InvalidFlowLogId.NotFound",
        ),
        (
            m.TagResourcesRequest(
                region_id=REGION,
                resource_type="FLOWLOG",
                resource_id=["FLOW"],
                tag=[m.TagResourcesRequestTag(key="aliyun:x", value="b")],
            ),
            "InvalidTagKey",
        ),
        (
            m.TagResourcesRequest(
                region_id=REGION,
                resource_type="ROUTETABLE",
                resource_id=["x"],
                tag=[m.TagResourcesRequestTag(key="a", value="b")],
            ),
            "InvalidParameter",
        ),
        (
            m.TagResourcesRequest(
                region_id=REGION, resource_type="FLOWLOG", tag=[m.TagResourcesRequestTag(key="a", value="b")]
            ),
            "MissingParameter",
        ),
    ],
)
def test_tag_resources_refusals(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory, request_: Any, code: str
) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    if request_.resource_id == ["FLOW"]:
        request_.resource_id = [flow_log_id]
    with pytest.raises(ClientException) as info:
        client.tag_resources(request_)
    assert info.value.code == code


def test_tags_past_twenty_are_refused(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    tags = [m.TagResourcesRequestTag(key=f"k{i}", value="v") for i in range(20)]
    with pytest.raises(ClientException) as info:
        client.tag_resources(
            m.TagResourcesRequest(region_id=REGION, resource_type="FLOWLOG", resource_id=[flow_log_id], tag=tags)
        )
    assert info.value.code == "QuotaExceeded.TagNum"
    assert _tags(client, flow_log_id) == {"keep": "1"}


def test_move_resource_group(emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    emulator.add_resource_group("rg-moved")
    client.move_resource_group(
        m.MoveResourceGroupRequest(
            region_id=REGION, resource_id=flow_log_id, resource_type="FLOWLOG", new_resource_group_id="rg-moved"
        )
    )
    assert _record(client, flow_log_id).resource_group_id == "rg-moved"
    for group, code in (("rg-unknown", "IllegalParam.ResourceGroupId"),):
        with pytest.raises(ClientException) as info:
            client.move_resource_group(
                m.MoveResourceGroupRequest(
                    region_id=REGION, resource_id=flow_log_id, resource_type="FLOWLOG", new_resource_group_id=group
                )
            )
        assert info.value.code == code
    with pytest.raises(ClientException) as info:
        client.move_resource_group(
            m.MoveResourceGroupRequest(
                region_id=REGION, resource_id="fl-gone", resource_type="FLOWLOG", new_resource_group_id="rg-moved"
            )
        )
    assert info.value.code == "InvalidFlowLogId.NotFound"


def test_modify_takes_ip_version_and_log_format(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    client.modify_flow_log_attribute(
        m.ModifyFlowLogAttributeRequest(
            region_id=REGION, flow_log_id=flow_log_id, ip_version="DualStack", log_format="${srcaddr}"
        )
    )
    record = _record(client, flow_log_id)
    assert record.ip_version == "DualStack"


def test_modify_refuses_a_parameter_it_does_not_emulate_by_name(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    params = utils_models.Params(
        action="ModifyFlowLogAttribute",
        version="2016-04-28",
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    query = {"RegionId": REGION, "FlowLogId": flow_log_id, "FlowLogName": "n", "TrafficType": "Drop"}
    with pytest.raises(ClientException) as info:
        client.call_api(params, utils_models.OpenApiRequest(query=query), RuntimeOptions())
    assert info.value.code == "InvalidParameter" and "'TrafficType'" in info.value.data["Message"]
    assert _record(client, flow_log_id).flow_log_name != "n"


def test_business_status_follows_the_account_and_the_logstore(
    emulator: AlibabaEmulator, clock: ManualClock, client: Client, cloud: Inventory
) -> None:
    flow_log_id = _active(emulator, clock, client, cloud)
    assert _record(client, flow_log_id).business_status == "Normal"
    client.deactive_flow_log(m.DeactiveFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id))
    clock.advance(emulator.deactivation_delay + 1)
    emulator.set_overdue(True)
    assert _record(client, flow_log_id).business_status == "Abnormal"
    modify = m.ModifyFlowLogAttributeRequest(region_id=REGION, flow_log_id=flow_log_id, flow_log_name="x")
    start = m.ActiveFlowLogRequest(region_id=REGION, flow_log_id=flow_log_id)
    for call in (lambda: client.modify_flow_log_attribute(modify), lambda: client.active_flow_log(start)):
        with pytest.raises(ClientException) as info:
            call()
        assert info.value.code == "IncorrectBusinessStatus.FlowLog"
    emulator.set_overdue(False)
    assert _record(client, flow_log_id).business_status == "Normal"
    emulator.remove_logstore(REGION, PROJECT, LOGSTORE)
    record = _record(client, flow_log_id)
    assert record.business_status == "Abnormal" and record.flow_log_deliver_status == "FAILED"
    assert "ProjectOrLogstoreNotExist" in record.flow_log_deliver_error_message
    emulator.add_logstore(REGION, PROJECT, LOGSTORE)
    emulator.set_business_status(flow_log_id, "Abnormal")
    assert _record(client, flow_log_id).business_status == "Abnormal"


def test_an_overdue_account_creates_nothing(emulator: AlibabaEmulator, client: Client, cloud: Inventory) -> None:
    emulator.set_overdue(True)
    with pytest.raises(ClientException) as info:
        _create(client, cloud)
    assert info.value.code == "IncorrectBusinessStatus.FlowLog"
