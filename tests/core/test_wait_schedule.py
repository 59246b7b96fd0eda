"""The waiter's schedule by age (multiflow.wait_schedule), on a fake clock: a session whose flow logs settle a
known time after their creation, each poll taking a round trip of fake time (no real sleeping)."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import pytest

from multiflow.backoff import Backoff
from multiflow.errors import WaitTimeout
from multiflow.model import FlowLog, FlowLogStatus, ResourceRef
from multiflow.wait_schedule import MIN_SLEEP, SKEW, ages_of
from multiflow.waiting import WAIT_BACKOFF, WaitInterrupted, cancellable, idle_while_sleeping, wait_until

RTT = 0.03


class SettlingCloud:
    """Flow logs created at given (fake) times, each active ``settle[id]`` seconds later; a poll takes RTT."""

    provider = "test"
    region = "r"

    def __init__(self, created: dict[str, float], settle: dict[str, float]) -> None:
        self.now = max(created.values())
        self.created = created
        self.settle = settle
        self.polls: list[tuple[float, int]] = []
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        self.now += RTT / 2  # the cloud looks half a round trip after the poll is sent
        self.polls.append((self.now, len(ids)))
        answer = {i: self._flow_log(i) for i in ids}
        self.now += RTT / 2
        return answer

    def _flow_log(self, flow_log_id: str) -> FlowLog:
        active = self.now >= self.created[flow_log_id] + self.settle[flow_log_id]
        status = FlowLogStatus.ACTIVE if active else FlowLogStatus.ACTIVATING
        return FlowLog(
            id=flow_log_id, provider="test", region="r", resource=ResourceRef(kind=None, id="x"), status=status
        )

    @property
    def last_settled(self) -> float:
        return max(self.created[i] + self.settle[i] for i in self.created)

    def wait(self, *, aged: bool = True, timeout: float = 600.0, backoff: Backoff | None = None) -> None:
        # The client learns each creation when the create's answer comes back: a round trip after the cloud's.
        ages = {i: self.now - (at + RTT) for i, at in self.created.items()} if aged else None
        wait_until(
            self,  # type: ignore[arg-type]
            list(self.created),
            FlowLogStatus.ACTIVE,
            timeout=timeout,
            backoff=backoff,
            sleep=self.sleep,
            clock=self.clock,
            rng=random.Random(3),
            ages=ages,
        )


def spread(count: int, over: float, settle: float) -> SettlingCloud:
    """``count`` flow logs created evenly over ``over`` seconds (a run of creates at a cloud's rate), each settling
    ``settle`` seconds after its creation; the wait starts as the last create's answer comes back."""
    created = {f"fl-{n}": over * n / max(1, count - 1) for n in range(count)}
    cloud = SettlingCloud(created, dict.fromkeys(created, settle))
    cloud.now += RTT
    return cloud


@pytest.mark.parametrize(("count", "over"), [(200, 3.0), (200, 9.0), (200, 99.0), (5, 8.0)])
def test_a_wait_after_a_run_of_creates_ends_one_round_trip_after_the_last_activation(count: int, over: float) -> None:
    cloud = spread(count, over, settle=2.0)
    cloud.wait()
    # The first poll at once (the oldest settled long ago) shows the settle time; the next is the last one's.
    assert len(cloud.polls) == 2
    assert cloud.polls[-1][0] >= cloud.last_settled
    assert cloud.now <= cloud.last_settled + SKEW + 3 * RTT


def test_without_ages_the_wait_polls_from_its_own_start_and_ends_later() -> None:
    aged, unaged = spread(200, 3.0, settle=2.0), spread(200, 3.0, settle=2.0)
    aged.wait()
    unaged.wait(aged=False)
    assert unaged.now > aged.now + 0.1
    assert len(unaged.polls) > len(aged.polls)


def test_the_first_poll_waits_until_the_oldest_is_first_seconds_old() -> None:
    cloud = spread(1, 0.0, settle=2.0)  # one create, its answer just in
    cloud.wait()
    assert cloud.sleeps[0] == pytest.approx(WAIT_BACKOFF.first)  # its age is 0 when the wait starts
    assert cloud.polls[0][0] >= WAIT_BACKOFF.first


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_settle_times_that_vary_fall_back_to_the_ladder_bounded_and_never_busy(seed: int) -> None:
    rng = random.Random(seed)
    created = {f"fl-{n}": 3.0 * n / 199 for n in range(200)}
    cloud = SettlingCloud(created, {i: rng.uniform(1.0, 40.0) for i in created})
    cloud.now += RTT
    cloud.wait()
    assert all(MIN_SLEEP <= s <= WAIT_BACKOFF.cap for s in cloud.sleeps)
    assert cloud.now <= cloud.last_settled + WAIT_BACKOFF.cap + 2 * RTT
    assert len(cloud.polls) <= 25  # a 43 s wait: the ladder grows with the youngest's age, then every 5 s


def test_the_deadline_bounds_an_aged_wait() -> None:
    cloud = spread(10, 1.0, settle=1000.0)
    started = cloud.now
    with pytest.raises(WaitTimeout) as caught:
        cloud.wait(timeout=30.0)
    assert len(caught.value.ids) == 10
    assert cloud.now <= started + 30.0 + RTT


def test_a_cancelled_aged_wait_ends_before_polling_even_in_a_long_first_sleep() -> None:
    cloud = spread(3, 0.0, settle=2.0)
    cancel = threading.Event()
    cancel.set()
    # A first sleep of an hour: only the cancel event can end it (the real sleep is the event's wait).
    backoff = Backoff(base=0.5, factor=1.5, cap=5.0, first=3600.0)
    with cancellable(cancel), pytest.raises(WaitInterrupted):
        wait_until(cloud, list(cloud.created), FlowLogStatus.ACTIVE, timeout=7200, backoff=backoff, ages={"fl-0": 0.0})  # type: ignore[arg-type]
    assert cloud.polls == []


def test_an_aged_wait_holds_no_calling_slot_while_it_sleeps() -> None:
    cloud = spread(200, 3.0, settle=2.0)
    slot = threading.Semaphore(1)
    free_while_sleeping: list[bool] = []
    real_sleep = cloud.sleep

    def sleep(seconds: float) -> None:
        took = slot.acquire(blocking=False)
        free_while_sleeping.append(took)
        if took:
            slot.release()
        real_sleep(seconds)

    cloud.sleep = sleep  # type: ignore[method-assign]
    with idle_while_sleeping(slot):
        cloud.wait()
    assert free_while_sleeping and all(free_while_sleeping)


def test_ages_of_reads_created_at_and_skips_flow_logs_without_one() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)

    def made(flow_log_id: str, at: datetime | None) -> FlowLog:
        return FlowLog(
            id=flow_log_id,
            provider="test",
            region="r",
            resource=ResourceRef(kind=None, id="x"),
            status=FlowLogStatus.ACTIVATING,
            created_at=at,
        )

    ages = ages_of(
        [
            made("aware", now - timedelta(seconds=2.5)),
            made("naive", (now - timedelta(seconds=4)).replace(tzinfo=None)),  # read as UTC
            made("future", now + timedelta(seconds=3)),  # a cloud's clock ahead of ours: age 0, not negative
            made("unknown", None),
        ],
        now,
    )
    assert ages == {"aware": 2.5, "naive": 4.0, "future": 0.0}
