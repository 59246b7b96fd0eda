"""Secrets: a sentinel secret key, used for real on both clouds, never shows in a log line (DEBUG, every logger:
botocore, urllib3, the Alibaba SDK, multiflow, the sandboxes), a repr, a str, an exception or its traceback, the
CLI's output (table or JSON) or its DEBUG log. Bad credentials are an AuthError with the cloud's code, not retried.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.errors import AuthError, MultiflowError
from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE, connect_options
from multiflow_alibaba_emulator import AlibabaEmulator

from .stub_server import stub_server

pytestmark = pytest.mark.timeout(300)

SENTINEL = "SENTINEL-7c1e0d-never-print-me"
WRONG = "SENTINEL-wrong-4b2a-never-print-me-either"
KEY_ID = "LTAI5tSecretsTests000001"
AWS_REGION = "eu-west-3"
ALI_REGION = "cn-shenzhen"
ROOT = Path(__file__).resolve().parents[2]

#: Run the CLI with every logger at DEBUG on stderr.
DEBUG_CLI = (
    # --debug: the command configures logging itself (every logger at DEBUG, the SDKs' included).
    "import sys; from multiflow.cli import main; sys.exit(main([*sys.argv[1:], '--debug']))"
)


def leaks(*texts: str) -> list[str]:
    """The texts that show either secret, or a recognisable part of one."""
    return [t[:300] for t in texts if any(s in t or s[9:25] in t for s in (SENTINEL, WRONG))]


@pytest.fixture(scope="module")
def world(aws_sandbox: Any) -> Iterator[dict[str, Any]]:
    ec2 = aws_sandbox.client("ec2", AWS_REGION)
    vpcs = [ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"] for _ in range(3)]
    aws_sandbox.create_bucket("secrets-flowlogs")
    with AlibabaEmulator() as emu:
        emu.add_account(KEY_ID, SENTINEL)
        emu.add_logstore(ALI_REGION, "secrets-project", "secrets-store")
        vpc = emu.add_vpc(ALI_REGION)
        switches = [emu.add_vswitch(ALI_REGION, vpc) for _ in range(3)]
        yield {"aws": aws_sandbox, "emu": emu, "vpcs": vpcs, "switches": switches}


def fleet_text(world: dict[str, Any]) -> str:
    return textwrap.dedent(f"""\
        name: secrets
        flow_logs:
          - name: vpcs
            provider: aws
            regions: [{AWS_REGION}]
            resources: {{kind: vpc, ids: [{", ".join(world["vpcs"])}]}}
            destination: {{kind: s3, bucket: secrets-flowlogs}}
          - name: vswitches
            provider: alibaba
            regions: [{ALI_REGION}]
            resources: {{kind: subnet, ids: [{", ".join(world["switches"])}]}}
            destination: {{kind: sls, project: secrets-project, logstore: secrets-store}}
        """)


def options(world: dict[str, Any], secret: str = SENTINEL) -> Any:
    def for_(provider: str, region: str) -> dict[str, Any]:
        if provider == "aws":
            return {**world["aws"].connect_options(), "aws_secret_access_key": secret}
        return {**connect_options(world["emu"], KEY_ID, rate_limit=None), "access_key_secret": secret}

    return for_


def texts_of(*objects: Any) -> list[str]:
    out: list[str] = []
    for obj in objects:
        out += [repr(obj), str(obj)]
        if isinstance(obj, BaseException):
            out.append("".join(traceback.format_exception(obj)))
            out.append(repr(vars(obj)))
    return out


def test_the_library_never_shows_the_secret(world: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: botocore, urllib3, the Alibaba SDK, multiflow, sandboxes
    seen: list[str] = []
    fleet = multiflow.fleet.loads(fleet_text(world))
    with Connections(options(world)) as connections:
        plan = multiflow.plan(fleet, connections)
        result = multiflow.apply(plan, connections, timeout=30)
        assert result.ok, result.failed
        seen += [json.dumps(plan.as_dict()), json.dumps(result.as_dict(), default=str)]
        for provider, region in (("aws", AWS_REGION), ("alibaba", ALI_REGION)):
            client = connections.client(provider, region)
            described = client.describe()
            seen += texts_of(client, client.session, connections, *described)
            seen += [f.model_dump_json() for f in described]
            seen.append(repr(vars(client.session)))
        destroyed = multiflow.apply(multiflow.plan(fleet, connections, destroy=True), connections, timeout=30)
        assert destroyed.ok
    # Errors: a wrong secret on both clouds, with the wrong one as the sentinel.
    errors: list[BaseException] = []
    with Connections(options(world, WRONG)) as wrong:
        for provider, region in (("aws", AWS_REGION), ("alibaba", ALI_REGION)):
            try:
                wrong.client(provider, region).describe()
            except MultiflowError as exc:
                errors.append(exc)
    seen += texts_of(*errors)
    seen.append(caplog.text)
    seen += [r.getMessage() for r in caplog.records]
    assert len(caplog.records) > 50  # DEBUG logging was on, and botocore/urllib3 wrote plenty
    assert not leaks(*seen)


def test_bad_credentials_are_auth_errors_with_the_clouds_code_not_retried(world: dict[str, Any]) -> None:
    emu = world["emu"]
    emu.reset_calls()
    client = multiflow.connect("alibaba", region=ALI_REGION, **options(world, WRONG)("alibaba", ALI_REGION))
    with pytest.raises(AuthError) as caught:
        client.describe()
    assert caught.value.code == "SignatureDoesNotMatch" and caught.value.request_id and not caught.value.retryable
    assert emu.calls["DescribeFlowLogs"] == 1
    unknown = multiflow.connect(
        "alibaba",
        region=ALI_REGION,
        **{**options(world)("alibaba", ALI_REGION), "access_key_id": "LTAI5tNobodyHasThisKey01"},
    )
    with pytest.raises(AuthError) as caught:
        unknown.describe()
    assert caught.value.code == "InvalidAccessKeyId.NotFound" and emu.calls["DescribeFlowLogs"] == 2
    # AWS: moto accepts any key, so the proxy answers as AWS does for a bad or unauthorised one.
    proxy = world["aws"].fault_proxy(seed=1)
    aws = multiflow.connect("aws", region=AWS_REGION, **world["aws"].connect_options(proxy=proxy))
    for action, code, status in (
        ("DescribeFlowLogs", "AuthFailure", 401),
        ("DescribeFlowLogs", "UnauthorizedOperation", 403),
        ("DescribeFlowLogs", "SignatureDoesNotMatch", 403),
    ):
        proxy.reset_counters()
        proxy.fail_next(action, code, "You are not authorized to perform this operation.", status, times=10)
        with pytest.raises(AuthError) as caught:
            aws.describe()
        assert caught.value.code == code and not caught.value.retryable
        assert proxy.calls[action] == 1, f"{code} was retried"
        proxy.reset()


def cli_env(world: dict[str, Any], secret: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALIBABA_", "MULTIFLOW_"))}
    env = {k: v for k, v in env.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env.update(world["aws"].environment(AWS_REGION))
    env.update(
        {
            "AWS_SECRET_ACCESS_KEY": secret,
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": secret,
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            ENDPOINT_VARIABLE: world["emu"].endpoint,
            PROTOCOL_VARIABLE: "http",
            "HOME": "/nonexistent-multiflow-home",
        }
    )
    return env


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", DEBUG_CLI, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=ROOT,
    )


def test_the_cli_never_shows_the_secret_even_at_debug(world: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "secrets.yaml"
    path.write_text(fleet_text(world))
    env = cli_env(world, SENTINEL)
    runs = [
        cli(env, "apply", str(path), "--yes"),
        cli(env, "plan", str(path), "-o", "json"),
        cli(env, "list", "--provider", "aws", "--region", AWS_REGION, "-o", "json"),
        cli(env, "list", "--provider", "alibaba", "--region", ALI_REGION, "-o", "json"),
        cli(env, "list", "--provider", "alibaba", "--region", ALI_REGION),
        cli(env, "destroy", str(path), "--yes", "-o", "json"),
    ]
    for done in runs:
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "DEBUG" in runs[0].stderr and "botocore" in runs[0].stderr  # the log was on
    assert len(json.loads(runs[2].stdout)) == len(world["vpcs"])
    assert len(json.loads(runs[3].stdout)) == len(world["switches"])
    # A wrong secret: the cloud's code comes out, the secret does not.
    wrong = cli(cli_env(world, WRONG), "plan", str(path), "-o", "json")
    assert wrong.returncode == 1
    answer = json.loads(wrong.stdout)
    # Each cloud that refuses the key is a failed target of the plan, with the cloud's error (issue #17).
    refused = {t["provider"]: t for t in answer["failed_targets"]}
    assert refused["alibaba"]["error_class"] == "AuthError" and "SignatureDoesNotMatch" in refused["alibaba"]["error"]
    texts = [t for done in [*runs, wrong] for t in (done.stdout, done.stderr)]
    assert not leaks(*texts)


# -- the SDK itself puts a secret into its message ------------------------------------------------------------------

#: An STS token: the one Alibaba credential that goes on the wire (``x-acs-security-token``), so the one an answer
#: can give back. (The AccessKey secret only keys the HMAC and never leaves the process.)
TOKEN = "STS-TOKEN-5d2e9b-never-print-me"


@pytest.fixture
def echoing_gateway() -> Iterator[Any]:
    """An endpoint that answers 502 with a plain-text page showing the request's headers, as some gateways and
    proxies do; the SDK quotes that page in its own exception ("Failed to parse the value as json format, Value:
    ...")."""
    with stub_server() as stub:
        stub.answer = (502, "text/plain", b"Bad gateway. The request was:\n")
        stub.echo = True
        yield stub


def error_texts(error: BaseException) -> list[str]:
    """Everything of an error a user or a log could see: str, repr, args, the traceback and its attributes."""
    return [str(error), repr(error), repr(error.args), "".join(traceback.format_exception(error)), repr(vars(error))]


def test_a_token_the_sdk_quotes_from_an_answer_is_redacted_from_the_error(echoing_gateway: Any) -> None:
    client = multiflow.connect(
        "alibaba",
        region=ALI_REGION,
        access_key_id=KEY_ID,
        access_key_secret=SENTINEL,
        security_token=TOKEN,
        endpoint=f"127.0.0.1:{echoing_gateway.port}",
        protocol="http",
        max_attempts=1,
    )
    with pytest.raises(MultiflowError) as caught:
        client.describe()
    client.close()
    texts = error_texts(caught.value)
    assert "x-acs-security-token: ***" in str(caught.value)  # the SDK quoted the echoed header; redacted
    assert [t[:300] for t in texts if TOKEN in t or SENTINEL in t] == []


def test_a_token_from_a_credentials_client_is_redacted_from_the_error_too(echoing_gateway: Any) -> None:
    from alibabacloud_credentials.client import Client as CredentialClient
    from alibabacloud_credentials.models import Config as CredentialConfig

    sts = CredentialClient(
        CredentialConfig(type="sts", access_key_id=KEY_ID, access_key_secret=SENTINEL, security_token=TOKEN)
    )
    client = multiflow.connect(
        "alibaba",
        region=ALI_REGION,
        credential=sts,
        endpoint=f"127.0.0.1:{echoing_gateway.port}",
        protocol="http",
        max_attempts=1,
    )
    with pytest.raises(MultiflowError) as caught:
        client.describe()
    client.close()
    assert "x-acs-security-token: ***" in str(caught.value)
    assert [t[:300] for t in error_texts(caught.value) if TOKEN in t or SENTINEL in t] == []


def test_the_cli_shows_no_token_the_sdk_quotes_from_an_answer(echoing_gateway: Any) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALIBABA_", "MULTIFLOW_"))}
    env = {k: v for k, v in env.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env.update(
        {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SENTINEL,
            "ALIBABA_CLOUD_SECURITY_TOKEN": TOKEN,
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            ENDPOINT_VARIABLE: f"127.0.0.1:{echoing_gateway.port}",
            PROTOCOL_VARIABLE: "http",
            "HOME": "/nonexistent-multiflow-home",
        }
    )
    done = cli(env, "list", "--provider", "alibaba", "--region", ALI_REGION, "-o", "json")
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert "x-acs-security-token: ***" in answer["error"]  # the gateway's page came through, redacted
    assert TOKEN not in done.stdout + done.stderr and SENTINEL not in done.stdout + done.stderr
