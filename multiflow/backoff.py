"""The one backoff and retry helper of multiflow and its providers (stdlib only).

Two pieces, used everywhere something is retried or polled:

- :class:`Backoff`, the sleep before try number ``n``: exponential (``min(cap, base * factor**n)``) with a choice
  of jitter. ``"equal"`` sleeps between half and all of that ceiling (pollers: a sleep near zero only costs a
  call); ``"full"`` sleeps anywhere from 0 to the ceiling (contended calls: spreads clients out the most);
  ``"none"`` sleeps the ceiling.
- :func:`retry`, a call retried while ``retryable(error)`` says so, bounded by attempts and/or a deadline on the
  monotonic clock. It never starts a sleep that would end past the deadline, and when attempts or time run out it
  re-raises the last error itself (not a wrapper), with its traceback.

Every knob that touches time is injectable (``sleep``, ``clock``, ``rng``), so tests run without real time.

Retrying a call (what the AWS IAM-propagation retry, the example provider and the Alibaba policy do)::

    from multiflow.backoff import Backoff, retry

    answer = retry(
        lambda: client.call(operation, body),
        retryable=lambda e: isinstance(e, ProviderError) and e.retryable,
        backoff=Backoff(base=0.2, cap=5.0, jitter="full", floor=0.05),
        deadline=time.monotonic() + 60.0,   # no retry starts past this (monotonic seconds)
        max_attempts=8,                     # attempts in all, the first included
        hint=lambda e: getattr(e, "retry_after", None),   # ProviderError.retry_after: honoured up to ``cap``
        on_retry=lambda e, attempt, pause: log.info("retry %d in %.2fs: %s", attempt, pause, e),
    )

A hook that must run before each re-send (e.g. "did the lost create succeed after all?") belongs in ``call``:
keep the last error in a closure and check it at the top of the next attempt.

Polling a state (what the waiter and a "wait until settled" loop do) uses :meth:`Backoff.delay` directly, capped
by what time is left: ``sleep(min(backoff.delay(n, rng), deadline - clock()))``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

__all__ = ["Backoff", "Jitter", "retry"]

T = TypeVar("T")

Jitter = Literal["equal", "full", "none"]
"""How a :class:`Backoff` randomises its sleeps: ``equal`` (½..1 of the ceiling), ``full`` (0..1), ``none`` (1)."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: the ceiling of sleep ``n`` (0-based) is ``min(cap, base * factor**n)``, jittered.

    :param base: the ceiling of the first sleep, in seconds.
    :param cap: the largest ceiling, in seconds.
    :param factor: how much the ceiling grows from one sleep to the next.
    :param jitter: ``"equal"`` (uniform in ½..1 of the ceiling), ``"full"`` (uniform in 0..ceiling) or ``"none"``.
    :param floor: the least any sleep takes, in seconds.
    :param first: the least the first sleep takes, in seconds (so a state the cloud needs a moment for is not
        polled in a burst).
    """

    base: float
    cap: float
    factor: float = 2.0
    jitter: Jitter = "equal"
    floor: float = 0.0
    first: float = 0.0

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.factor < 1 or self.floor < 0 or self.first < 0:
            raise ValueError(f"invalid backoff {self!r}: times must be >= 0 and factor >= 1")
        if self.jitter not in ("equal", "full", "none"):
            raise ValueError(f"invalid backoff jitter {self.jitter!r}: expected 'equal', 'full' or 'none'")

    def ceiling(self, attempt: int) -> float:
        """The un-jittered sleep number ``attempt`` (0-based): ``min(cap, base * factor**attempt)``."""
        # factor**attempt overflows a float near attempt 1000 at factor 2; the cap is reached long before that.
        if attempt > 1000:
            return self.cap
        return min(self.cap, self.base * self.factor ** max(0, attempt))

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The sleep number ``attempt`` (0-based: the sleep after the first failure or poll is number 0)."""
        ceiling = self.ceiling(attempt)
        if self.jitter == "equal":
            jittered = ceiling / 2 + rng.uniform(0, ceiling / 2)
        elif self.jitter == "full":
            jittered = rng.uniform(0, ceiling)
        else:
            jittered = ceiling
        least = max(self.floor, self.first) if attempt == 0 else self.floor
        return max(least, jittered)


def retry(
    call: Callable[[], T],
    *,
    retryable: Callable[[Exception], bool],
    backoff: Backoff,
    deadline: float | None = None,
    max_attempts: int | None = None,
    hint: Callable[[Exception], float | None] | None = None,
    on_retry: Callable[[Exception, int, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> T:
    """``call()``, retried with ``backoff`` while it raises an error ``retryable`` accepts; returns its result.

    :param retryable: whether an error is worth another attempt; any other error propagates at once.
    :param backoff: the sleeps between attempts (sleep 0 follows the first failure).
    :param deadline: a :func:`time.monotonic` instant (``clock``'s, when given) past which no sleep ends: a retry
        whose sleep would end later is not made, and the last error is raised instead.
    :param max_attempts: attempts in all, the first one included (1: no retries).
    :param hint: a server's own wait for an error (e.g. ``retry-after``), in seconds or ``None``; the sleep is at
        least that, up to ``backoff.cap``.
    :param on_retry: called as ``on_retry(error, attempt, pause)`` before each sleep (``attempt``: the failed
        attempt's number, from 1), e.g. to log.
    :raises ValueError: if neither ``deadline`` nor ``max_attempts`` bounds the retries.

    Only :class:`Exception`\\ s are retried: ``KeyboardInterrupt`` and ``SystemExit`` always propagate.
    """
    if deadline is None and max_attempts is None:
        raise ValueError("retry needs a deadline or max_attempts (or both)")
    if max_attempts is not None and max_attempts < 1:
        raise ValueError(f"max_attempts must be at least 1, not {max_attempts}")
    rng = rng or random.Random()
    attempt = 0
    while True:
        attempt += 1
        try:
            return call()
        except Exception as error:
            if not retryable(error) or (max_attempts is not None and attempt >= max_attempts):
                raise
            pause = backoff.delay(attempt - 1, rng)
            hinted = hint(error) if hint is not None else None
            if hinted:
                pause = max(pause, min(float(hinted), backoff.cap))
            if deadline is not None and clock() + pause > deadline:
                raise
            if on_retry is not None:
                on_retry(error, attempt, pause)
            sleep(pause)
