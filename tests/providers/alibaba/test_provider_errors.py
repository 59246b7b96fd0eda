"""The Alibaba provider's errors, retries, rate limit and credentials, through the SDK and real HTTP.

Every error code is made by the emulator (``fail_next``), travels as the cloud's JSON error over HTTP, is raised by
the official SDK and must land on exactly one neutral class with the cloud's code, message, request id and status.
"""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Iterator

import pytest

from multiflow.errors import (
    AccountStateError,
    AlreadyExists,
    AuthError,
    Conflict,
    DryRunSucceeded,
    InvalidRequest,
    NotFound,
    ProviderError,
    QuotaExceeded,
    ServiceError,
    SpecError,
    Throttled,
)
from multiflow_alibaba.errors import ERROR_TABLE, EXACT_CODES
from multiflow_alibaba_emulator import ERROR_CATALOGUE

from .provider_support import KEY_ID, PROXY_VARIABLES, REGION, SECRET, World, running_world

#: Every code of the CreateFlowLog reference (alibaba-vpc-createflowlog-api.txt), in its order.
REFERENCE_CODES = (
    "IncorrectBusinessStatus.FlowLog",
    "OptInRequired.FlowLog",
    "OperationUnsupported.AdvancedFeature",
    "InvalidInstanceId",
    "ProjectOrLogstoreNotExist",
    "SourceProjectNotExist",
    "Unauthorized",
    "OperationUnsupported.action",
    "ParameterInvalid",
    "RuleExist",
    "InvalidHdMonitorStatus",
    "QuotaExceeded.FlowlogCount",
    "InvalidResourceId.NotFound",
    "INVALID_PARAMETER",
    "MissingParameter",
    "InvalidRegionId.NotFound",
    "InvalidResourceType.NotFound",
    "OperationUnsupported.ResourceType",
    "IllegalParam.AggregationInterval",
    "UnsupportedFeature.UserDefinedTrafficPath",
    "IllegalParam.TrafficPath",
    "DuplicatedParam.TrafficPath",
    "IllegalParam.ResourceGroupId",
    "OperationDenied.OperateShareResource",
    "UnsupportedFeature.IpVersion",
    "UnsupportedFeature.VpcAdvancedFeature",
    "OperationFailed.EniTypeNotSupport",
    "IllegalParam.IpVersion",
    "OperationDenied.NisTrafficAnalyzerAggregationIntervalMismatch",
    "OperationDenied.NisTrafficAnalyzerNotFound",
    "OperationDenied.NisTrafficAnalyzerNotActive",
    "OperationFailed.InternalError",
    "MissingParam.TrafficAnalyzerIdOrLogProjectOrLogStore",
    "OperationDenied.AllTrafficPathOfManagedExist",
    "UnsupportedFeature.UserDefinedTrafficPathIpv6",
)

