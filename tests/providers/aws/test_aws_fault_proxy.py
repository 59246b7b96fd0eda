"""The AWS sandbox's fault proxy: each fault reaches boto3 over the wire as AWS's would, and is counted."""

from __future__ import annotations

import time
from typing import Any

import boto3
import botocore.exceptions
import pytest

import multiflow
from multiflow.errors import AuthError, ServiceError, Throttled
from multiflow_aws.fault_proxy import FaultProxy

REGION = "us-east-1"

pytestmark = pytest.mark.timeout(120)


def spec(vpcs: list[str], bucket: str) -> multiflow.FlowLogSpec:
    return multiflow.FlowLogSpec(resources={"kind": "vpc", "ids": vpcs}, destination={"kind": "s3", "bucket": bucket})


def connect(aws_env: Any, proxy: FaultProxy, **options: Any) -> multiflow.Client:
    return multiflow.connect("aws", region=REGION, **aws_env.connect_options(proxy=proxy), **options)


def flow_log_ids(aws_env: Any) -> list[str]:
    return [f["FlowLogId"] for f in aws_env.client("ec2").describe_flow_logs()["FlowLogs"]]


def test_throttling_is_ec2s_503_request_limit_exceeded(aws_env: Any) -> None:
    proxy = aws_env.fault_proxy(seed=1, throttle_rate=1.0)
    with pytest.raises(Throttled) as caught:
        connect(aws_env, proxy, max_attempts=1).describe()
    assert (caught.value.code, caught.value.http_status) == ("RequestLimitExceeded", 503)
    assert caught.value.request_id and proxy.injected == {"throttle": 1}


def test_server_errors_are_500_or_503_and_botocore_retries_them(aws_env: Any) -> None:
    proxy = aws_env.fault_proxy(seed=2, server_error_rate=1.0)
    with pytest.raises(ServiceError) as caught:
        connect(aws_env, proxy, max_attempts=3).describe()
    assert (caught.value.code, caught.value.http_status) in {("InternalError", 500), ("ServiceUnavailable", 503)}
    assert proxy.calls["DescribeFlowLogs"] == 3 and proxy.injected["server_error"] == 3
    proxy.server_error_rate = 0.5
    assert connect(aws_env, proxy, max_attempts=10).describe() == []


def test_a_dropped_call_never_reaches_moto(aws_env: Any) -> None:
    [vpc] = aws_env.seed_vpcs(REGION, 1)
    bucket = aws_env.create_bucket("dropped")
    proxy = aws_env.fault_proxy(seed=3, drop_rate=1.0)
    with pytest.raises(ServiceError) as caught:
        connect(aws_env, proxy, max_attempts=2).create(spec([vpc], bucket))
    assert caught.value.code == "ConnectionError" and caught.value.resource_id == vpc
    assert flow_log_ids(aws_env) == [] and proxy.injected == {"drop": 2}


def test_a_lost_answer_changed_moto_and_the_client_token_makes_the_retry_safe(aws_env: Any) -> None:
    vpcs = aws_env.seed_vpcs(REGION, 3)
    bucket = aws_env.create_bucket("lost")
    proxy = aws_env.fault_proxy(seed=4, lost_response_rate=1.0, actions=["CreateFlowLogs"])
    with pytest.raises(multiflow.errors.PartialFailure) as caught:
        connect(aws_env, proxy, max_attempts=2).create(spec(vpcs, bucket))
    assert {f.error.code for f in caught.value.failed} == {"ConnectionError"}  # type: ignore[union-attr]
    made = flow_log_ids(aws_env)
    assert len(made) == 3  # the first attempt made them; botocore's retry, same token, made none
    proxy.reset()
    again = connect(aws_env, proxy).create(spec(vpcs, bucket))
    assert sorted(f.id for f in again) == sorted(made) == sorted(flow_log_ids(aws_env))


