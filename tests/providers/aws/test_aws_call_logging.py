"""Each EC2 call is logged (``multiflow -v``) with its operation, region, status, request id and attempts, from
botocore's own ``after-call`` events; never a credential."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

import multiflow
from multiflow.cli import main
from multiflow.errors import ServiceError, Throttled

REGION = "us-east-1"
SECRET = "SENTINEL-aws-call-logging-never-print-me"


def call_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "multiflow.aws" and r.levelno == logging.DEBUG]


def test_an_answered_call_is_logged_with_its_request_id_and_attempts(
    aws_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    options = {**aws_env.connect_options(), "aws_secret_access_key": SECRET}
    client = multiflow.connect("aws", region=REGION, **options)
    try:
        with caplog.at_level(logging.DEBUG, logger="multiflow.aws"):
            client.describe()
    finally:
        client.close()
    [line] = call_lines(caplog)
    assert re.fullmatch(r"DescribeFlowLogs us-east-1: HTTP 200, request id \S+, 1 attempt", line), line
    assert SECRET not in caplog.text and options["aws_access_key_id"] not in caplog.text


def test_a_refused_call_is_logged_with_its_code_and_every_attempt(
    aws_env: Any, caplog: pytest.LogCaptureFixture
) -> None:
    proxy = aws_env.fault_proxy(seed=7, throttle_rate=1.0)
    client = multiflow.connect("aws", region=REGION, max_attempts=2, **aws_env.connect_options(proxy=proxy))
    try:
        with caplog.at_level(logging.DEBUG, logger="multiflow.aws"), pytest.raises(Throttled) as caught:
            client.describe()
    finally:
        client.close()
    [line] = call_lines(caplog)
    assert line == (
        f"DescribeFlowLogs us-east-1: HTTP 503 RequestLimitExceeded, request id {caught.value.request_id}, 2 attempts"
    )


def test_a_call_without_an_answer_is_logged_by_its_error_type(
    unused_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    client = multiflow.connect(
        "aws",
        region=REGION,
        endpoint_url=f"http://127.0.0.1:{unused_port}",
        aws_access_key_id="AKIALOGGING",
        aws_secret_access_key=SECRET,
        max_attempts=1,
    )
    try:
        with caplog.at_level(logging.DEBUG, logger="multiflow.aws"), pytest.raises(ServiceError):
            client.describe()
    finally:
        client.close()
    assert call_lines(caplog) == ["DescribeFlowLogs us-east-1: no answer (EndpointConnectionError)"]
    assert SECRET not in caplog.text


def test_verbose_lines_do_not_say_debug_and_warnings_say_their_level(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in aws_env.environment(REGION).items():
        monkeypatch.setenv(name, value)
    assert main(["list", "--provider", "aws", "--region", REGION, "-v"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"multiflow\.aws: DescribeFlowLogs us-east-1: HTTP 200, request id \S+, 1 attempt", err), err
    assert "DEBUG" not in err
    from multiflow.cli.logs import VerboseFormatter

    warning = logging.LogRecord("multiflow", logging.WARNING, __file__, 1, "careful", None, None)
    assert " WARNING multiflow: careful" in VerboseFormatter(levels=False).format(warning)
    debug = logging.LogRecord("multiflow.aws", logging.DEBUG, __file__, 1, "a call", None, None)
    assert " DEBUG multiflow.aws: a call" in VerboseFormatter(levels=True).format(debug)