#: The expected class of every code, written out by hand: the table under test must agree with it.
EXPECTED: dict[type[ProviderError], tuple[str, ...]] = {
    # An account/billing state: not the credentials (an AuthError would send users to check their keys).
    AccountStateError: ("IncorrectBusinessStatus.FlowLog",),
    AuthError: (
        "OptInRequired.FlowLog",
        "Unauthorized",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "InvalidTimeStamp.Expired",
        "InvalidTimeStamp.Format",
        "SignatureNonceUsed",
        "InvalidSecurityToken.Malformed",
        "Forbidden",
        "Forbidden.RAM",
    ),
    NotFound: (
        "InvalidInstanceId",
        "ProjectOrLogstoreNotExist",
        "SourceProjectNotExist",
        "OperationDenied.NisTrafficAnalyzerNotFound",
        "InvalidFlowLogId.NotFound",
    ),
    AlreadyExists: ("RuleExist", "InvalidResourceId.NotFound", "OperationDenied.AllTrafficPathOfManagedExist"),
    QuotaExceeded: ("QuotaExceeded.FlowlogCount", "QuotaExceeded.TagNum"),
    InvalidRequest: (
        "OperationUnsupported.AdvancedFeature",
        "OperationUnsupported.action",
        "ParameterInvalid",
        "INVALID_PARAMETER",
        "MissingParameter",
        "InvalidRegionId.NotFound",
        "InvalidResourceType.NotFound",
        "OperationUnsupported.ResourceType",
        "IllegalParam.AggregationInterval",
        "UnsupportedFeature.UserDefinedTrafficPath",
        "IllegalParam.TrafficPath",
        "DuplicatedParam.TrafficPath",
        "IllegalParam.ResourceGroupId",
        "OperationDenied.OperateShareResource",
        "UnsupportedFeature.IpVersion",
        "UnsupportedFeature.VpcAdvancedFeature",
        "OperationFailed.EniTypeNotSupport",
        "IllegalParam.IpVersion",
        "OperationDenied.NisTrafficAnalyzerAggregationIntervalMismatch",
        "MissingParam.TrafficAnalyzerIdOrLogProjectOrLogStore",
        "UnsupportedFeature.UserDefinedTrafficPathIpv6",
        "InvalidParameter",
        "InvalidAction.NotFound",
        "InvalidVersion",
        "InvalidTagKey",
        "InvalidTagValue",
        "Duplicate.TagKey",
    ),
    Conflict: (
        "InvalidHdMonitorStatus",
        "OperationDenied.NisTrafficAnalyzerNotActive",
        "OperationConflict",
        "TaskConflict",
        "LastTokenProcessing",
        "OperationFailed.LastTokenProcessing",
        "IncorrectStatus",
        "IncorrectStatus.flowlog",
        "InvalidStatus",
    ),
    Throttled: ("Throttling", "Throttling.User", "Throttling.Api"),
    ServiceError: (
        "OperationFailed.InternalError",
        "ServiceUnavailable",
        "InternalError",
        "SystemBusy",
        "UnknownError",
    ),
    DryRunSucceeded: ("DryRunOperation",),
}
EXPECTED_CLASS = {code: cls for cls, codes in EXPECTED.items() for code in codes}
RETRYABLE = {
    "InvalidHdMonitorStatus",
    "OperationConflict",
    "TaskConflict",
    "LastTokenProcessing",
    "OperationFailed.LastTokenProcessing",
    "IncorrectStatus",
    "IncorrectStatus.flowlog",
    "InvalidStatus",
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "OperationFailed.InternalError",
    "ServiceUnavailable",
    "InternalError",
    "SystemBusy",
    "UnknownError",
}
REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def world() -> Iterator[World]:
    with running_world() as running:
        yield running


# -- the table -------------------------------------------------------------------------------------------


def test_every_reference_code_is_in_the_table() -> None:
    assert [code for code in REFERENCE_CODES if code not in EXACT_CODES] == []
    assert [code for code in REFERENCE_CODES if code not in EXPECTED_CLASS] == []


def test_the_table_agrees_with_the_expectations() -> None:
    assert {code: ERROR_TABLE.classify(code) for code in EXPECTED_CLASS} == EXPECTED_CLASS


def test_the_table_retries_exactly_the_expected_codes() -> None:
    assert {code for code in EXPECTED_CLASS if ERROR_TABLE.is_retryable(code)} == RETRYABLE
    assert ERROR_TABLE.is_retryable("NeverHeardOf", 503) and not ERROR_TABLE.is_retryable("Forbidden.RAM", 403)


def test_patterns_and_statuses() -> None:
    assert ERROR_TABLE.classify("Throttling.Product") is Throttled
    assert ERROR_TABLE.classify("Some.Throttling.Code") is Throttled
    assert ERROR_TABLE.classify("WhateverItIs", 503) is ServiceError
    assert (
        ERROR_TABLE.classify("ParameterInvalid", 500) is ServiceError
    )  # a 5xx is the server's failure, whatever its code
    assert ERROR_TABLE.classify("InvalidVSwitchId.NotFound") is NotFound
    assert ERROR_TABLE.classify("IllegalParam.Anything") is InvalidRequest
    assert ERROR_TABLE.classify("QuotaExceeded.Something") is QuotaExceeded
    assert ERROR_TABLE.classify("IncorrectStatus.Vpc") is Conflict
    assert ERROR_TABLE.classify("Forbidden.SubUser") is AuthError
    assert ERROR_TABLE.classify("NeverHeardOf", 403) is AuthError
    assert ERROR_TABLE.classify("NeverHeardOf", 404) is NotFound
    assert ERROR_TABLE.classify("NeverHeardOf", 400) is InvalidRequest
    assert ERROR_TABLE.classify("NeverHeardOf") is ProviderError


@pytest.mark.parametrize("code", sorted(EXPECTED_CLASS))
def test_each_code_over_http_lands_on_its_class(world: World, code: str) -> None:
    client = world.connect(max_attempts=1)
    world.emu.fail_next("DescribeFlowLogs", code)
    with pytest.raises(ProviderError) as caught:
        client.describe()
    error = caught.value
    status, message = ERROR_CATALOGUE.get(code, (400, None))
    assert type(error) is EXPECTED_CLASS[code]
    assert (error.provider, error.code, error.operation, error.http_status) == (
        "alibaba",
        code,
        "DescribeFlowLogs",
        status,
    )
    if message is not None and code != "OptInRequired.FlowLog":
        assert error.message == message
    assert error.request_id and REQUEST_ID.match(error.request_id)
    assert error.retryable == (code in RETRYABLE)
    assert world.emu.calls["DescribeFlowLogs"] == 1


