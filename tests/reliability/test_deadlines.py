"""Deadlines: a flow log stuck in a transitional state, and a cloud that stops answering, end in a WaitTimeout or a
clear error that names what was being waited on; never in a hang. Every test measures how long it took against
the bound the settings promise."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import multiflow
from multiflow.client import Connections
from multiflow.errors import AuthError, PartialFailure, ServiceError, WaitTimeout
from multiflow.model import FlowLog, FlowLogStatus, ResourceRef
from multiflow.waiting import wait_until
from multiflow_alibaba.sandbox_support import ENDPOINT_VARIABLE, PROTOCOL_VARIABLE, connect_options
from multiflow_alibaba_emulator import AlibabaEmulator

pytestmark = pytest.mark.timeout(180)

REGION = "cn-hangzhou"
KEY_ID = "LTAI5tDeadlineTests00001"
SECRET = "deadline-tests-secret"
#: Slack for thread scheduling and process start on a busy CI machine, in seconds.
SLACK = 3.0


class BlackHole:
    """A loopback TCP server that accepts connections, reads what comes, and never answers: a hung cloud."""

    def __init__(self) -> None:
        self._server = socket.socket()
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(64)
        self.port = self._server.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        self._server.settimeout(0.05)
        while not self._stopped.is_set():
            try:
                conn, _ = self._server.accept()
            except OSError:
                continue
            self.connections.append(conn)

    def close(self) -> None:
        self._stopped.set()
        self._thread.join(5)
        for conn in [*self.connections, self._server]:
            conn.close()


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    try:
        yield hole
    finally:
        hole.close()


@pytest.fixture
def emu() -> Iterator[AlibabaEmulator]:
    with AlibabaEmulator(activation_delay=0.2, deletion_delay=0.2) as emulator:
        emulator.add_account(KEY_ID, SECRET)
        emulator.add_logstore(REGION, "deadline-project", "deadline-store")
        yield emulator


def alibaba(emu: AlibabaEmulator, **options: Any) -> multiflow.Client:
    return multiflow.connect("alibaba", region=REGION, **connect_options(emu, KEY_ID, rate_limit=None, **options))


def sls_spec(ids: list[str]) -> multiflow.FlowLogSpec:
    return multiflow.FlowLogSpec(
        resources={"kind": "subnet", "ids": ids},
        destination={"kind": "sls", "project": "deadline-project", "logstore": "deadline-store"},
    )


def switches(emu: AlibabaEmulator, n: int) -> list[str]:
    vpc = emu.add_vpc(REGION, tags={"env": "prod"})
    return [emu.add_vswitch(REGION, vpc, tags={"env": "prod"}) for _ in range(n)]


# -- stuck in a transitional state -------------------------------------------------------------------------------


def test_create_waiting_on_flow_logs_stuck_activating_times_out_naming_them(emu: AlibabaEmulator) -> None:
    ids = switches(emu, 3)
    client = alibaba(emu)
    emu.transitions_frozen = True  # Activating forever
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        client.create(sls_spec(ids), wait=True, timeout=2)
    assert time.monotonic() - started < 2 + SLACK
    created = caught.value.created
    assert sorted(caught.value.ids) == sorted(f.id for f in created) and len(created) == 3
    assert set(caught.value.last_seen.values()) == {"activating"}
    assert all(i in str(caught.value) for i in caught.value.ids) and "not active after 2s" in str(caught.value)


def test_wait_delete_and_modify_on_stuck_flow_logs_are_bounded(emu: AlibabaEmulator) -> None:
    ids = switches(emu, 2)
    client = alibaba(emu, settle_timeout=1.5)
    created = [f.id for f in client.create(sls_spec(ids), wait=True, timeout=10)]
    emu.set_status(created[0], "Activating")  # held there
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        client.wait(created, timeout=1.5)
    assert caught.value.ids == [created[0]] and time.monotonic() - started < 1.5 + SLACK
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        client.modify(created[0], interval=60)  # waits for the flow log to settle first: settle_timeout
    assert caught.value.ids == [created[0]] and time.monotonic() - started < 1.5 + SLACK
    emu.set_status(created[0], "Active")
    emu.transitions_frozen = True  # Deleting forever
    started = time.monotonic()
    with pytest.raises(WaitTimeout) as caught:
        client.delete(created, timeout=1.5)
    assert sorted(caught.value.ids) == sorted(created) and set(caught.value.last_seen.values()) == {"deleting"}
    assert time.monotonic() - started < 1.5 + SLACK


def test_apply_with_flow_logs_stuck_activating_reports_them_and_ends(emu: AlibabaEmulator) -> None:
    switches(emu, 4)
    fleet = multiflow.fleet.loads(
        textwrap.dedent("""\
        name: stuck
        flow_logs:
          - name: prod
            provider: alibaba
            regions: [cn-hangzhou]
            resources: {kind: subnet, where: {"tag:env": prod}}
            destination: {kind: sls, project: deadline-project, logstore: deadline-store}
        """)
    )
    emu.transitions_frozen = True
    with Connections(lambda provider, region: connect_options(emu, KEY_ID, rate_limit=None)) as connections:
        started = time.monotonic()
        result = multiflow.apply(multiflow.plan(fleet, connections), connections, timeout=2)
        assert time.monotonic() - started < 2 + SLACK
    assert not result.ok and len(result.failed) == 4
    assert {type(f.error) for f in result.failed} == {WaitTimeout}
    stuck = {r["FlowLogId"] for r in emu.flow_logs()}
    assert set(result.failed[0].error.ids) == stuck  # type: ignore[attr-defined]


def test_cli_apply_with_a_timeout_names_the_stuck_flow_logs(emu: AlibabaEmulator, tmp_path: Path) -> None:
    ids = switches(emu, 2)
    path = tmp_path / "stuck.yaml"
    path.write_text(
        textwrap.dedent(f"""\
        flow_logs:
          - name: prod
            provider: alibaba
            regions: [cn-hangzhou]
            resources: {{kind: subnet, ids: [{", ".join(ids)}]}}
            destination: {{kind: sls, project: deadline-project, logstore: deadline-store}}
        """)
    )
    emu.transitions_frozen = True
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ALIBABA_", "MULTIFLOW_"))}
    env = {k: v for k, v in env.items() if k.lower() not in ("http_proxy", "https_proxy")}
    env.update(
        {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": KEY_ID,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": SECRET,
            "ALIBABA_CLOUD_ECS_METADATA_DISABLED": "true",
            ENDPOINT_VARIABLE: emu.endpoint,
            PROTOCOL_VARIABLE: "http",
        }
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "multiflow.cli", "apply", str(path), "--yes", "--timeout", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert time.monotonic() - started < 2 + 30  # the process's start and imports included
    assert done.returncode == 1, done.stdout + done.stderr
    assert "WaitTimeout" in done.stdout and "not active after 2s" in done.stdout
    for flow_log in emu.flow_logs():
        assert flow_log["FlowLogId"] in done.stdout


# -- a cloud that stops answering ------------------------------------------------------------------------------


def test_aws_against_a_cloud_that_never_answers_fails_within_its_timeouts(black_hole: BlackHole) -> None:
    client = multiflow.connect(
        "aws",
        region="us-east-1",
        endpoint_url=f"http://127.0.0.1:{black_hole.port}",
        aws_access_key_id="AKIAEXAMPLE",
        aws_secret_access_key="not-a-secret",
        max_attempts=2,
        read_timeout=1,
        connect_timeout=1,
    )
    # Bound: attempts x read timeout, plus botocore's backoff between them (under 1 s for the first retry).
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        client.describe()
    assert caught.value.code == "ConnectionError" and caught.value.operation == "DescribeFlowLogs"
    assert time.monotonic() - started < 2 * 1 + 1 + SLACK
    spec = multiflow.FlowLogSpec(
        resources={"kind": "vpc", "ids": ["vpc-0a", "vpc-0b"]}, destination={"kind": "s3", "bucket": "b-bucket"}
    )
    started = time.monotonic()
    with pytest.raises(PartialFailure) as failure:
        client.create(spec)
    assert {f.resource_id for f in failure.value.failed} == {"vpc-0a", "vpc-0b"}
    assert all(f.error.code == "ConnectionError" for f in failure.value.failed)  # type: ignore[union-attr]
    assert time.monotonic() - started < 2 * 1 + 1 + SLACK


def test_alibaba_against_a_cloud_that_never_answers_fails_within_its_retry_timeout(black_hole: BlackHole) -> None:
    client = multiflow.connect(
        "alibaba",
        region=REGION,
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        endpoint=f"127.0.0.1:{black_hole.port}",
        protocol="http",
        rate_limit=None,
        read_timeout=1,
        connect_timeout=1,
        retry_timeout=2,
    )
    # Bound: no retry starts past retry_timeout, and the last attempt takes at most read_timeout.
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        client.describe()
    assert caught.value.code == "ConnectionError" and caught.value.operation == "DescribeFlowLogs"
    assert time.monotonic() - started < 2 + 1 + SLACK
    started = time.monotonic()
    with pytest.raises(PartialFailure) as failure:
        client.create(sls_spec(["vsw-a", "vsw-b"]), wait=False)
    assert {f.resource_id for f in failure.value.failed} == {"vsw-a", "vsw-b"}
    assert all(f.error.code == "ConnectionError" for f in failure.value.failed)  # type: ignore[union-attr]
    assert time.monotonic() - started < 2 + 1 + SLACK
    client.close()


def test_waiting_while_the_cloud_stops_answering_ends_at_the_deadline_naming_the_ids(emu: AlibabaEmulator) -> None:
    ids = switches(emu, 3)
    client = alibaba(emu, max_attempts=2, read_timeout=1, retry_timeout=1)
    emu.transitions_frozen = True
    created = [f.id for f in client.create(sls_spec(ids), wait=False)]
    emu.faults.drop_rate = 1.0  # from now on every call is dropped unanswered
    started = time.monotonic()
    with pytest.raises((WaitTimeout, ServiceError)) as caught:
        client.wait(created, timeout=3)
    assert time.monotonic() - started < 3 + 1 + SLACK
    assert isinstance(caught.value, WaitTimeout), f"{type(caught.value).__name__}: {caught.value}"
    assert sorted(caught.value.ids) == sorted(created)
    assert isinstance(caught.value.__cause__, ServiceError) and caught.value.__cause__.code == "ConnectionError"


class FlakySession:
    """Polls fail with ``errors`` in turn (None: answer, all ids activating then active), on a fake clock."""

    provider, region = "test", "r"

    def __init__(self, errors: list[Exception | None]) -> None:
        self.errors = errors
        self.polls = 0
        self.now = 0.0

    def get(self, ids: Any, *, transitional: Any = None) -> dict[str, FlowLog]:
        self.now += 0.5  # each poll takes a while
        error = self.errors[min(self.polls, len(self.errors) - 1)]
        self.polls += 1
        if error is not None:
            raise error
        status = FlowLogStatus.ACTIVE if self.polls > 2 else FlowLogStatus.ACTIVATING
        return {
            i: FlowLog(id=i, provider="test", region="r", resource=ResourceRef(kind=None, id=i), status=status)
            for i in ids
        }

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def down(code: str = "ServiceUnavailable") -> ServiceError:
    return ServiceError("test", code, "the cloud is down")


def test_the_waiter_waits_out_an_outage_shorter_than_its_deadline() -> None:
    session = FlakySession([None, down(), down(), None])
    result = wait_until(
        session, ["fl-1"], FlowLogStatus.ACTIVE, timeout=60, sleep=session.sleep, clock=lambda: session.now
    )  # type: ignore[arg-type]
    assert list(result.done) == ["fl-1"] and session.polls == 4


def test_an_outage_past_the_deadline_is_a_wait_timeout_naming_the_ids_with_the_error_as_cause() -> None:
    session = FlakySession([None, down("ConnectionError")])
    with pytest.raises(WaitTimeout) as caught:
        wait_until(
            session, ["fl-1", "fl-2"], FlowLogStatus.ACTIVE, timeout=10, sleep=session.sleep, clock=lambda: session.now
        )  # type: ignore[arg-type]
    assert caught.value.ids == ["fl-1", "fl-2"] and caught.value.last_seen == {
        "fl-1": "activating",
        "fl-2": "activating",
    }
    assert isinstance(caught.value.__cause__, ServiceError) and session.now < 10 + 0.5 + 0.5


def test_errors_that_time_will_not_cure_are_raised_at_once() -> None:
    session = FlakySession([AuthError("test", "SignatureDoesNotMatch", "wrong key")])
    with pytest.raises(AuthError):
        wait_until(session, ["fl-1"], FlowLogStatus.ACTIVE, timeout=60, sleep=session.sleep, clock=lambda: session.now)  # type: ignore[arg-type]
    assert session.polls == 1
