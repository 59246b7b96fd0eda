"""Rate limiting and retrying for Alibaba calls: adaptive limiters per API action, and one small policy.

Why our own policy rather than the SDK's ``RetryOptions``/autoretry (which the session turns off):

- the SDK matches retryable errors by exact code or exception name only; the rules we need are patterns and
  classes (any ``*Throttling*`` code, any 5xx, dropped connections, Terraform's list of busy codes);
- it has no overall deadline, only a count of attempts, and its backoff is not capped by what time is left;
- a create must not be blindly re-sent: CreateFlowLog has no ClientToken, so before re-sending one whose outcome
  is unknown (a dropped connection, a 5xx) we look for the flow log it may have made (``before_retry`` hook);
- every attempt must take a slot from its API's adaptive limiter (:class:`multiflow.limiter.AdaptiveLimiter`),
  which the SDK's inner loop would bypass, and tell it whether the cloud throttled it.

Limiting: one :class:`~multiflow.limiter.AdaptiveLimiter` per API action (Alibaba counts each API separately),
starting from the documented rate of the action (:data:`DOCUMENTED_RATES`) or the session's ``rate_limit``, and
following the cloud's ``Throttling.*`` answers down and its accepted calls up (:func:`limiters`).

The policy is :func:`multiflow.backoff.retry` with exponential backoff and full jitter
(``uniform(0, min(cap, base * 2**n))``: 0.2 s doubling to 5 s), at least ``floor`` (0.05 s) seconds, bounded by
``max_attempts`` and by a deadline ``timeout`` seconds after the first attempt; a server's ``retry-after`` hint
is honoured when it is longer (up to the cap). Errors that are not retryable (auth, bad parameters...) are
raised at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from multiflow.backoff import Backoff, retry
from multiflow.errors import ProviderError
from multiflow.limiter import Limiters

__all__ = ["DOCUMENTED_RATES", "RetryPolicy", "Stop", "limiters"]

log = logging.getLogger("multiflow.alibaba")

T = TypeVar("T")


#: Alibaba's documented per-API rate limits (calls per second, per account) where the API reference gives one: the
#: "request rate 600/60(s)" line of the action's page at api.aliyun.com/document/Vpc/2016-04-28/<Action>. Every
#: other action starts at the session's ``rate_limit``; docs/performance.md keeps this table with its sources.
DOCUMENTED_RATES: Mapping[str, float] = {
    "OpenFlowLogService": 600 / 60,
    "ModifyFlowLogAttribute": 600 / 60,
}


def limiters(rate_limit: float | None, burst: float | None = None, known: bool = False) -> Limiters:
    """The adaptive limiters of one budget (one per API action): the documented rates where known, capped by
    ``rate_limit``, which is also the start of every other action (``None``: no limiting at all).

    ``known``: ``rate_limit`` is the account's limit as far as the caller knows, so the limiters start there
    without slow start (``start_cap`` 1: no fast probing above it before the first throttle). Otherwise it is a
    guess (the default 20/s, where Alibaba documents nothing) and the limiters probe fast until the cloud throttles.
    """
    if not rate_limit:
        return Limiters(default=None)
    rates = {action: min(rate, rate_limit) for action, rate in DOCUMENTED_RATES.items()}
    if known:
        return Limiters(rates, default=rate_limit, burst=burst, start_cap=1.0)
    return Limiters(rates, default=rate_limit, burst=burst)


@dataclass(frozen=True)
class Stop(Generic[T]):
    """What a ``before_retry`` hook returns to end the retries with ``value`` as the call's result."""

    value: T


@dataclass
class RetryPolicy:
    """Jittered exponential backoff for retryable :class:`ProviderError`\\ s, under a deadline.

    :param max_attempts: attempts in all, the first one included (1 disables retrying).
    :param timeout: seconds after the first attempt past which no retry starts.
    :param base: the backoff ceiling of the first retry, in seconds (doubling each time).
    :param cap: the largest backoff ceiling, in seconds.
    :param floor: the least sleep between attempts, in seconds.
    """

    max_attempts: int = 8
    timeout: float = 60.0
    base: float = 0.2
    cap: float = 5.0
    floor: float = 0.05
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False)
    rng: random.Random = field(default_factory=random.Random, repr=False)

    @property
    def backoff(self) -> Backoff:
        """The sleeps between attempts: full jitter, ``base`` doubling to ``cap``, at least ``floor``."""
        return Backoff(base=self.base, cap=self.cap, factor=2.0, jitter="full", floor=self.floor)

    def delay(self, attempt: int, error: ProviderError) -> float:
        """The sleep after failed attempt number ``attempt`` (1-based)."""
        pause = self.backoff.delay(attempt - 1, self.rng)
        return max(pause, min(float(error.retry_after or 0.0), self.cap))

    def call(
        self,
        fn: Callable[[], T],
        *,
        describe: str,
        before_retry: Callable[[ProviderError], Stop[T] | None] | None = None,
    ) -> T:
        """``fn()``, retried while it raises a retryable :class:`ProviderError` and time and attempts remain.

        ``before_retry(error)`` runs before each retry; returning :class:`Stop` ends with its value (e.g. the flow
        log a create whose answer was lost did make). An error it raises ends the retries at once. The last error
        is raised when retrying ends.
        """
        failed: list[ProviderError] = []

        def attempt() -> Stop[T]:
            if failed and before_retry is not None:
                try:
                    stop = before_retry(failed[-1])
                except Exception as exc:
                    raise _HookFailed(exc) from exc
                if stop is not None:
                    return stop
            try:
                return Stop(fn())
            except ProviderError as error:
                failed.append(error)
                raise

        def retryable(error: Exception) -> bool:
            return isinstance(error, ProviderError) and error.retryable

        def on_retry(error: Exception, number: int, pause: float) -> None:
            log.info("%s: %s (attempt %d); retrying in %.2fs", describe, getattr(error, "code", error), number, pause)

        try:
            return retry(
                attempt,
                retryable=retryable,
                backoff=self.backoff,
                deadline=self.clock() + self.timeout,
                max_attempts=self.max_attempts,
                hint=lambda error: getattr(error, "retry_after", None),
                on_retry=on_retry,
                sleep=self.sleep,
                clock=self.clock,
                rng=self.rng,
            ).value
        except _HookFailed as wrapped:
            raise wrapped.error from wrapped.error.__cause__


class _HookFailed(Exception):
    """A ``before_retry`` hook's own error, carried past the retry loop (which must not retry it) unchanged."""

    def __init__(self, error: Exception) -> None:
        super().__init__(error)
        self.error = error