def test_opt_in_required_says_how_to_open_the_service(world: World) -> None:
    client = world.connect()
    world.emu.fail_next("DescribeFlowLogs", "OptInRequired.FlowLog")
    with pytest.raises(AuthError, match=r"open_service=True.*You are not authorized to use the requested service"):
        client.describe()


def test_operation_unsupported_with_the_service_open_stays_invalid_request(world: World) -> None:
    client = world.connect()
    world.emu.fail_next("DescribeFlowLogs", "OperationUnsupported.action")
    with pytest.raises(InvalidRequest, match="This action is not support"):
        client.describe()
    assert world.emu.calls["GetFlowLogServiceStatus"] == 1


def test_per_resource_create_errors_keep_code_and_resource(world: World) -> None:
    client = world.connect()
    world.emu.fail_next("CreateFlowLog", "QuotaExceeded.FlowlogCount")
    with pytest.raises(QuotaExceeded) as caught:
        client.create(world.spec(), wait=False)
    assert caught.value.resource_id and caught.value.resource_id.startswith("vsw-")
    assert caught.value.operation == "CreateFlowLog"


# -- retries ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "times"), [("Throttling.User", 3), ("ServiceUnavailable", 2), ("InternalError", 2), ("TaskConflict", 2)]
)
def test_retryable_errors_are_retried(world: World, code: str, times: int) -> None:
    client = world.connect()
    world.emu.fail_next("DescribeFlowLogs", code, times=times)
    assert client.describe() == []
    assert world.emu.calls["DescribeFlowLogs"] == times + 1


def test_throttling_is_retried_only_until_the_deadline(world: World) -> None:
    client = world.connect(retry_timeout=1.0, max_attempts=100)
    world.emu.fail_next("DescribeFlowLogs", "Throttling.Api", times=1000)
    started = time.monotonic()
    with pytest.raises(Throttled):
        client.describe()
    assert time.monotonic() - started < 3.0
    assert 2 <= world.emu.calls["DescribeFlowLogs"] < 20


def test_retries_stop_after_max_attempts(world: World) -> None:
    client = world.connect(max_attempts=3)
    world.emu.fail_next("DescribeFlowLogs", "SystemBusy", times=10)
    with pytest.raises(ServiceError):
        client.describe()
    assert world.emu.calls["DescribeFlowLogs"] == 3


@pytest.mark.parametrize("code", ["InvalidAccessKeyId.Inactive", "Forbidden.RAM", "SignatureDoesNotMatch"])
def test_auth_errors_are_never_retried(world: World, code: str) -> None:
    client = world.connect()
    world.emu.fail_next("DescribeFlowLogs", code, times=5)
    with pytest.raises(AuthError):
        client.describe()
    assert world.emu.calls["DescribeFlowLogs"] == 1


def test_bad_parameters_are_not_retried(world: World) -> None:
    client = world.connect()
    world.emu.fail_next("DescribeFlowLogs", "ParameterInvalid", times=5)
    with pytest.raises(InvalidRequest):
        client.describe()
    assert world.emu.calls["DescribeFlowLogs"] == 1


def test_dropped_connections_are_retried(world: World) -> None:
    client = world.connect()
    world.emu.faults.actions = {"DescribeFlowLogs"}
    world.emu.faults.drop_rate = 1.0
    healer = threading.Timer(0.3, world.emu.faults.reset)
    healer.start()
    try:
        assert client.describe() == []
    finally:
        healer.cancel()
    assert world.emu.errors[("DescribeFlowLogs", "<dropped>")] >= 1


def test_a_dead_endpoint_is_a_connection_error(world: World) -> None:
    client = world.connect(max_attempts=2)
    world.emu.stop()
    with pytest.raises(ServiceError) as caught:
        client.describe()
    assert caught.value.code == "ConnectionError" and caught.value.retryable


# -- rate limit ------------------------------------------------------------------------------------------


def test_the_limiter_finds_the_clouds_qps_below_the_rate_limit(world: World) -> None:
    switches = [world.vswitch() for _ in range(24)]
    world.emu.faults.qps_limits = {"CreateFlowLog": 8.0}
    client = world.connect(rate_limit=20.0, max_concurrency=8)
    created = client.create(world.spec(ids=switches), wait=False)
    assert len(created) == 24
    throttled = world.emu.errors[("CreateFlowLog", "Throttling.Api")]
    # At a fixed 20/s the cloud would refuse more than half of the creates; the limiter falls to what it accepts.
    # What it may lose is the first round: slow start (half again per accepted call) overshoots the cloud's 8/s
    # until the first throttle comes back, by at most the calls in flight then (8 threads).
    assert throttled <= 8
    limiter = client.session._transport.limits("CreateFlowLog")
    assert limiter.decreases >= 1 and limiter.rate < 20.0


