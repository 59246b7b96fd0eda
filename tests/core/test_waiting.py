"""The deadline-bounded waiter, driven by a scripted provider session and a fake clock (no real sleeping).

The real path (the Alibaba emulator's Activating → Active) is exercised in tests/providers/alibaba; here the
timing rules are checked exactly: deadlines, backoff bounds, failure on a wrong final state.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from multiflow.errors import WaitTimeout
from multiflow.model import FlowLog, FlowLogStatus, ResourceRef
from multiflow.waiting import GONE, Backoff, FlowLogFailed, wait_until


def flow_log(flow_log_id: str, status: FlowLogStatus) -> FlowLog:
    return FlowLog(id=flow_log_id, provider="test", region="r", resource=ResourceRef(kind=None, id="x"), status=status)


class ScriptedSession:
    """Answers each poll from a script: poll n gets script[min(n, last)]."""

    provider = "test"
    region = "r"

    def __init__(self, script: list[dict[str, FlowLogStatus | None]]) -> None:
        self.script = script
        self.polls: list[tuple[tuple[str, ...], FlowLogStatus | None]] = []

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        state = self.script[min(len(self.polls), len(self.script) - 1)]
        self.polls.append((tuple(ids), transitional))
        return {i: flow_log(i, s) for i, s in state.items() if i in ids and s is not None}


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds


A, B = FlowLogStatus.ACTIVATING, FlowLogStatus.ACTIVE


def run(session: ScriptedSession, wanted: FlowLogStatus | str, timeout: float = 60.0) -> tuple[object, FakeTime]:
    fake = FakeTime()
    result = wait_until(
        session, ["fl-1", "fl-2"], wanted, timeout=timeout, sleep=fake.sleep, clock=fake.clock, rng=random.Random(7)
    )
    return result, fake


def test_waits_until_all_are_active_asking_for_pending_ids_only() -> None:
    session = ScriptedSession([{"fl-1": A, "fl-2": A}, {"fl-1": B, "fl-2": A}, {"fl-1": B, "fl-2": B}])
    result, fake = run(session, FlowLogStatus.ACTIVE)
    assert set(result.done) == {"fl-1", "fl-2"} and not result.failed
    assert [ids for ids, _ in session.polls] == [("fl-1", "fl-2"), ("fl-1", "fl-2"), ("fl-2",)]
    assert {hint for _, hint in session.polls} == {FlowLogStatus.ACTIVATING}
    assert len(fake.sleeps) == 2 and fake.sleeps[0] >= 0.5


def test_inactive_or_vanished_while_activating_fails_those_ids_only() -> None:
    session = ScriptedSession([{"fl-1": FlowLogStatus.INACTIVE, "fl-2": None}])
    result, _ = run(session, FlowLogStatus.ACTIVE)
    assert not result.done
    reasons = {f.resource_id: f.error for f in result.failed}
    assert isinstance(reasons["fl-1"], FlowLogFailed) and reasons["fl-1"].status == "inactive"
    assert str(reasons["fl-2"]) == "flow log fl-2 became gone while waiting for active"


def test_waiting_for_gone_hints_deleting() -> None:
    session = ScriptedSession([{"fl-1": FlowLogStatus.DELETING, "fl-2": None}, {}])
    result, _ = run(session, GONE)
    assert set(result.done) == {"fl-1", "fl-2"}
    assert session.polls[0][1] is FlowLogStatus.DELETING


def test_deadline_raises_wait_timeout_naming_ids_and_last_status_and_never_oversleeps() -> None:
    session = ScriptedSession([{"fl-1": B, "fl-2": A}])
    with pytest.raises(WaitTimeout) as caught:
        run(session, FlowLogStatus.ACTIVE, timeout=30.0)
    error = caught.value
    assert error.ids == ["fl-2"] and error.last_seen == {"fl-2": "activating"}
    assert str(error) == "1 flow log(s) not active after 30s: fl-2 (activating)"
    assert len(session.polls) < 40  # bounded: backoff grows to its cap


def test_backoff_grows_with_jitter_to_its_cap() -> None:
    backoff = Backoff(base=0.5, factor=1.5, cap=5.0, first=0.5)
    rng = random.Random(1)
    delays = [backoff.delay(n, rng) for n in range(50)]
    assert delays[0] >= 0.5
    assert all(0.25 <= d <= 5.0 for d in delays)
    assert all(d >= 2.5 for d in delays[10:])  # equal jitter: at least half the (capped) ceiling
    assert len({round(d, 6) for d in delays[10:]}) > 30  # and jittered
