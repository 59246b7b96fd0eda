"""The command as a person at a terminal and a CI job meet it: exit codes, Ctrl-C and Ctrl-D, configuration errors,
logging, regions, output formats, the sandbox's `serve`, and `audit --fix-output`; each through the real command in
a subprocess, the terminal cases under a pseudo-terminal."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "fleet.yaml"
COMMAND = [sys.executable, "-m", "multiflow.cli"]
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALIBABA_", "MULTIFLOW_"))}
    environment["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"  # never probe the metadata host
    environment.update(env or {})
    return environment


def multiflow(*args: str, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        env=clean_environment(env),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class Terminal:
    """The command on a pseudo-terminal (stdin, stdout and stderr all on it), read with a deadline."""

    def __init__(self, *args: str, env: dict[str, str] | None = None, columns: int = 80) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        environment = clean_environment(env)
        environment.update(COLUMNS=str(columns), LINES="40", TERM="xterm-256color")
        self.process = subprocess.Popen(
            [*COMMAND, *args], stdin=slave, stdout=slave, stderr=slave, env=environment, close_fds=True
        )
        os.close(slave)
        self.text = ""

    def read_until(self, pattern: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        while pattern not in ANSI.sub("", self.text):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"no {pattern!r} within {timeout}s; saw: {ANSI.sub('', self.text)[-2000:]}")
            ready, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # the command ended and closed the terminal
                    chunk = b""
                if not chunk and self.process.poll() is not None:
                    pytest.fail(f"ended without {pattern!r}; saw: {ANSI.sub('', self.text)[-2000:]}")
                self.text += chunk.decode("utf-8", "replace")
        return ANSI.sub("", self.text)

    def finish(self, timeout: float = 60) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                self.text += chunk.decode("utf-8", "replace")
                if chunk:
                    continue
            if self.process.poll() is not None:
                break
        else:
            self.process.kill()
            pytest.fail(f"still running after {timeout}s; saw: {ANSI.sub('', self.text)[-2000:]}")
        os.close(self.master)
        return self.process.wait(timeout=10)

    @property
    def plain(self) -> str:
        return ANSI.sub("", self.text)


@pytest.fixture(scope="module")
def slow() -> Iterator[dict[str, Any]]:
    """`sandbox serve` whose Alibaba flow logs take 30 s to activate, seeded for docs/examples/fleet.yaml."""
    yield from serve("--activation-delay", "30", "--fleet", str(EXAMPLE))


def serve(*flags: str) -> Iterator[dict[str, Any]]:
    process = subprocess.Popen(
        [*COMMAND, "sandbox", "serve", "--output", "json", "--seconds", "600", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        env=clean_environment(),
    )
    try:
        text, deadline = "", time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            if not line:
                pytest.fail(f"sandbox serve ended: {process.stderr.read() if process.stderr else ''}")
            text += line
            try:
                data = json.loads(text)
            except json.JSONDecodeError:
                continue
            yield data
            break
        else:
            pytest.fail("sandbox serve printed nothing usable in 60 s")
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def alibaba_fleet(tmp_path: Path, demo: dict[str, Any], name: str = "interrupted") -> Path:
    alibaba = demo["alibaba"]
    path = tmp_path / f"{name}.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        name: {name}
        defaults: {{traffic: all, interval: 60}}
        flow_logs:
          - name: vswitches
            provider: alibaba
            regions: [{alibaba["region"]}]
            resources: {{kind: subnet, where: {{"tag:env": prod}}}}
            destination: {{kind: sls, project: {alibaba["project"]}, logstore: {alibaba["logstore"]}}}
        """)
    )
    return path


# --- exit codes and flags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["plan"], "the following arguments are required: file"),
        (["apply", str(EXAMPLE), "--timeout", "nan"], "--timeout 'nan'"),
        (["apply", str(EXAMPLE), "--timeout", "-1"], "--timeout '-1'"),
        (["apply", str(EXAMPLE), "--timeout", "0"], "--timeout '0'"),
        (["destroy", str(EXAMPLE), "--timeout", "inf"], "--timeout 'inf'"),
        (["audit", "--provider", "aws", "--region", "us-east-1", "--fail-under", "101"], "--fail-under '101'"),
        (["sandbox", "serve", "--latency", "-1"], "--latency '-1'"),
        (["validate", str(EXAMPLE), "-o", "yaml"], "invalid choice: 'yaml'"),
    ],
)
def test_usage_errors_exit_64_naming_the_flag_never_2(args: list[str], named: str) -> None:
    done = multiflow(*args)
    assert done.returncode == 64, done.stderr
    assert named in done.stderr and "Traceback" not in done.stderr


