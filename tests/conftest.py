"""Shared fixtures: sandboxes on loopback that always stop, and a recorder of what boto3 sends on the wire."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

import pytest

#: The provider conformance kit, opted into as a plugin author would.
pytest_plugins = ["multiflow.testing"]

# No test may reach past loopback: the SDKs' credential chains would otherwise ask the cloud's instance-metadata
# hosts (169.254.169.254 for AWS, 100.100.100.200 for Alibaba) when a test leaves credentials out. Set before any
# SDK is imported (the credential libraries read these when they load), and inherited by every subprocess.
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"


@pytest.fixture(autouse=True)
def _fresh_settle_times() -> Iterator[None]:
    """Each test's waits start without what earlier tests' waits learned of their clouds' settle times
    (:data:`multiflow.wait_schedule.SETTLE_TIMES`, one per process), so no test's timing depends on the order."""
    from multiflow.wait_schedule import SETTLE_TIMES

    SETTLE_TIMES.clear()
    yield
    SETTLE_TIMES.clear()


@pytest.fixture(scope="session")
def aws_sandbox() -> Iterator[Any]:
    """moto's server on 127.0.0.1 for the whole run; stopped at the end."""
    from multiflow_aws.sandbox import AwsSandbox

    with AwsSandbox() as sandbox:
        yield sandbox


@pytest.fixture
def aws_env(aws_sandbox: Any) -> Any:
    """The AWS sandbox, emptied before the test."""
    aws_sandbox.reset()
    return aws_sandbox


@pytest.fixture
def aws_client(aws_env: Any) -> Iterator[Any]:
    """A multiflow client for us-east-1 of the AWS sandbox."""
    import multiflow

    client = multiflow.connect("aws", region="us-east-1", **aws_env.connect_options())
    yield client
    client.close()


@dataclass
class WireRecorder:
    """Every EC2 request boto3 sent, as (operation, decoded form parameters), in order."""

    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)

    def __call__(self, request: Any, **_: Any) -> None:
        body = request.body.decode() if isinstance(request.body, bytes) else (request.body or "")
        params = parse_qs(body)
        self.requests.append((params.get("Action", ["?"])[0], params))

    def calls(self, action: str) -> list[dict[str, list[str]]]:
        """The parameters of each request of ``action``."""
        return [params for name, params in self.requests if name == action]


@pytest.fixture
def wire(aws_client: Any) -> WireRecorder:
    """Records what the AWS client's boto3 sends (observes only; the request goes on unchanged)."""
    recorder = WireRecorder()
    aws_client.session.ec2.meta.events.register("before-send.ec2", recorder)
    return recorder


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
