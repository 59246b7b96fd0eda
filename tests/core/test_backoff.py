"""multiflow.backoff: the sleeps of each jitter, and retry's bounds (attempts, deadline, what is retried).

Time is injected (a fake clock that the fake sleep advances), so nothing here sleeps for real.
"""

from __future__ import annotations

import random

import pytest

from multiflow.backoff import Backoff, retry


class FakeTime:
    """A monotonic clock that only moves when slept on."""

    def __init__(self, start: float = 100.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept.append(seconds)
        self.now += seconds


class Flaky:
    """Raises the given errors in turn, then returns ``"ok"``; counts calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


class Busy(Exception):
    """A retryable error in these tests."""


def always(_: Exception) -> bool:
    return True


def busy(error: Exception) -> bool:
    return isinstance(error, Busy)


@pytest.mark.parametrize(
    ("jitter", "low"),
    [("equal", 0.5), ("full", 0.0), ("none", 1.0)],
)
def test_each_jitter_stays_within_its_share_of_the_capped_ceiling(jitter: str, low: float) -> None:
    backoff = Backoff(base=0.5, factor=2.0, cap=10.0, jitter=jitter)  # type: ignore[arg-type]
    rng = random.Random(7)
    for attempt in range(40):
        ceiling = min(10.0, 0.5 * 2.0**attempt)
        delays = [backoff.delay(attempt, rng) for _ in range(50)]
        assert all(low * ceiling <= d <= ceiling for d in delays), (attempt, delays)
        if jitter != "none":
            assert len({round(d, 9) for d in delays}) > 40  # actually random
    assert backoff.delay(5000, rng) <= 10.0  # no float overflow far past the cap


def test_floor_bounds_every_sleep_and_first_only_the_first() -> None:
    rng = random.Random(3)
    floored = Backoff(base=0.2, cap=5.0, jitter="full", floor=0.05)
    assert all(floored.delay(n, rng) >= 0.05 for n in range(20) for _ in range(50))
    first = Backoff(base=0.5, factor=1.5, cap=5.0, jitter="equal", first=0.5)
    assert all(first.delay(0, rng) == 0.5 for _ in range(20))  # equal jitter alone would give 0.25..0.5
    assert min(first.delay(1, rng) for _ in range(200)) < 0.5  # ...but later sleeps are not held up


def test_invalid_backoffs_are_refused() -> None:
    with pytest.raises(ValueError, match="jitter"):
        Backoff(base=1, cap=2, jitter="half")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="factor"):
        Backoff(base=1, cap=2, factor=0.5)


def test_retry_returns_once_the_call_succeeds_sleeping_the_backoff_between() -> None:
    fake = FakeTime()
    call = Flaky(Busy("1"), Busy("2"))
    backoff = Backoff(base=0.5, cap=10.0, jitter="none")
    result = retry(call, retryable=busy, backoff=backoff, max_attempts=5, sleep=fake.sleep, clock=fake.clock)
    assert result == "ok" and call.calls == 3
    assert fake.slept == [0.5, 1.0]


def test_retry_stops_at_max_attempts_and_reraises_the_last_error() -> None:
    fake = FakeTime()
    last = Busy("third")
    call = Flaky(Busy("first"), Busy("second"), last, Busy("never reached"))
    with pytest.raises(Busy) as caught:
        retry(
            call,
            retryable=always,
            backoff=Backoff(base=0.1, cap=1.0),
            max_attempts=3,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert caught.value is last
    assert call.calls == 3 and len(fake.slept) == 2


def test_retry_never_sleeps_past_the_deadline() -> None:
    fake = FakeTime()
    deadline = fake.now + 7.0
    call = Flaky(*[Busy(str(n)) for n in range(1000)])
    with pytest.raises(Busy):
        retry(
            call,
            retryable=always,
            backoff=Backoff(base=0.5, cap=10.0, jitter="none"),
            deadline=deadline,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert fake.now <= deadline
    assert fake.slept == [0.5, 1.0, 2.0]  # the next, 4.0, would end at 7.5: past the deadline, so not slept
    assert call.calls == 4


def test_retry_retries_only_what_retryable_accepts() -> None:
    fake = FakeTime()
    refused = ValueError("bad request")
    call = Flaky(Busy("throttled"), refused)
    with pytest.raises(ValueError) as caught:
        retry(call, retryable=busy, backoff=Backoff(base=0.1, cap=1.0), max_attempts=10, sleep=fake.sleep)
    assert caught.value is refused and call.calls == 2 and len(fake.slept) == 1


def test_keyboard_interrupt_is_never_retried() -> None:
    def interrupted() -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        retry(interrupted, retryable=always, backoff=Backoff(base=0.1, cap=1.0), max_attempts=5, sleep=FakeTime().sleep)


def test_a_hint_lengthens_the_sleep_up_to_the_cap_and_on_retry_sees_each_retry() -> None:
    fake = FakeTime()
    seen: list[tuple[str, int, float]] = []
    retry(
        Flaky(Busy("a"), Busy("b")),
        retryable=always,
        backoff=Backoff(base=0.1, cap=3.0, jitter="none"),
        max_attempts=5,
        hint=lambda e: 2.0 if str(e) == "a" else 60.0,
        on_retry=lambda e, attempt, pause: seen.append((str(e), attempt, pause)),
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert seen == [("a", 1, 2.0), ("b", 2, 3.0)]
    assert fake.slept == [2.0, 3.0]


def test_retry_must_be_bounded() -> None:
    with pytest.raises(ValueError, match="deadline or max_attempts"):
        retry(lambda: 1, retryable=always, backoff=Backoff(base=0.1, cap=1.0))
    with pytest.raises(ValueError, match="at least 1"):
        retry(lambda: 1, retryable=always, backoff=Backoff(base=0.1, cap=1.0), max_attempts=0)
