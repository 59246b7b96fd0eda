"""Every signature the official clients send, verified by the emulator: V3 (ACS3-HMAC-SHA256, the Tea SDK's
default, tested throughout test_emulator.py), the Tea SDK's ``signature_algorithm="v2"`` RPC signature, and the
classic RPC HMAC-SHA1 ``SignatureVersion=1.0`` GET of aliyun-python-sdk-core (what the aliyun CLI sends)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any

import pytest
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_vpc20160428 import models as m
from alibabacloud_vpc20160428.client import Client
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkcore.request import CommonRequest

from multiflow_alibaba_emulator import AlibabaEmulator
from multiflow_alibaba_emulator.signing import rpc_signature_for, rpc_string_to_sign

from ..conftest import KEY_ID, KEY_SECRET, LOGSTORE, PROJECT, REGION, Inventory


def v2_client(emulator: AlibabaEmulator, secret: str = KEY_SECRET) -> Client:
    """The official Tea SDK client, signing with its RPC ``v2`` algorithm (HMAC-SHA1, parameters signed)."""
    return Client(
        Config(
            access_key_id=KEY_ID,
            access_key_secret=secret,
            endpoint=emulator.endpoint,
            protocol="http",
            region_id=REGION,
            signature_algorithm="v2",
        )
    )


def core_call(emulator: AlibabaEmulator, action: str, secret: str = KEY_SECRET, **params: str) -> dict[str, Any]:
    """One GET through aliyun-python-sdk-core (SignatureVersion 1.0, the signature in the query)."""
    client = AcsClient(KEY_ID, secret, REGION, auto_retry=False, max_retry_time=0, timeout=5, connect_timeout=5)
    request = CommonRequest(domain=emulator.endpoint, version="2016-04-28", action_name=action)
    request.set_method("GET")
    request.set_protocol_type("http")
    request.add_query_param("RegionId", REGION)
    for name, value in params.items():
        request.add_query_param(name, value)
    return dict(json.loads(client.do_action_with_exception(request)))


def test_the_tea_sdks_v2_signature_creates_and_describes(emulator: AlibabaEmulator, cloud: Inventory) -> None:
    client = v2_client(emulator)
    created = client.create_flow_log(
        m.CreateFlowLogRequest(
            region_id=REGION,
            resource_type="VPC",
            resource_id=cloud.vpc,
            traffic_type="All",
            project_name=PROJECT,
            log_store_name=LOGSTORE,
            flow_log_name="signed v2",
            tag=[m.CreateFlowLogRequestTag(key="team", value="net ops")],
        )
    ).body
    found = client.describe_flow_logs(m.DescribeFlowLogsRequest(region_id=REGION, flow_log_id=created.flow_log_id))
    (record,) = found.body.flow_logs.flow_log
    assert record.flow_log_name == "signed v2" and record.tags.tag[0].value == "net ops"


def test_a_wrong_secret_under_v2_is_a_signature_mismatch(emulator: AlibabaEmulator, cloud: Inventory) -> None:
    client = v2_client(emulator, secret="not-the-secret")
    with pytest.raises(ClientException) as info:
        client.describe_flow_logs(m.DescribeFlowLogsRequest(region_id=REGION))
    assert info.value.code == "SignatureDoesNotMatch"
    assert "server string to sign is:POST&%2F&" in info.value.data["Message"]


def test_aliyun_python_sdk_core_signs_with_version_1_0(emulator: AlibabaEmulator, cloud: Inventory) -> None:
    body = core_call(
        emulator,
        "CreateFlowLog",
        ResourceType="VPC",
        ResourceId=cloud.vpc,
        TrafficType="All",
        ProjectName=PROJECT,
        LogStoreName=LOGSTORE,
        FlowLogName="core * name~",
    )
    listed = core_call(emulator, "DescribeFlowLogs", FlowLogId=body["FlowLogId"])
    assert listed["FlowLogs"]["FlowLog"][0]["FlowLogName"] == "core * name~"


def test_a_wrong_secret_under_version_1_0_is_refused_by_name(emulator: AlibabaEmulator, cloud: Inventory) -> None:
    with pytest.raises(ServerException) as info:
        core_call(emulator, "DescribeFlowLogs", secret="wrong")
    assert info.value.get_error_code() == "SignatureDoesNotMatch"


def _signed_get(emulator: AlibabaEmulator, params: dict[str, str], secret: str = KEY_SECRET) -> urllib.request.Request:
    params = {**params}
    params["Signature"] = rpc_signature_for(secret, rpc_string_to_sign("GET", params))
    return urllib.request.Request(f"http://{emulator.endpoint}/?{urllib.parse.urlencode(params)}", method="GET")


def _rpc_params(**overrides: str) -> dict[str, str]:
    params = {
        "Action": "DescribeFlowLogs",
        "Version": "2016-04-28",
        "Format": "JSON",
        "RegionId": REGION,
        "AccessKeyId": KEY_ID,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "nonce-1",
        "Timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v}


def _refusal(request: urllib.request.Request) -> dict[str, Any]:
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    return dict(json.loads(info.value.read()))


@pytest.mark.parametrize(
    ("overrides", "code", "named"),
    [
        ({"SignatureMethod": "HMAC-SHA256"}, "IncompleteSignature", "SignatureMethod"),
        ({"SignatureVersion": "2.0"}, "IncompleteSignature", "SignatureVersion"),
        ({"SignatureNonce": ""}, "MissingParameter", "SignatureNonce"),
        ({"Timestamp": "2001-01-01T00:00:00Z"}, "InvalidTimeStamp.Expired", ""),
        ({"Timestamp": "yesterday"}, "InvalidTimeStamp.Format", "yesterday"),
        ({"AccessKeyId": "LTAIunknown"}, "InvalidAccessKeyId.NotFound", ""),
    ],
)
def test_an_rpc_request_the_emulator_cannot_verify_names_the_problem(
    emulator: AlibabaEmulator, overrides: dict[str, str], code: str, named: str
) -> None:
    body = _refusal(_signed_get(emulator, _rpc_params(**overrides)))
    assert body["Code"] == code
    assert named in body["Message"]


def test_a_version_1_0_get_without_signature_asks_for_it_not_for_action(emulator: AlibabaEmulator) -> None:
    request = urllib.request.Request(f"http://{emulator.endpoint}/?{urllib.parse.urlencode(_rpc_params())}")
    body = _refusal(request)
    assert body["Code"] == "MissingParameter" and body["Message"] == "Missing mandatory parameter Signature."


def test_an_rpc_nonce_is_used_once(emulator: AlibabaEmulator) -> None:
    params = _rpc_params(SignatureNonce="once")
    with urllib.request.urlopen(_signed_get(emulator, params), timeout=5) as answer:
        assert answer.status == 200
    assert _refusal(_signed_get(emulator, params))["Code"] == "SignatureNonceUsed"


def test_a_tampered_rpc_parameter_is_a_mismatch(emulator: AlibabaEmulator) -> None:
    request = _signed_get(emulator, _rpc_params())
    request.full_url = request.full_url.replace("RegionId=cn-hangzhou", "RegionId=cn-beijing")
    assert _refusal(request)["Code"] == "SignatureDoesNotMatch"
