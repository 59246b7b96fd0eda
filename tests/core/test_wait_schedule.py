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
from multiflow.wait_schedule import MIN_SLEEP, SKEW, SettleTimes, ages_of
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

    def wait(
        self,
        *,
        aged: bool = True,
        timeout: float = 600.0,
        backoff: Backoff | None = None,
        memory: SettleTimes | None = None,
    ) -> None:
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
            settle_times=memory if memory is not None else SettleTimes(),  # nothing learned before, unless given
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


def test_before_anything_settles_the_polls_follow_the_oldest_pending_age() -> None:
    # Five creates over 2 s (one region's share of an account's limit), active 3 s after each: nothing is active
    # when the wait starts, so sleeps follow the oldest's age (2 s and growing), not the newest's (0 s).
    cloud = spread(5, 2.0, settle=3.0)
    cloud.wait()
    assert cloud.sleeps[0] >= 0.5 * (2.0 * (WAIT_BACKOFF.factor - 1))  # equal jitter: at least half of 1 s
    assert len(cloud.polls) <= 4
    # The settle time learned from a poll that came 0.27 s after the second settled errs long by that much.
    assert cloud.now <= cloud.last_settled + WAIT_BACKOFF.base


def test_what_one_wait_learned_times_the_next_waits_single_poll() -> None:
    memory = SettleTimes()
    first = spread(5, 2.0, settle=3.0)  # nothing settled at its start: it learns the time over a few polls
    first.wait(memory=memory)
    learned = memory.get(("test", "active"))
    assert learned is not None and 3.0 <= learned <= 3.0 + WAIT_BACKOFF.base
    for _ in range(3):  # the next regions' waits, one after another
        cloud = spread(5, 2.0, settle=3.0)
        cloud.wait(memory=memory)
        assert len(cloud.polls) == 1  # timed by the prior: one poll, when the youngest should be active
        assert cloud.polls[0][0] >= cloud.last_settled
    assert memory.get(("test", "active")) == learned  # no drift: a poll that found all settled is no new bound


def test_a_prior_too_short_is_corrected_by_the_wait_itself() -> None:
    memory = SettleTimes()
    memory.put(("test", "active"), 1.0)  # the cloud took 1 s before; now it takes 4 s
    cloud = spread(5, 2.0, settle=4.0)
    cloud.wait(memory=memory)
    assert cloud.now <= cloud.last_settled + WAIT_BACKOFF.cap
    learned = memory.get(("test", "active"))
    assert learned is not None and learned >= 4.0


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
    memory = SettleTimes()
    memory.put(("test", "active"), 2.0)  # what an earlier wait learned: wrong for this cloud
    cloud.wait(memory=memory)
    assert memory.get(("test", "active")) is None  # times that vary teach the next wait nothing
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
        wait_until(
            cloud,  # type: ignore[arg-type]
            list(cloud.created),
            FlowLogStatus.ACTIVE,
            timeout=7200,
            backoff=backoff,
            ages={"fl-0": 0.0},
            settle_times=SettleTimes(),
        )
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
