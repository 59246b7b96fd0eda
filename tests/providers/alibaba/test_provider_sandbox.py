"""The Alibaba provider's optional parts for fleets: ``list_resources`` (selectors) and ``sandbox()`` (--sandbox)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

import multiflow
from multiflow.errors import UnsupportedFeature
from multiflow.model import FlowLogStatus
from multiflow.provider import ResourceLister, Sandbox
from multiflow.spec import ResourceKind
from multiflow_alibaba.options import SlsDestination
from multiflow_alibaba.sandbox_support import AlibabaSandbox

from .provider_support import PROXY_VARIABLES, REGION, World, running_world


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def world() -> Iterator[World]:
    with running_world(vswitches=0, enis=0) as running:
        yield running


def test_the_capabilities_say_one_flow_log_per_resource() -> None:
    assert multiflow.get_provider("alibaba").capabilities.one_flow_log_per_resource


def test_list_resources_by_kind_and_tags(world: World) -> None:
    emu = world.emu
    prod = [emu.add_vpc(REGION, tags={"env": "prod", "team": "a"}) for _ in range(2)]
    dev = emu.add_vpc(REGION, tags={"env": "dev"})
    switches = [emu.add_vswitch(REGION, prod[0], tags={"env": "prod"}) for _ in range(2)]
    plain = emu.add_vswitch(REGION, dev)
    enis = [
        emu.add_network_interface(REGION, switches[0], tags={"env": "prod"}),
        emu.add_network_interface(REGION, plain),
    ]
    session = world.connect().session
    assert isinstance(session, ResourceLister)
    assert sorted(session.list_resources(ResourceKind.VPC, {"env": "prod"})) == sorted(prod)
    assert sorted(session.list_resources(ResourceKind.VPC, {"env": None})) == sorted([*prod, dev])
    assert session.list_resources(ResourceKind.VPC, {"env": "prod", "team": "b"}) == []
    assert sorted(session.list_resources(ResourceKind.SUBNET, {"env": "prod"})) == sorted(switches)
    assert len(session.list_resources(ResourceKind.SUBNET, {})) == 3
    assert session.list_resources(ResourceKind.NETWORK_INTERFACE, {"env": "prod"}) == [enis[0]]
    assert sorted(session.list_resources(ResourceKind.NETWORK_INTERFACE, {})) == sorted(enis)
    assert world.emu.calls["DescribeNetworkInterfaces"] == 2
    with pytest.raises(UnsupportedFeature, match="transit_gateway"):
        session.list_resources(ResourceKind.TRANSIT_GATEWAY, {})


def test_list_resources_follows_pages(world: World) -> None:
    made = [world.emu.add_vpc(REGION, tags={"env": "big"}) for _ in range(120)]
    world.emu.reset_calls()
    assert sorted(world.connect().session.list_resources(ResourceKind.VPC, {"env": "big"})) == sorted(made)
    assert world.emu.calls == {"DescribeVpcs": 3}


def test_the_provider_offers_a_sandbox() -> None:
    sandbox = multiflow.get_provider("alibaba").sandbox()  # type: ignore[attr-defined]
    assert isinstance(sandbox, AlibabaSandbox) and isinstance(sandbox, Sandbox)
    assert sandbox.provider == "alibaba"
    sandbox.stop()  # never started: harmless


def test_the_sandbox_seeds_what_a_fleet_entry_names() -> None:
    destination = SlsDestination(project="central-logs", logstore="prod")
    with AlibabaSandbox() as sandbox:
        sandbox.prepare(REGION, ResourceKind.SUBNET, ["vsw-bp1abc", "vsw-bp1def"], None, destination)
        sandbox.prepare(REGION, ResourceKind.SUBNET, ["vsw-bp1abc"], None, destination)  # twice is fine
        sandbox.prepare(REGION, ResourceKind.VPC, None, {"env": "prod", "team": None}, destination)
        sandbox.prepare(REGION, ResourceKind.NETWORK_INTERFACE, ["eni-bp1xyz"], None, destination)
        sandbox.prepare(REGION, ResourceKind.TRANSIT_GATEWAY, ["tr-1"], None, destination)  # refused later
        client = multiflow.connect("alibaba", region=REGION, **sandbox.connect_options(REGION))
        try:
            vpcs = client.session.list_resources(ResourceKind.VPC, {"env": "prod", "team": None})
            assert len(vpcs) == 3
            spec = multiflow.FlowLogSpec(
                resources={"kind": "subnet", "ids": ["vsw-bp1abc", "vsw-bp1def"]},
                destination={"kind": "sls", "project": "central-logs", "logstore": "prod"},
            )
            assert {f.status for f in client.create(spec)} == {FlowLogStatus.ACTIVE}
            eni = spec.model_copy(
                update={"resources": multiflow.Resources(kind="network_interface", ids=["eni-bp1xyz"])}
            )
            assert client.create(eni, wait=False)[0].resource.id == "eni-bp1xyz"
            demo = sandbox.seed_demo()
            assert demo["region"] == REGION and len(demo["vpc_ids"]) == 2
        finally:
            client.close()


def test_the_sandbox_environment_points_a_fresh_process_at_it(tmp_path: object) -> None:
    script = (
        "import json, multiflow;"
        "c = multiflow.connect('alibaba', region='cn-hangzhou', rate_limit=None);"
        "print(json.dumps([repr(c.session), len(c.session.list_resources(multiflow.ResourceKind.VPC, {}))]))"
    )
    with AlibabaSandbox() as sandbox:
        sandbox.seed_demo()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "MULTIFLOW_ALIBABA_"))}
        env.update({"HOME": str(tmp_path), "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true", **sandbox.environment()})
        for name in PROXY_VARIABLES:
            env.pop(name, None)
        done = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60, check=True
        )
        session_repr, count = json.loads(done.stdout.strip().splitlines()[-1])
        assert sandbox.emulator.endpoint in session_repr and count == 2