def test_output_before_or_after_the_command_and_query_on_json() -> None:
    before = multiflow("-o", "json", "validate", str(EXAMPLE))
    after = multiflow("validate", str(EXAMPLE), "-o", "json")
    assert before.returncode == after.returncode == 0
    assert json.loads(before.stdout) == json.loads(after.stdout) == {"ok": True, "fleet": "netops", "entries": 2}
    queried = multiflow("validate", str(EXAMPLE), "--query", "entries")
    assert queried.returncode == 0 and queried.stdout == "2\n"
    nested = multiflow("--query", "providers.alibaba.intervals.subnet", "providers")
    assert json.loads(nested.stdout) == [60, 300, 600]
    bad = multiflow("validate", str(EXAMPLE), "--query", "entries[")
    assert bad.returncode == 64 and "--query 'entries['" in bad.stderr and bad.stdout == ""


def test_a_plan_of_only_conflicts_is_not_converged(tmp_path: Path) -> None:
    """An unmanaged flow log on the only vSwitch the fleet names (Alibaba allows one a resource): a conflict."""
    fleet = tmp_path / "conflict.yaml"
    fleet.write_text(
        textwrap.dedent("""\
        name: conflicted
        flow_logs:
          - name: one
            provider: alibaba
            regions: [cn-hangzhou]
            resources: {kind: subnet, ids: [vsw-conflict1]}
            destination: {kind: sls, project: proj-one, logstore: store-one}
        """)
    )
    done = _plan_with_unmanaged(fleet)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Not converged" in done.stdout and "the clouds match" not in done.stdout


def _plan_with_unmanaged(fleet: Path) -> subprocess.CompletedProcess[str]:
    """`multiflow plan --detailed-exitcode` against a served sandbox where an unmanaged flow log holds the
    fleet's one vSwitch."""
    generator = serve("--fleet", str(fleet))
    served = next(generator)
    try:
        env = served["environment"]
        script = textwrap.dedent("""\
            import multiflow
            with multiflow.connect("alibaba", region="cn-hangzhou") as client:
                client.create(multiflow.FlowLogSpec(resources={"kind": "subnet", "ids": ["vsw-conflict1"]},
                              destination={"kind": "sls", "project": "proj-one", "logstore": "store-one"}), timeout=30)
            """)
        made = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=clean_environment(env)
        )
        assert made.returncode == 0, made.stderr
        return multiflow("plan", str(fleet), "--detailed-exitcode", env=env)
    finally:
        generator.close()


# --- Ctrl-C and Ctrl-D ------------------------------------------------------------------------------------------


def test_first_ctrl_c_during_an_alibaba_wait_reports_and_exits_130_and_a_rerun_converges(
    slow: dict[str, Any], tmp_path: Path
) -> None:
    env = slow["environment"]
    fleet = alibaba_fleet(tmp_path, slow["seeded"])
    terminal = Terminal("apply", str(fleet), "--yes", env=env)
    terminal.read_until("activating")
    terminal.process.send_signal(signal.SIGINT)
    code = terminal.finish(timeout=20)  # activation takes 30 s: only the interrupt ends it sooner
    text = terminal.plain
    assert code == 130, text
    assert "starting nothing new" in text
    assert re.search(r"Still activating or deleting \(made; the cloud is finishing them\): [1-9]", text), text
    assert "Not started: 0" in text and "Run the same command again" in text
    assert "Traceback" not in text
    # The rerun has nothing to create (the flow logs exist, activating): it converges.
    rerun = multiflow("apply", str(fleet), "--yes", env=env)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    listed = json.loads(
        multiflow(
            "list", "--provider", "alibaba", "-o", "json", env={**env, "ALIBABA_CLOUD_REGION_ID": "cn-hangzhou"}
        ).stdout
    )
    assert {r["tags"]["multiflow:managed"] for r in listed if r["tags"].get("multiflow:managed")} == {"interrupted"}


