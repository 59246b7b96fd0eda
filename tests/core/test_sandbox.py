"""multiflow.sandbox from Python: sandboxes started, seeded for a fleet or with a demo estate, and always stopped."""

from __future__ import annotations

import socket
from typing import Any

import pytest

import multiflow
from multiflow.provider import Provider
from multiflow.sandbox import NoSandbox, demo, prepared, started
from multiflow_example.capabilities import CAPABILITIES as EXAMPLE_CAPABILITIES

FLEET = """\
name: pyfleet
defaults: {traffic: all, tags: {team: netops}}
flow_logs:
  - name: prod-vpcs
    provider: aws
    regions: [us-east-1]
    resources: {kind: vpc, where: {"tag:env": prod}}
    destination: {kind: s3, bucket: "arn:aws:s3:::py-flowlogs"}
  - name: vswitches
    provider: alibaba
    regions: [cn-hangzhou]
    resources: {kind: subnet, ids: [vsw-py0001, vsw-py0002]}
    destination: {kind: sls, project: py-flowlogs, logstore: prod}
"""


def test_a_fleet_planned_and_applied_against_sandboxes_prepared_for_it() -> None:
    fleet = multiflow.loads(FLEET)
    with prepared(fleet) as connections:
        plan = multiflow.plan(fleet, connections)
        assert {(c.provider, c.action.value) for c in plan.pending} == {("aws", "create"), ("alibaba", "create")}
        assert sorted(c.resource_id for c in plan.pending if c.provider == "alibaba") == ["vsw-py0001", "vsw-py0002"]
        result = multiflow.apply(plan, connections, timeout=60)
        assert result.ok and len(result.done) == len(plan.pending)

        assert multiflow.plan(fleet, connections).pending == []
        # moto keeps one state per process: other tests' flow logs may sit beside this fleet's
        ours = {"multiflow:managed": "pyfleet"}
        aws = connections.client("aws", "us-east-1").describe(tags=ours)
        alibaba = connections.client("alibaba", "cn-hangzhou").describe(tags=ours)
    assert sorted(f.resource.id for f in alibaba) == ["vsw-py0001", "vsw-py0002"]
    assert {c.resource_id for c in plan.pending if c.provider == "aws"} == {f.resource.id for f in aws}
    for flow_log in [*aws, *alibaba]:
        assert flow_log.tags["multiflow:managed"] == "pyfleet" and flow_log.tags["team"] == "netops"
        assert flow_log.status.value == "active"


def test_demo_sandboxes_can_be_audited() -> None:
    with demo(["alibaba"]) as connections:
        report = multiflow.audit("alibaba", ["cn-hangzhou"], connections=connections)
    # The demo estate: two VPCs, four vSwitches, four ENIs, and no flow log yet.
    assert (report.total().covered, report.total().total) == (0, 10)


def _refused(endpoint: str) -> bool:
    host, _, port = endpoint.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError:
        return True
    return False


def test_started_sandboxes_serve_on_loopback_and_are_stopped_on_the_way_out() -> None:
    with started(["alibaba"]) as boxes:
        endpoint = boxes["alibaba"].environment()["MULTIFLOW_ALIBABA_ENDPOINT"]
        assert endpoint.startswith("127.0.0.1:") and not _refused(endpoint)
    assert _refused(endpoint)


class _Bare(Provider):
    """A provider whose plugin offers no sandbox: the base class's default ``sandbox()``."""

    name = "bare"
    capabilities = EXAMPLE_CAPABILITIES.model_copy(update={"provider": "bare"})

    def connect(self, region: str, **options: Any) -> Any:
        """Never called here."""
        raise AssertionError("not connected in these tests")


class _BarePlugin:
    @multiflow.hookimpl
    def register_providers(self, register: Any) -> None:
        register(_Bare())


def test_a_provider_without_a_sandbox_is_named(multiflow_register: Any) -> None:
    multiflow_register(_BarePlugin(), name="bare")
    assert multiflow.get_provider("bare").sandbox() is None
    assert multiflow.get_provider("alibaba").sandbox() is not None
    with pytest.raises(NoSandbox, match="provider 'bare' offers no sandbox"), started(["alibaba", "bare"]):
        pass  # pragma: no cover
    with started() as boxes:  # every provider that offers one
        assert "bare" not in boxes and {"aws", "alibaba"} <= set(boxes)
