"""The example provider as users meet it: registered by its distribution, in `multiflow providers`, in fleets."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import multiflow
from multiflow.plugins import plugin_infos


def test_the_distribution_registers_the_provider_through_the_entry_point() -> None:
    [info] = [i for i in plugin_infos() if "example" in i.providers]
    assert (info.name, info.distribution, info.version) == ("example", "multiflow-example-provider", "0.1.0")
    assert info.hooks == ("register_providers",)


def test_multiflow_providers_all_lists_it_as_third_party() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "multiflow.cli", "providers", "--all", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    [plugin] = [p for p in data["plugins"] if p["name"] == "example"]
    assert plugin["builtin"] is False and plugin["providers"] == ["example"]
    assert data["providers"]["example"]["intervals"]["vpc"] == [30, 60, 300]


def test_a_fleet_plans_applies_and_settles_against_the_sandbox(multiflow_sandbox: Any, tmp_path: Path) -> None:
    sandbox = multiflow_sandbox("example")
    path = tmp_path / "fleet.yaml"
    path.write_text(
        "name: demo\n"
        "flow_logs:\n"
        "  - name: prod-networks\n"
        "    provider: example\n"
        "    regions: [local-1]\n"
        "    resources: {kind: vpc, where: {'tag:env': prod}}\n"
        "    destination: {kind: example_bucket, bucket: central-flowlogs}\n"
        "    interval: 30\n"
        "    options: {example: {sampling: 0.5}}\n"
    )
    demo = sandbox.seed_demo()
    fleet = multiflow.load(path)
    with multiflow.Connections(lambda provider, region: sandbox.connect_options(region)) as connections:
        plan = multiflow.plan(fleet, connections)
        assert sorted(c.resource_id for c in plan.pending) == sorted(demo["networks"]["prod"])
        result = multiflow.apply(plan, connections, timeout=60)
        assert result.ok, result.failed
        assert not multiflow.plan(fleet, connections).pending
    records = sandbox.cloud.flow_logs()
    assert {r["sampling"] for r in records} == {0.5}
    assert {r["labels"]["multiflow:managed"] for r in records} == {"demo"}