def test_sigterm_during_an_alibaba_wait_stops_as_ctrl_c_does_and_exits_143(tmp_path: Path) -> None:
    """A CI job cancelled mid-apply: SIGTERM starts nothing new, ends the waits, reports, exits 143."""
    generator = serve("--activation-delay", "30", "--fleet", str(EXAMPLE))
    served = next(generator)
    try:
        fleet = alibaba_fleet(tmp_path, served["seeded"], name="terminated")
        terminal = Terminal("apply", str(fleet), "--yes", env=served["environment"])
        terminal.read_until("activating")
        terminal.process.send_signal(signal.SIGTERM)
        code = terminal.finish(timeout=20)  # activation takes 30 s: only the signal ends it sooner
    finally:
        generator.close()
    text = terminal.plain
    assert code == 143, text
    assert "multiflow: terminated: starting nothing new" in text
    assert "Run the same command again" in text and "Traceback" not in text


def test_second_ctrl_c_exits_at_once_saying_what_was_created(tmp_path: Path) -> None:
    """Every call takes 5 s: the second Ctrl-C comes while the creates are in flight, which the first cannot end."""
    generator = serve("--latency", "5")
    served = next(generator)
    try:
        fleet = alibaba_fleet(tmp_path, served["seeded"], name="twice")
        terminal = Terminal("apply", str(fleet), "--yes", "-o", "json", env=served["environment"])
        terminal.read_until("create ", timeout=90)
        time.sleep(1)  # into the 5 s of the create calls, not before them
        terminal.process.send_signal(signal.SIGINT)
        terminal.read_until("starting nothing new")
        terminal.process.send_signal(signal.SIGINT)
        code = terminal.finish(timeout=20)
    finally:
        generator.close()
    assert code == 130, terminal.plain
    text = terminal.plain
    report = json.loads(text[text.index("{") : text.rindex("}") + 1])
    assert report["interrupted"] is True and report["ok"] is False
    result = report["result"]
    # Both prod vSwitches accounted for: being made when the run stopped (or, if the calls beat the second
    # Ctrl-C, done).
    assert len(result["in_progress"]) + len(result["done"]) == 2, result
    assert "multiflow: interrupted\n" not in text  # not the plain KeyboardInterrupt path: apply's own report


