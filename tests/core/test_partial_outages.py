"""Partial outages and flow logs gone between plan and apply (issue #17), against the AWS sandbox.

One cloud that cannot be read does not stop the other: its targets are the plan's failed targets, with their
error, and what could be read is planned and applied. A flow log deleted by hand after plan is done, not failed.
"""

from __future__ import annotations

import io
import socket
import textwrap
from typing import Any

import pytest

import multiflow
from multiflow.cli import rendering
from multiflow.client import Connections
from multiflow.errors import MultiflowError
from multiflow.planning import Action, plan

REGION = "us-east-1"


def fleet_text(ali_region: str = "cn-hangzhou") -> str:
    return textwrap.dedent(f"""\
        name: outage
        flow_logs:
          - name: aws-vpcs
            provider: aws
            regions: [{REGION}]
            resources: {{kind: vpc, where: {{"tag:env": prod}}}}
            destination: {{kind: s3, bucket: central-flowlogs}}
          - name: ali-subnets
            provider: alibaba
            regions: [{ali_region}]
            resources: {{kind: subnet, ids: [vsw-bp1abc]}}
            destination: {{kind: sls, project: flow-project, logstore: flow-store}}
        """)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def down(aws_env: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Connections where AWS is the sandbox and Alibaba a loopback port nothing listens on."""
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    alibaba = {
        "access_key_id": "LTAIfakefakefake",
        "access_key_secret": "not-a-secret",
        "endpoint": f"127.0.0.1:{_closed_port()}",
        "protocol": "http",
        "max_attempts": 1,
        "retry_timeout": 1.0,
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
    }

    def options(provider: str, region: str) -> dict[str, Any]:
        return aws_env.connect_options() if provider == "aws" else alibaba

    with Connections(options) as made:
        yield made


@pytest.fixture
def estate(aws_env: Any) -> list[str]:
    aws_env.create_bucket("central-flowlogs")
    return aws_env.seed_vpcs(REGION, 2, tags={"env": "prod"})


def test_one_cloud_down_does_not_stop_the_other(estate: list[str], down: Connections) -> None:
    fleet = multiflow.loads(fleet_text())
    made = plan(fleet, down)
    assert sorted(c.resource_id for c in made.pending) == sorted(estate)
    assert {c.provider for c in made.changes} == {"aws"}
    [failed] = made.failed_targets
    assert (failed.provider, failed.region, failed.entries) == ("alibaba", "cn-hangzhou", ("ali-subnets",))
    assert isinstance(failed.error, MultiflowError) and not made.complete
    assert made.as_dict()["failed_targets"][0]["provider"] == "alibaba"

    result = multiflow.apply(made, down)
    assert not result.failed and len(result.done) == len(estate)
    assert not result.ok and result.failed_targets == list(made.failed_targets)
    assert sorted(f.resource.id for f in down.client("aws", REGION).describe()) == sorted(estate)

    shown = io.StringIO()
    rendering.print_plan(made, shown)
    assert "Not read (nothing planned there):\n  alibaba cn-hangzhou (entries ali-subnets): " in shown.getvalue()
    assert "1 target(s) could not be read" in shown.getvalue()


def test_a_flow_log_deleted_by_hand_after_plan_is_done_not_failed(estate: list[str], aws_env: Any) -> None:
    with Connections(lambda provider, region: aws_env.connect_options()) as connections:
        fleet = multiflow.loads(fleet_text().split("  - name: ali-subnets")[0])
        assert multiflow.apply(plan(fleet, connections), connections).ok
        destroy = plan(fleet, connections, destroy=True)
        assert {c.action for c in destroy.changes} == {Action.DELETE}
        client = connections.client("aws", REGION)
        gone = destroy.changes[0].flow_log
        assert gone is not None
        client.delete([gone.id])  # by hand, between plan and apply
        result = multiflow.apply(destroy, connections)
        assert result.ok and len(result.done) == len(estate), [str(f.error) for f in result.failed]
        assert client.describe() == []


def test_a_selector_that_matches_nothing_is_warned_about_at_plan_time(estate: list[str], aws_env: Any) -> None:
    with Connections(lambda provider, region: aws_env.connect_options()) as connections:
        text = fleet_text().split("  - name: ali-subnets")[0].replace("prod}", "staging}")
        made = plan(multiflow.loads(text), connections)
    assert made.changes == () and made.complete
    assert made.warnings == ("aws-vpcs: where {'tag:env': 'staging'} matches no vpc in aws us-east-1",)
    shown = io.StringIO()
    rendering.print_plan(made, shown)
    assert "Warning: aws-vpcs: where {'tag:env': 'staging'} matches no vpc in aws us-east-1" in shown.getvalue()
    assert made.as_dict()["warnings"] == list(made.warnings)


def test_explicit_ids_the_region_does_not_have_are_warned_about_at_plan_time(estate: list[str], aws_env: Any) -> None:
    text = fleet_text().split("  - name: ali-subnets")[0]
    text = text.replace('where: {"tag:env": prod}', f"ids: [{estate[0]}, vpc-0000000000000dead]")
    assert "vpc-0000000000000dead" in text
    with Connections(lambda provider, region: aws_env.connect_options()) as connections:
        made = plan(multiflow.loads(text), connections)
    assert made.warnings == ("aws-vpcs: no vpc vpc-0000000000000dead in aws us-east-1 (creates there will fail)",)
    assert {c.resource_id for c in made.pending} == {estate[0], "vpc-0000000000000dead"}  # still planned: a warning
