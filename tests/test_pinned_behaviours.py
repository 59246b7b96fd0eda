"""Behaviours users rely on, pinned so a regression cannot land green (issue #18).

Each test drives a fleet file through ``multiflow.loads``/``multiflow.plan``/``plan.apply()`` against a sandbox
(moto's server for AWS, the wire-level emulator for Alibaba) and reads the cloud back through the SDK or the
emulator's own view, never through multiflow's private helpers:

* a change to a provider's option block alone is planned as a change (it cannot be read back from the cloud);
* a flow log of another fleet, or one made by hand, on a wanted resource is a conflict, never adopted: not at plan
  time, and not when it appears between plan and apply;
* a flow log being deleted is neither kept nor deleted again;
* an entry's tags win over the defaults' tags, key by key.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

import multiflow
from multiflow.planning import MANAGED_TAG, SPEC_TAG, Action, Connections

# The emulator (its import path may move with the emulator's own package; kept to this one place).
from multiflow_alibaba.sandbox import AlibabaEmulator, ManualClock
from multiflow_alibaba.sandbox_support import connect_options

AWS_REGION = "us-east-1"
ALI_REGION = "cn-hangzhou"
ALI_KEY_ID = "LTAI5tPinnedBehaviours01"
ALI_SECRET = "pinned-behaviours-secret"
PROJECT = "pinned-project"
LOGSTORE = "pinned-store"
BUCKET = "pinned-flowlogs"


# -- sandboxes ------------------------------------------------------------------------------------------------------


@pytest.fixture
def aws(aws_env: Any) -> Iterator[tuple[Any, Connections, list[str]]]:
    """The emptied AWS sandbox, connections to it, and three VPCs with a bucket for their flow logs."""
    aws_env.create_bucket(BUCKET)
    vpcs = aws_env.seed_vpcs(AWS_REGION, 3)
    with Connections(lambda provider, region: aws_env.connect_options()) as connections:
        yield aws_env, connections, vpcs


@pytest.fixture
def emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlibabaEmulator]:
    """An emulator on a manual clock whose deletions take 60 (manual) seconds; always stopped."""
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)  # the Alibaba SDK would send even 127.0.0.1 through a proxy
    emu = AlibabaEmulator(clock=ManualClock(), deletion_delay=60.0)
    emu.add_account(ALI_KEY_ID, ALI_SECRET, traffic_path_enabled=True)
    with emu:
        emu.add_logstore(ALI_REGION, PROJECT, LOGSTORE)
        yield emu


@pytest.fixture
def alibaba(emulator: AlibabaEmulator) -> Iterator[tuple[AlibabaEmulator, Connections, list[str]]]:
    """The emulator, connections to it, and three vSwitches of one VPC."""
    vpc = emulator.add_vpc(ALI_REGION, name="pinned")
    switches = [emulator.add_vswitch(ALI_REGION, vpc) for _ in range(3)]
    options = connect_options(emulator, ALI_KEY_ID, rate_limit=None, retry_timeout=5.0)
    with Connections(lambda provider, region: options) as connections:
        yield emulator, connections, switches


def aws_fleet(vpcs: list[str], extra: str = "", *, name: str = "pinned", tags: str = "{team: netops}") -> Any:
    """A fleet with one AWS entry on ``vpcs`` to the test bucket; ``extra`` lines join the entry."""
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: {name}
        defaults:
          traffic: all
          interval: 60
          tags: {tags}
        flow_logs:
          - name: vpcs
            provider: aws
            regions: [{AWS_REGION}]
            resources: {{kind: vpc, ids: [{", ".join(vpcs)}]}}
            destination: {{kind: s3, bucket: {BUCKET}}}
        """)
        + textwrap.indent(textwrap.dedent(extra), "    ")
    )


