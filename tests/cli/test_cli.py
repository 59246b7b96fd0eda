"""The multiflow command, end to end in subprocesses: against `sandbox serve`, and with --sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import sysconfig
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "fleet.yaml"


def multiflow(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALIBABA_", "MULTIFLOW_"))}
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "multiflow.cli", *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, Any]]:
    """`multiflow sandbox serve` in a subprocess; its environment points the CLI at it; stopped with SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-m", "multiflow.cli", "sandbox", "serve", "--output", "json", "--seconds", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    try:
        text, deadline = "", time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            if not line:
                break
            text += line
            try:
                yield json.loads(text)
                break
            except json.JSONDecodeError:
                continue
        else:
            pytest.fail("sandbox serve printed nothing usable in 60 s")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    assert process.returncode == 0


def write_fleet(tmp_path: Path, demo: dict[str, Any], interval: int = 60) -> Path:
    alibaba = demo["alibaba"]
    path = tmp_path / "fleet.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        name: e2e
        defaults: {{traffic: all, interval: {interval}, tags: {{team: netops}}}}
        flow_logs:
          - name: prod-vpcs
            provider: aws
            regions: [us-east-1]
            resources: {{kind: vpc, where: {{"tag:env": prod}}}}
            destination: {{kind: s3, bucket: "{demo["aws"]["bucket"]}", prefix: prod/}}
          - name: prod-vswitches
            provider: alibaba
            regions: [{alibaba["region"]}]
            resources: {{kind: subnet, where: {{"tag:env": prod}}}}
            destination: {{kind: sls, project: {alibaba["project"]}, logstore: {alibaba["logstore"]}}}
        """)
    )
    return path


def test_apply_plan_destroy_against_sandbox_serve(served: dict[str, Any], tmp_path: Path) -> None:
    env = served["environment"]
    demo = served["seeded"]
    fleet = write_fleet(tmp_path, demo)

    pending = multiflow("plan", str(fleet), "--detailed-exitcode", "-o", "json", env=env)
    assert pending.returncode == 2, pending.stderr
    plan = json.loads(pending.stdout)
    assert {(c["provider"], c["action"]) for c in plan["changes"]} == {("aws", "create"), ("alibaba", "create")}
    assert len(plan["changes"]) == len(demo["aws"]["vpcs"]["prod"]) + 2

    applied = multiflow("apply", str(fleet), "--yes", "-o", "json", env=env)
    assert applied.returncode == 0, applied.stderr
    result = json.loads(applied.stdout)
    assert result["ok"] and len(result["result"]["done"]) == len(plan["changes"])

    settled = multiflow("plan", str(fleet), "--detailed-exitcode", env=env)
    assert settled.returncode == 0, settled.stdout + settled.stderr
    assert "No changes: the clouds match the file" in settled.stdout

    listed = multiflow("list", "--provider", "alibaba", "--region", demo["alibaba"]["region"], "-o", "json", env=env)
    records = json.loads(listed.stdout)
    assert {r["status"] for r in records} == {"active"}
    assert {r["tags"]["multiflow:managed"] for r in records} == {"e2e"}

    changed = write_fleet(tmp_path, demo, interval=600)
    update = json.loads(multiflow("plan", str(changed), "-o", "json", env=env).stdout)
    assert {(c["provider"], c["action"]) for c in update["changes"] if c["action"] != "keep"} == {
        ("aws", "replace"),
        ("alibaba", "update"),
    }

    destroyed = multiflow("destroy", str(fleet), "--yes", "-o", "json", env=env)
    assert destroyed.returncode == 0, destroyed.stderr
    assert (
        json.loads(multiflow("list", "--provider", "aws", "--region", "us-east-1", "-o", "json", env=env).stdout) == []
    )


def test_apply_refuses_without_yes_when_stdin_is_not_a_terminal(served: dict[str, Any], tmp_path: Path) -> None:
    fleet = write_fleet(tmp_path, served["seeded"])
    done = multiflow("apply", str(fleet), env=served["environment"])
    assert done.returncode == 1
    assert "add --yes" in done.stderr


def test_the_readme_job_runs_both_clouds_with_sandbox() -> None:
    done = multiflow("apply", str(EXAMPLE), "--sandbox", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Applied in" in done.stdout and "0 failed" in done.stdout
    assert "alibaba   cn-hangzhou" in done.stdout and "aws       us-east-1" in done.stdout
    assert "create" in done.stderr  # progress while waiting


def test_bad_file_exits_1_with_a_located_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(EXAMPLE.read_text().replace("interval: 300", "interval: 120"))
    done = multiflow("validate", str(path))
    assert done.returncode == 1
    assert f"multiflow: error: {path}:21:5: alibaba: flow_logs[1].interval=120 is not allowed" in done.stderr
    assert multiflow("validate", str(EXAMPLE)).returncode == 0


def test_providers_lists_plugins_versions_and_capabilities() -> None:
    done = multiflow("providers", "-o", "json")
    data = json.loads(done.stdout)
    assert {p["name"] for p in data["plugins"] if p["providers"]} >= {"aws", "alibaba"}
    assert data["providers"]["alibaba"]["intervals"]["subnet"] == [60, 300, 600]
    assert "sls" in multiflow("providers").stdout


def test_schema_is_json_schema_for_fleet_files() -> None:
    schema = json.loads(multiflow("schema").stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "flow_logs" in schema["properties"] and schema["required"] == ["flow_logs"]


def test_the_console_script_and_python_m_multiflow_run_the_command() -> None:
    script = Path(sysconfig.get_path("scripts")) / "multiflow"
    assert script.is_file(), f"{script}: install the project (pip install -e .) for its console script"
    for command in ([str(script)], [sys.executable, "-m", "multiflow"]):
        helped = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
        assert helped.returncode == 0, helped.stderr
        assert helped.stdout.startswith("usage: multiflow [-h] [--version] [--output {table,json,sarif,junit,csv}]")
        assert "sandbox" in helped.stdout and "audit" in helped.stdout
        done = subprocess.run([*command, "validate", str(EXAMPLE)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{EXAMPLE}: ok (2 entries; fleet 'netops'; providers alibaba, aws)\n"
        missing = subprocess.run([*command, "validate", "no-such.yaml"], capture_output=True, text=True, timeout=60)
        assert missing.returncode == 1 and missing.stderr.startswith("multiflow: error: no-such.yaml: ")
