"""Crashes: ``multiflow apply`` (and ``destroy``) killed with SIGKILL at seeded moments; reruns converge, and no
flow log is ever duplicated, not even between a kill and the next run.

The sandboxes run in this process (moto's server and an Alibaba emulator whose flow logs take a moment to
activate and to go, so kills land during waits too); the command runs in a subprocess pointed at them through the
environment, exactly as ``multiflow sandbox serve`` prints it.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE
from multiflow_alibaba_emulator import AlibabaEmulator

AWS_REGION = "us-west-1"  # no other reliability test uses it
ALI_REGION = "cn-beijing"
KEY_ID = "LTAI5tCrashTests00000001"
SECRET = "crash-tests-secret"
FLEET = "crash"
RUN_TIMEOUT = 120.0
SEED = int(os.environ.get("MULTIFLOW_CRASH_SEED", "7"))

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@dataclass
class Estate:
    """The sandboxes, what was seeded in them, and the environment that points the CLI at them."""

    aws: Any
    emu: AlibabaEmulator
    env: dict[str, str]
    aws_vpcs: list[str]
    ali_vswitches: list[str]
    ali_vpcs: list[str]
    kills: Counter[str] = field(default_factory=Counter)


@pytest.fixture(scope="module")
def estate(aws_sandbox: Any) -> Iterator[Estate]:
    ec2 = aws_sandbox.client("ec2", AWS_REGION)
    tags = [{"ResourceType": "vpc", "Tags": [{"Key": "env", "Value": "prod"}]}]
    vpcs = [ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=tags)["Vpc"]["VpcId"] for _ in range(24)]
    aws_sandbox.create_bucket("crash-flowlogs")
    with AlibabaEmulator(activation_delay=0.8, deletion_delay=0.5) as emu:
        emu.add_account(KEY_ID, SECRET)
        emu.add_logstore(ALI_REGION, "crash-project", "crash-store")
        ali_vpcs = [emu.add_vpc(ALI_REGION, tags={"env": "prod"}) for _ in range(6)]
        switches = [emu.add_vswitch(ALI_REGION, vpc, tags={"env": "prod"}) for vpc in ali_vpcs for _ in range(3)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALIBABA_", "MULTIFLOW_"))}
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            env.pop(name, None)
        env.update(aws_sandbox.environment(AWS_REGION))
        env.update(
            {
                "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
                "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
                "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
                ENDPOINT_VARIABLE: emu.endpoint,
                PROTOCOL_VARIABLE: "http",
            }
        )
        yield Estate(aws_sandbox, emu, env, vpcs, switches, ali_vpcs)


def fleet_file(path: Path, estate: Estate, interval: int) -> Path:
    path.write_text(
        textwrap.dedent(f"""\
        name: {FLEET}
        defaults: {{interval: {interval}, tags: {{team: crash}}}}
        flow_logs:
          - name: aws-vpcs
            provider: aws
            regions: [{AWS_REGION}]
            resources: {{kind: vpc, where: {{"tag:env": prod}}}}
            destination: {{kind: s3, bucket: "arn:aws:s3:::crash-flowlogs", prefix: vpcs/}}
          - name: ali-vswitches
            provider: alibaba
            regions: [{ALI_REGION}]
            resources: {{kind: subnet, where: {{"tag:env": prod}}}}
            destination: {{kind: sls, project: crash-project, logstore: crash-store}}
          - name: ali-vpcs
            provider: alibaba
            regions: [{ALI_REGION}]
            resources: {{kind: vpc, ids: [{", ".join(estate.ali_vpcs[:4])}]}}
            destination: {{kind: sls, project: crash-project, logstore: crash-store}}
            traffic: {"reject" if interval == 600 else "all"}
        """)
    )
    return path


def command(estate: Estate, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "multiflow.cli", *args],
        env=estate.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill_at_random(estate: Estate, rng: random.Random, *args: str) -> str:
    """Run the command and SIGKILL it at a seeded moment: some time after the start, or just after its first
    progress line (so inside apply proper); returns how the run ended."""
    process = command(estate, *args)
    after_progress = rng.random() < 0.5
    delay = rng.uniform(0.0, 1.0) if after_progress else rng.uniform(0.5, 2.5)
    seen = threading.Event()

    def watch() -> None:
        for line in process.stderr or []:
            if re.search(r"\b\d+/\d+\b", line):  # a progress line: "aws  us-west-1  create  3/24  0.4s"
                seen.set()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.monotonic()
    if after_progress:
        while not seen.wait(0.05) and process.poll() is None and time.monotonic() - started < RUN_TIMEOUT:
            pass
    time.sleep(delay)
    ended = "finished before the kill" if process.poll() is not None else "killed"
    if ended == "killed":
        process.send_signal(signal.SIGKILL)
        estate.kills["after progress" if after_progress else "after start"] += 1
    process.wait(RUN_TIMEOUT)
    watcher.join(5)
    assert time.monotonic() - started < RUN_TIMEOUT
    return ended


def run(estate: Estate, *args: str) -> subprocess.CompletedProcess[str]:
    process = command(estate, *args)
    out, err = process.communicate(timeout=RUN_TIMEOUT)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def flow_logs(estate: Estate) -> list[tuple[str, str, str, str]]:
    """(provider, resource, destination, owner entry) of every flow log on the estate, read directly."""
    found = []
    for r in estate.aws.client("ec2", AWS_REGION).describe_flow_logs()["FlowLogs"]:
        tags = {t["Key"]: t["Value"] for t in r.get("Tags", [])}
        if r["ResourceId"] in estate.aws_vpcs:
            found.append(("aws", r["ResourceId"], r.get("LogDestination", ""), tags.get("multiflow:spec", "")))
    for r in estate.emu.flow_logs(ALI_REGION):
        tags = {t["Key"]: t["Value"] for t in r["Tags"]["Tag"]}
        found.append(("alibaba", r["ResourceId"], r["LogStoreName"], tags.get("multiflow:spec", "")))
    return found


def assert_no_duplicates(estate: Estate, when: str) -> None:
    slots = Counter(
        (provider, resource, dest if provider == "aws" else "") for provider, resource, dest, _ in flow_logs(estate)
    )
    duplicates = {slot: n for slot, n in slots.items() if n > 1}
    assert not duplicates, f"{when}: duplicate flow logs {duplicates}"
    owned = Counter((p, r, owner.partition("@")[0]) for p, r, _, owner in flow_logs(estate) if owner)
    assert all(n == 1 for n in owned.values()), f"{when}: one entry owns two flow logs on a resource: {owned}"


def converge(estate: Estate, *args: str, attempts: int = 6) -> int:
    """Rerun until the command succeeds (as an operator would); returns the reruns it took."""
    for attempt in range(1, attempts + 1):
        done = run(estate, *args)
        assert_no_duplicates(estate, f"rerun {attempt} of {args[0]}")
        if done.returncode == 0:
            return attempt
        assert done.returncode == 1, done.stderr[-2000:]
        time.sleep(0.5)  # a flow log still being deleted holds its resource a moment longer
    pytest.fail(f"{args} did not converge in {attempts} reruns:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def test_apply_killed_at_random_moments_converges_without_duplicates(estate: Estate, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    wanted = len(estate.aws_vpcs) + len(estate.ali_vswitches) + 4
    for phase, interval, kills in (("apply", 60, 5), ("change", 600, 4), ("destroy", 600, 3)):
        path = fleet_file(tmp_path / f"{phase}.yaml", estate, interval)
        args = ("destroy" if phase == "destroy" else "apply", str(path), "--yes", "--timeout", "60")
        for _ in range(kills):
            kill_at_random(estate, rng, *args)
            assert_no_duplicates(estate, f"after a killed {phase}")
        estate.kills[f"reruns to converge ({phase})"] += converge(estate, *args) - 1
        final = run(estate, "plan", str(path), "--detailed-exitcode", "-o", "json")
        if phase == "destroy":
            assert [f for f in flow_logs(estate) if f[3]] == [], "destroy left flow logs of the fleet"
            continue
        assert final.returncode == 0, final.stdout[-3000:] + final.stderr[-3000:]
        plan = json.loads(final.stdout)
        assert {c["action"] for c in plan["changes"]} == {"keep"} and len(plan["changes"]) == wanted
        ours = [f for f in flow_logs(estate) if f[3]]
        assert len(ours) == wanted
        statuses = {r["Status"] for r in estate.emu.flow_logs(ALI_REGION)}
        assert statuses <= {"Active", "Activating"}
    print(f"\ncrash test (seed {SEED}): {dict(estate.kills)}")  # shown with -s
    landed = estate.kills["after start"] + estate.kills["after progress"]
    assert landed >= 5, estate.kills  # most kills landed while the command ran