@pytest.mark.parametrize(
    ("signum", "code", "said"), [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")]
)
def test_a_signal_while_planning_an_organization_stops_at_once_saying_nothing_changed(
    tmp_path: Path, signum: int, code: int, said: str
) -> None:
    """Every call takes 5 s; the signal comes while the organization is being listed (reads in thread pools):
    the command says so and ends with 130 (Ctrl-C) or 143 (SIGTERM) without waiting for the reads to finish."""
    generator = serve("--latency", "5")
    served = next(generator)
    try:
        alibaba = served["seeded"]["alibaba"]
        fleet = tmp_path / "org.yaml"
        fleet.write_text(
            textwrap.dedent(f"""\
            name: org-interrupted
            accounts:
              alibaba:
                - organization: {{}}
            flow_logs:
              - name: vswitches
                provider: alibaba
                regions: all
                resources: {{kind: subnet, where: {{"tag:env": prod}}}}
                destination: {{kind: sls, project: {alibaba["project"]}, logstore: {alibaba["logstore"]}}}
            """)
        )
        json_output = ("-o", "json") if signum == signal.SIGTERM else ()  # one of the two as a CI job reads it
        terminal = Terminal("plan", str(fleet), "-v", *json_output, env=served["environment"])
        terminal.read_until("GetCallerIdentity ok", timeout=90)  # the organization's listing is under way
        terminal.process.send_signal(signum)
        exit_code = terminal.finish(timeout=60)
    finally:
        generator.close()
    text = terminal.plain
    assert exit_code == code, text
    assert f"multiflow: {said} before any change (nothing was changed); stopping" in text
    if json_output:
        assert '"interrupted": true' in text and '"signal": "SIGTERM"' in text
    assert "DescribeFlowLogs" not in text  # the reads after the listing never started
    assert "Traceback" not in text


def test_ctrl_d_at_the_prompt_is_not_confirmed() -> None:
    terminal = Terminal("apply", str(EXAMPLE), "--sandbox")
    terminal.read_until("[y/N]")
    os.write(terminal.master, b"\x04")
    code = terminal.finish(timeout=30)
    assert code == 1, terminal.plain
    assert "not confirmed (end of input at the prompt): nothing done" in terminal.plain
    assert "EOFError" not in terminal.plain and "Traceback" not in terminal.plain


# --- terminal output --------------------------------------------------------------------------------------------


def test_on_a_terminal_tables_fit_the_width_and_progress_has_phases(tmp_path: Path) -> None:
    terminal = Terminal("apply", str(EXAMPLE), "--sandbox", "--yes", columns=70)
    code = terminal.finish(timeout=180)
    assert code == 0, terminal.plain
    lines = terminal.plain.replace("\r", "\n").splitlines()
    assert max(len(line) for line in lines) <= 70, max(lines, key=len)
    assert "activating" in terminal.plain and "create" in terminal.plain
    assert "\x1b[" in terminal.text  # colour on a terminal


def test_no_color_and_pipes_get_plain_text(tmp_path: Path) -> None:
    terminal = Terminal("providers", env={"NO_COLOR": "1"})
    assert terminal.finish(timeout=60) == 0
    assert not re.search(r"\x1b\[[0-9;]*m", terminal.text), terminal.text[:500]
    piped = multiflow("apply", str(EXAMPLE), "--sandbox", "--yes", "-o", "json")
    assert piped.returncode == 0, piped.stderr
    assert "\x1b" not in piped.stdout + piped.stderr
    json.loads(piped.stdout)
    assert "activating" in piped.stderr  # progress goes to stderr with -o json too
    # A line is its provider, region, phase and counts; the elapsed time after them does not make it new.
    progress = [line.rsplit("  ", 1)[0] for line in piped.stderr.splitlines() if line.startswith(("alibaba", "aws"))]
    assert progress and len(progress) == len(set(progress)), "a progress line printed twice"


# --- configuration, logging, regions ----------------------------------------------------------------------------


def test_a_bad_aws_profile_is_an_auth_error_with_a_hint(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = us-east-1\n")
    env = {"AWS_PROFILE": "no-such-profile", "AWS_CONFIG_FILE": str(config), "HOME": str(tmp_path)}
    done = multiflow("list", "--provider", "aws", "--region", "us-east-1", env=env)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "ProfileNotFound" in done.stderr and "'no-such-profile' (from AWS_PROFILE)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_sdk_loggers_are_quiet_unless_debug_and_verbose_shows_request_ids(slow: dict[str, Any], tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}  # no Alibaba credentials anywhere
    quiet = multiflow("list", "--provider", "alibaba", "--region", "cn-hangzhou", env=env)
    assert quiet.returncode == 1
    assert "Traceback" not in quiet.stderr and len(quiet.stderr.strip().splitlines()) == 1, quiet.stderr
    verbose = multiflow(
        "list",
        "--provider",
        "alibaba,aws",
        "--region",
        "alibaba:cn-hangzhou,aws:us-east-1",
        "-v",
        env=slow["environment"],
    )
    assert verbose.returncode == 0, verbose.stderr
    assert re.search(r"multiflow\.alibaba: DescribeFlowLogs .*request id [0-9A-F-]{36}", verbose.stderr)
    assert " botocore" not in verbose.stderr and " urllib3" not in verbose.stderr  # the SDKs only with --debug
    debug = multiflow("list", "--provider", "aws", "--region", "us-east-1", "--debug", env=slow["environment"])
    assert debug.returncode == 0 and " botocore." in debug.stderr


def test_regions_come_from_the_sdks_settings_when_not_given(slow: dict[str, Any], tmp_path: Path) -> None:
    env = slow["environment"]  # sets AWS_DEFAULT_REGION
    listed = multiflow("list", "--provider", "aws", "-o", "json", env=env)
    assert listed.returncode == 0, listed.stderr
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"current": "p", "profiles": [{"name": "p", "region_id": "cn-hangzhou"}]}))
    audited = multiflow(
        "audit", "--provider", "alibaba", "-o", "json", env={**env, "ALIBABA_CLOUD_CONFIG_FILE": str(config)}
    )
    assert audited.returncode == 0, audited.stderr
    assert json.loads(audited.stdout)["total"]["total"] > 0
    missing = multiflow("list", "--provider", "alibaba", env={"HOME": str(tmp_path)})
    assert (
        missing.returncode == 1
        and "no region for alibaba" in missing.stderr
        and "ALIBABA_CLOUD_REGION_ID" in missing.stderr
    )


