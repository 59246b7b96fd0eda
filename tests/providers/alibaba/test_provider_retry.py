"""The Alibaba retry policy (:class:`multiflow_alibaba.retry.RetryPolicy`) on fake time: its sleeps, its bounds,
the ``before_retry`` hook and the server's retry-after hint. Over HTTP it is exercised by test_provider_errors."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from multiflow.errors import AuthError, NotFound, ProviderError, ServiceError, Throttled
from multiflow_alibaba.retry import RetryPolicy, Stop


class FakeTime:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def policy(time: FakeTime, seed: int = 7, **settings: float) -> RetryPolicy:
    return RetryPolicy(sleep=time.sleep, clock=time.clock, rng=random.Random(seed), **settings)  # type: ignore[arg-type]


def failing(errors: list[ProviderError], then: str = "ok") -> tuple[Callable[[], str], list[int]]:
    """A call that raises ``errors`` one by one, then answers ``then``; and its count of calls."""
    calls = [0]

    def call() -> str:
        calls[0] += 1
        if errors:
            raise errors.pop(0)
        return then

    return call, calls


def busy(retry_after: float | None = None) -> ProviderError:
    return Throttled("alibaba", "Throttling.User", "slow down", retry_after=retry_after)


def test_sleeps_are_full_jitter_doubling_from_0_2_to_5_seconds_at_least_0_05() -> None:
    time = FakeTime()
    call, calls = failing([busy() for _ in range(10)])
    with pytest.raises(Throttled):
        policy(time, max_attempts=10, timeout=1000).call(call, describe="test")
    assert calls[0] == 10 and len(time.sleeps) == 9
    rng = random.Random(7)
    expected = [max(0.05, rng.uniform(0, min(5.0, 0.2 * 2**n))) for n in range(9)]
    assert time.sleeps == pytest.approx(expected)
    assert all(0.05 <= pause <= 5.0 for pause in time.sleeps)


def test_attempts_bound_the_retries() -> None:
    time = FakeTime()
    call, calls = failing([busy() for _ in range(5)])
    with pytest.raises(Throttled):
        policy(time, max_attempts=3).call(call, describe="test")
    assert calls[0] == 3


def test_no_retry_starts_past_the_deadline() -> None:
    time = FakeTime()
    call, calls = failing([busy(retry_after=2.0) for _ in range(20)])
    with pytest.raises(Throttled):
        policy(time, max_attempts=100, timeout=5.0).call(call, describe="test")
    assert time.now <= 5.0 and calls[0] == 3  # sleeps of 2 s each: 2 + 2 fit in 5 s, a third would not


def test_the_servers_retry_after_is_honoured_up_to_the_cap() -> None:
    time = FakeTime()
    call, _ = failing([busy(retry_after=3.0), busy(retry_after=60.0)])
    assert policy(time, timeout=100).call(call, describe="test") == "ok"
    assert time.sleeps == [3.0, 5.0]


def test_errors_that_are_not_retryable_are_raised_at_once() -> None:
    time = FakeTime()
    call, calls = failing([AuthError("alibaba", "SignatureDoesNotMatch", "no"), busy()])
    with pytest.raises(AuthError):
        policy(time).call(call, describe="test")
    assert calls[0] == 1 and time.sleeps == []


def test_before_retry_runs_before_each_retry_and_can_stop_with_a_value() -> None:
    time = FakeTime()
    seen: list[str] = []

    def look(error: ProviderError) -> Stop[str] | None:
        seen.append(error.code)
        return Stop("adopted") if len(seen) == 2 else None

    lost = [ServiceError("alibaba", "ServiceUnavailable", "lost") for _ in range(5)]
    call, calls = failing(lost)
    assert policy(time).call(call, describe="test", before_retry=look) == "adopted"
    assert seen == ["ServiceUnavailable", "ServiceUnavailable"] and calls[0] == 2 and len(time.sleeps) == 2


def test_an_error_of_before_retry_ends_the_retries_unchanged() -> None:
    time = FakeTime()
    refused = NotFound("alibaba", "InvalidFlowLogId.NotFound", "gone")  # not retryable
    retryable = ServiceError("alibaba", "ServiceUnavailable", "the lookup failed too")

    for raised in (refused, retryable):
        calls_of_look = [0]

        def look(error: ProviderError, raised: ProviderError = raised, count: list[int] = calls_of_look) -> None:
            count[0] += 1
            raise raised

        call, calls = failing([busy() for _ in range(5)])
        with pytest.raises(ProviderError) as caught:
            policy(time).call(call, describe="test", before_retry=look)
        assert caught.value is raised and calls[0] == 1 and calls_of_look[0] == 1


def test_other_exceptions_are_bugs_and_propagate() -> None:
    time = FakeTime()

    def broken() -> str:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        policy(time).call(broken, describe="test")
    assert time.sleeps == []


def test_the_settle_poll_sleeps_half_to_all_of_0_2_s_doubling_to_5_s() -> None:
    from multiflow_alibaba.session import SETTLE_BACKOFF

    assert [SETTLE_BACKOFF.ceiling(n) for n in range(7)] == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    rng = random.Random(3)
    for n in range(10):
        ceiling = SETTLE_BACKOFF.ceiling(n)
        assert ceiling / 2 <= SETTLE_BACKOFF.delay(n, rng) <= ceiling