def alibaba_fleet(switches: list[str], extra: str = "", *, name: str = "pinned") -> Any:
    """A fleet with one Alibaba entry on ``switches`` to the test logstore; ``extra`` lines join the entry."""
    return multiflow.loads(
        textwrap.dedent(f"""\
        name: {name}
        defaults:
          tags: {{team: netops}}
        flow_logs:
          - name: switches
            provider: alibaba
            regions: [{ALI_REGION}]
            resources: {{kind: subnet, ids: [{", ".join(switches)}]}}
            destination: {{kind: sls, project: {PROJECT}, logstore: {LOGSTORE}}}
        """)
        + textwrap.indent(textwrap.dedent(extra), "    ")
    )


def aws_flow_logs(sandbox: Any) -> list[dict[str, Any]]:
    """Every flow log in the AWS sandbox, as boto3's DescribeFlowLogs returns it."""
    return list(sandbox.client("ec2", AWS_REGION).describe_flow_logs()["FlowLogs"])


def aws_tags(record: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in record.get("Tags", [])}


def ali_tags(record: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in (record.get("Tags") or {}).get("Tag") or []}


def by_action(made: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for change in made.changes:
        found.setdefault(change.action.value, []).append(change.resource_id)
    return {k: sorted(v) for k, v in found.items()}


# -- 1. a change to a provider's options alone is a change ----------------------------------------------------------


def _assert_option_change_is_planned(made: Any, resources: list[str]) -> None:
    assert {c.resource_id for c in made.changes} == set(resources)
    for change in made.changes:
        assert change.action is not Action.KEEP, change
        assert change.action in (Action.UPDATE, Action.REPLACE), change
        assert any("options" in reason for reason in change.reasons), change.reasons
    assert len(made.pending) == len(resources)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("", "aws: {tag_fields: [{resource_type: network-interface, keys: [team]}]}\n", id="tag_fields-added"),
        pytest.param(
            "aws: {tag_fields: [{resource_type: network-interface, keys: [team]}]}\n",
            "aws: {tag_fields: [{resource_type: network-interface, keys: [team, env]}]}\n",
            id="tag_fields-changed",
        ),
        pytest.param("", "aws: {cross_account_role: ROLE}\n", id="cross_account_role-added"),
    ],
)
def test_changing_only_an_aws_option_block_is_planned_as_a_change(
    aws: tuple[Any, Connections, list[str]], before: str, after: str
) -> None:
    sandbox, connections, vpcs = aws
    role = sandbox.create_role("pinned-delivery")
    before, after = before.replace("ROLE", role), after.replace("ROLE", role)
    assert multiflow.plan(aws_fleet(vpcs, before), connections).apply().ok
    assert not multiflow.plan(aws_fleet(vpcs, before), connections).pending  # converged: all keep
    changed = multiflow.plan(aws_fleet(vpcs, after), connections)
    _assert_option_change_is_planned(changed, vpcs)
    assert changed.apply().ok
    assert not multiflow.plan(aws_fleet(vpcs, after), connections).pending
    assert len(aws_flow_logs(sandbox)) == len(vpcs)


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param("", "alibaba: {ip_version: DualStack}\n", id="ip_version-added"),
        pytest.param("alibaba: {ip_version: IPv4}\n", "alibaba: {ip_version: DualStack}\n", id="ip_version-changed"),
        pytest.param("", "alibaba: {traffic_paths: [natGateway]}\n", id="traffic_paths-added"),
        pytest.param(
            "alibaba: {traffic_paths: [natGateway]}\n",
            "alibaba: {traffic_paths: [natGateway, vpnGateway]}\n",
            id="traffic_paths-changed",
        ),
    ],
)
def test_changing_only_an_alibaba_option_block_is_planned_as_a_change(
    alibaba: tuple[AlibabaEmulator, Connections, list[str]], before: str, after: str
) -> None:
    emu, connections, switches = alibaba
    emu.deletion_delay = 0.0
    assert multiflow.plan(alibaba_fleet(switches, before), connections).apply().ok
    assert not multiflow.plan(alibaba_fleet(switches, before), connections).pending  # converged: all keep
    changed = multiflow.plan(alibaba_fleet(switches, after), connections)
    _assert_option_change_is_planned(changed, switches)
    assert changed.apply().ok
    assert not multiflow.plan(alibaba_fleet(switches, after), connections).pending
    assert len(emu.flow_logs(ALI_REGION)) == len(switches)