def test_list_shows_destinations_and_says_when_empty_and_audit_of_nothing(slow: dict[str, Any], tmp_path: Path) -> None:
    env = slow["environment"]
    empty = multiflow("list", "--provider", "aws", "--region", "ap-south-1", env=env)
    assert empty.returncode == 0 and empty.stdout == "No flow logs found.\n"
    fleet = tmp_path / "aws.yaml"
    fleet.write_text(EXAMPLE.read_text().split("  - name: prod-vswitches")[0].replace("name: netops", "name: shown"))
    assert multiflow("apply", str(fleet), "--yes", env=env).returncode == 0
    listed = multiflow("list", "--provider", "aws", "--region", "us-east-1", env=env)
    assert "s3://central-flowlogs/prod/" in listed.stdout
    nothing = multiflow("audit", "--provider", "aws", "--region", "ap-south-1", "--kind", "network_interface", env=env)
    assert nothing.returncode == 0
    assert "no resources" in nothing.stdout and "100" not in nothing.stdout.splitlines()[-1]


# --- sandbox serve ----------------------------------------------------------------------------------------------


def test_sandbox_serve_env_prints_only_exports_with_fake_looking_keys() -> None:
    process = subprocess.Popen(
        [*COMMAND, "sandbox", "serve", "--env", "--seconds", "60", "--latency", "0.01"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        env=clean_environment(),
    )
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.stdout:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if any(x.startswith("export MULTIFLOW_ALIBABA_PROTOCOL") for x in lines) and any(
                x.startswith("export AWS_SECRET") for x in lines
            ):
                break
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert lines and all(re.fullmatch(r"export [A-Z_0-9]+=\S+", line) for line in lines), lines
    names = {line.split("=", 1)[0].removeprefix("export ") for line in lines}
    assert "AWS_ENDPOINT_URL_EC2" in names and "AWS_ENDPOINT_URL" not in names
    text = "\n".join(lines)
    assert not re.search(r"AKIA[A-Z0-9]{16}|ASIA[A-Z0-9]{16}|LTAI[A-Za-z0-9]{12,20}", text), text


@pytest.fixture
def plain() -> Iterator[dict[str, Any]]:
    """`sandbox serve` as a user starts it: no flags, only its demo estate (not shared with other tests)."""
    yield from serve()


def test_the_example_fleet_applies_cleanly_against_sandbox_serve(plain: dict[str, Any]) -> None:
    done = multiflow("apply", str(EXAMPLE), "--yes", "--timeout", "120", env=plain["environment"], timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 failed" in done.stdout and "Warning" not in done.stdout + done.stderr


# --- audit --fix-output -----------------------------------------------------------------------------------------


def test_fix_output_refuses_to_overwrite_follow_links_or_replace_the_template(tmp_path: Path) -> None:
    template = tmp_path / "template.yaml"
    template.write_text(EXAMPLE.read_text())
    base = ["audit", "--provider", "aws", "--region", "us-east-1", "--sandbox", "--fix", str(template)]
    existing = tmp_path / "existing.yaml"
    existing.write_text("keep me\n")
    refused = multiflow(*base, "--fix-output", str(existing))
    assert refused.returncode == 1 and "add --force" in refused.stderr
    assert existing.read_text() == "keep me\n"
    link = tmp_path / "link.yaml"
    link.symlink_to(existing)
    linked = multiflow(*base, "--fix-output", str(link), "--force")
    assert linked.returncode == 1 and "symbolic link" in linked.stderr and existing.read_text() == "keep me\n"
    itself = multiflow(*base, "--fix-output", str(template), "--force")
    assert itself.returncode == 1 and "the --fix template" in itself.stderr
    assert template.read_text() == EXAMPLE.read_text()
    forced = multiflow(*base, "--fix-output", str(existing), "--force")
    assert forced.returncode == 0, forced.stderr
    assert "flow_logs" in existing.read_text()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".multiflow-fix-")] == []
