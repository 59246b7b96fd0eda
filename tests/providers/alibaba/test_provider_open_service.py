"""Opening the flow-log service from the command line: ``multiflow open-service`` (an explicit opt-in), against
the emulator through the official SDK. The command runs in a fresh process: the credential chain reads its
environment when it is imported, and must never probe the ECS metadata host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE

from .provider_support import KEY_ID, PROXY_VARIABLES, REGION, SECRET, World, running_world


def run_cli(world: World, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIBABA_CLOUD_", "MULTIFLOW_ALIBABA_"))}
    for name in PROXY_VARIABLES:
        env.pop(name, None)
    env.update(
        {
            "HOME": str(home),
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
            ENDPOINT_VARIABLE: world.emu.endpoint,
            PROTOCOL_VARIABLE: "http",
            # The example provider's, for a provider without a service to open (loopback: it must call nothing).
            "EXAMPLE_CLOUD_API_KEY": "example-key",
            "MULTIFLOW_EXAMPLE_ENDPOINT": "http://127.0.0.1:9",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "multiflow", *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_open_service_opens_a_closed_account_once(tmp_path: Path) -> None:
    with running_world(service_opened=False) as world:
        client = world.connect()
        assert not client.session.service_opened()
        done = run_cli(world, tmp_path, "open-service", "--provider", "alibaba", "--region", REGION, "-o", "json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == [{"provider": "alibaba", "region": REGION, "opened": True, "open": True}]
        assert world.emu.calls["OpenFlowLogService"] == 1
        assert client.session.service_opened(refresh=True)
        again = run_cli(world, tmp_path, "open-service", "--provider", "alibaba", "--region", REGION)
        assert again.returncode == 0 and again.stdout == f"alibaba {REGION}: flow-log service already open\n"
        assert world.emu.calls["OpenFlowLogService"] == 1  # not called again
        assert SECRET not in done.stdout + done.stderr + again.stdout + again.stderr


def test_open_service_on_a_provider_without_one_is_refused(tmp_path: Path) -> None:
    with running_world() as world:
        done = run_cli(world, tmp_path, "open-service", "--provider", "example", "--region", "local-1", "-o", "json")
        answer = json.loads(done.stdout)
        assert done.returncode == 1 and answer["ok"] is False and answer["error_class"] == "UnsupportedFeature"