def test_without_a_rate_limit_throttling_is_retried(world: World) -> None:
    switches = [world.vswitch() for _ in range(8)]
    world.emu.faults.qps_limits = {"CreateFlowLog": 5.0}
    client = world.connect(rate_limit=None, max_concurrency=8)
    created = client.create(world.spec(ids=switches), wait=False)
    assert len(created) == 8
    assert world.emu.errors[("CreateFlowLog", "Throttling.Api")] >= 1


# -- secrets ---------------------------------------------------------------------------------------------


def test_the_secret_never_shows(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    client = world.connect()
    texts += [repr(client), str(client), repr(client.session), repr(vars(client.session).get("_redact"))]
    client.create(world.spec(), wait=False)
    wrong = world.connect(access_key_secret=SECRET[::-1])
    errors: list[BaseException] = []
    for code in ("SignatureDoesNotMatch", "ServiceUnavailable", "OptInRequired.FlowLog"):
        world.emu.fail_next("DescribeFlowLogs", code, times=20)
        try:
            world.connect(max_attempts=2).describe()
        except ProviderError as exc:
            errors.append(exc)
        world.emu.clear_failures()
    try:
        wrong.describe()
    except AuthError as exc:
        errors.append(exc)
    assert [type(e) for e in errors] == [AuthError, ServiceError, AuthError, AuthError]
    assert errors[-1].code == "SignatureDoesNotMatch"  # type: ignore[attr-defined]
    for error in errors:
        texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts.append(caplog.text)
    for text in texts:
        assert SECRET not in text and SECRET[::-1] not in text


# -- credentials: the default chain (read by the SDK at import, so in a fresh process) -----------------------

CHAIN_SCRIPT = """
import json, sys, multiflow
from multiflow.errors import ProviderError
endpoint = sys.argv[1]
client = multiflow.connect("alibaba", region="cn-hangzhou", endpoint=endpoint, protocol="http", rate_limit=None)
try:
    print(json.dumps({"count": len(client.describe())}))
except ProviderError as exc:
    print(json.dumps({"error": type(exc).__name__, "code": exc.code, "text": str(exc)}))
"""


def run_with_environment(world: World, tmp_path: object, env: dict[str, str]) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_") and k not in PROXY_VARIABLES}
    clean.update({"HOME": str(tmp_path), "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true"})
    clean.update(env)
    done = subprocess.run(
        [sys.executable, "-c", CHAIN_SCRIPT, world.emu.endpoint],
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert SECRET not in done.stdout + done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_keys_from_the_environment_chain(world: World, tmp_path: object) -> None:
    client = world.connect()
    client.create(world.spec(), wait=False)
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET}
    assert run_with_environment(world, tmp_path, env) == {"count": 1}


def test_no_credentials_anywhere_is_an_auth_error(world: World, tmp_path: object) -> None:
    result = run_with_environment(world, tmp_path, {})
    assert (result["error"], result["code"]) == ("AuthError", "NoCredentials")
    assert world.emu.calls == {}


@pytest.mark.parametrize(
    ("given", "missing"),
    [({"access_key_id": KEY_ID}, "access_key_secret"), ({"access_key_secret": SECRET}, "access_key_id")],
)
def test_keys_must_come_in_pairs(given: dict[str, str], missing: str) -> None:
    import multiflow

    with pytest.raises(SpecError) as caught:
        multiflow.connect("alibaba", region=REGION, **given)
    assert caught.value.field == missing and caught.value.provider == "alibaba"
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "missing"),
    [
        ("ALIBABA_CLOUD_ACCESS_KEY_ID", KEY_ID, "ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
        ("ALIBABA_CLOUD_ACCESS_KEY_SECRET", SECRET, "ALIBABA_CLOUD_ACCESS_KEY_ID"),
    ],
)
def test_half_a_key_pair_in_the_environment_is_an_auth_error_naming_the_missing_variable(
    world: World, tmp_path: object, variable: str, value: str, missing: str
) -> None:
    result = run_with_environment(world, tmp_path, {variable: value})  # which also checks the secret is not shown
    assert (result["error"], result["code"]) == ("AuthError", "NoCredentials")
    assert f"{variable} is set but {missing} is not" in str(result["text"])
    assert world.emu.calls == {}