def test_latency_delays_the_answer(aws_env: Any) -> None:
    proxy = aws_env.fault_proxy(seed=5, latency_rate=1.0, latency=0.3)
    started = time.monotonic()
    assert connect(aws_env, proxy).describe() == []
    assert time.monotonic() - started >= 0.3 and proxy.injected == {"latency": 1}


def test_scripted_auth_failure_is_not_retried(aws_env: Any) -> None:
    proxy = aws_env.fault_proxy(seed=6)
    proxy.fail_next("DescribeFlowLogs", "AuthFailure", "AWS was not able to validate the credentials", 401, times=5)
    with pytest.raises(AuthError) as caught:
        connect(aws_env, proxy).describe()
    assert caught.value.code == "AuthFailure" and not caught.value.retryable
    assert proxy.calls["DescribeFlowLogs"] == 1


def test_errors_take_the_protocol_of_the_call(aws_env: Any) -> None:
    proxy = aws_env.fault_proxy(seed=7)
    for service, action, call in (
        ("s3", "GET /", lambda c: c.list_buckets()),
        ("logs", "DescribeLogGroups", lambda c: c.describe_log_groups()),
        ("iam", "ListRoles", lambda c: c.list_roles()),
    ):
        proxy.fail_next(action, "AccessDenied", "no", 403)
        boto = boto3.client(
            service,
            region_name=REGION,
            endpoint_url=proxy.endpoint_url,
            aws_access_key_id="AKIAEXAMPLE",
            aws_secret_access_key="not-a-secret",
        )
        with pytest.raises(botocore.exceptions.ClientError) as caught:
            call(boto)
        assert caught.value.response["Error"]["Code"] == "AccessDenied", service
        call(boto)  # the next one goes through to moto


def test_stop_closes_the_endpoint(aws_env: Any) -> None:
    proxy = aws_env.fault_proxy(seed=8)
    client = connect(aws_env, proxy, max_attempts=1, connect_timeout=1)
    assert client.describe() == []
    proxy.stop()
    proxy.stop()  # twice is fine
    with pytest.raises(ServiceError) as caught:
        client.describe()
    assert caught.value.code == "ConnectionError"


def test_the_proxy_binds_loopback_only_and_needs_plain_http() -> None:
    with pytest.raises(ValueError, match="plain http"):
        FaultProxy("https://example.com")
    with FaultProxy("http://127.0.0.1:9", seed=0) as proxy:
        assert proxy.endpoint_url.startswith("http://127.0.0.1:")
        assert "127.0.0.1" in repr(proxy)


class FakeClock:
    """A clock the test moves by hand (no timed assertions)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rate_limits_are_token_buckets_per_api_class(aws_env: Any) -> None:
    from multiflow_aws.request_tokens import DEFAULT_BUCKETS, Bucket, RequestTokens, api_class

    assert {"mutating": Bucket(50, 5), "non_mutating": Bucket(100, 20)} == DEFAULT_BUCKETS
    assert (api_class("DescribeFlowLogs"), api_class("CreateFlowLogs")) == ("non_mutating", "mutating")
    clock = FakeClock()
    tokens = RequestTokens({"mutating": Bucket(1, 1), "non_mutating": Bucket(3, 2)}, clock=clock)
    proxy = aws_env.fault_proxy(rate_limits=tokens)
    client = connect(aws_env, proxy, max_attempts=1)
    for _ in range(3):
        client.describe()
    with pytest.raises(Throttled) as caught:
        client.describe()  # the describe bucket is empty
    assert (caught.value.code, caught.value.http_status) == ("RequestLimitExceeded", 503)
    assert proxy.injected == {"rate_limit": 1}
    clock.now += 0.5  # one token back at 2 a second
    client.describe()
    with pytest.raises(Throttled):
        client.describe()
    clock.now += 100.0  # refilled, but never beyond the bucket's size
    for _ in range(3):
        client.describe()
    with pytest.raises(Throttled):
        client.describe()
    assert proxy.injected == {"rate_limit": 3}
    proxy.reset()
    client.describe()  # off again
