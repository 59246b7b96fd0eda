"""The one adaptive rate limiter of multiflow and its providers (stdlib only): a token bucket whose rate follows
the cloud's throttling answers.

How it works (:class:`AdaptiveLimiter`):

- **Pacing.** Each call reserves the next free slot of a token bucket (``rate`` a second, ``burst`` at once) and
  sleeps until it; slots are handed out in order, so threads never spin or race for a token.
- **Decrease.** When the cloud throttles a call, the rate falls to the smaller of ``decrease`` × the rate and the
  rate the cloud has *accepted* over the last second or so (:attr:`AdaptiveLimiter.window`, stretched to hold at
  least eight accepted calls at low rates): once we are above the cloud's limit, what it accepts is its limit,
  so a throttle or two is usually enough to find it. With less than a window of history the count is read as
  the cloud's one-second burst plus its rate since (``accepted / (elapsed + 1 s)``) and may halve the rate at
  most (during slow start, half of the larger of the starting rate and twice that estimate: what slow start
  added on a few answers is not a rate the cloud confirmed). Slots reserved before the decrease are given back
  and taken again at the new rate, and the bucket is emptied (the cloud's is empty too).
- **One decrease per round.** Every call carries a :class:`Ticket` of the round it was paced in; a throttle of a
  call paced before the last decrease says nothing new (it was sent at the old rate) and is not counted again.
- **Increase.** Each accepted call raises the rate by ``increase`` (relative: 0.2 % a call, so the time between
  two throttles is a fixed number of calls whatever the rate, and throttled calls stay a small, fixed share).
  Until the first throttle the limiter is starting and grows slow-start style (``start_increase``: by half
  with each accepted call) up to ``start_cap`` × the starting rate, so a cloud whose limit is above the starting
  one is reached within the first few answers. Clouds let a second's burst go at once and then their rate; a
  client below that rate while the cloud's bucket is full wastes what refills it, so the start must be fast: at
  10 % a call, 200 creates against a cloud of 50/s ended 0.3 s after the floor's 3 s (the ramp from 20/s to 50/s
  took about ten calls); at 50 % a call, four. The overshoot that ends the start is what one round trip at the
  start cap sends past the cloud's empty bucket: a few calls, whatever the cloud's limit.
- **Recovery.** A throttle measured over a stretch where calls stalled (a busy machine) says the cloud took less
  than it would have: when a whole window's measurement cuts deeper than ``decrease``, the rate climbs back fast
  (``start_increase`` a call) to ``decrease`` × the rate it had before, and only then probes slowly.

Why not botocore's ``adaptive`` retry mode: it is the same idea (a client-side token bucket whose fill rate
follows throttling, CUBIC growth from the rate measured at the last throttle, β = 0.7), but it lives inside one
botocore client, counts throttles per client rather than per API the cloud limits, and is not available to the
Alibaba SDK. Here one limiter is kept per (account, API action) by whoever owns the account's budget (see
:class:`Limiters`), any thread of any session sharing that account takes from it, waits are bounded, and every
clock and sleep is injectable so tests run on a fake clock. Growth is per accepted call rather than CUBIC in
time: the share of throttled calls is then the same at 2/s and at 50/s (about ``increase`` / ln(1/``decrease``)
≈ 1.2 % once found), which is the property the benchmark holds us to (≤ 5 % throttled, ≤ 1.1× the floor).

Use::

    limiter = AdaptiveLimiter(20.0)            # the documented (or default) rate of one API
    ticket = limiter.acquire()                 # waits for this call's slot (bounded: max_wait)
    try:
        answer = send()
    except Throttled:
        limiter.throttled(ticket)
        raise
    limiter.succeeded(ticket)
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

__all__ = ["AdaptiveLimiter", "LimiterTimeout", "Limiters", "Ticket"]

#: Rounds of "my slot was taken back by a decrease, reserve again" one acquire may go through.
_MAX_RESERVATIONS = 16
#: Accepted calls remembered for measuring the cloud's rate (a bound on memory, far above any window's need).
_MAX_REMEMBERED = 4096


class LimiterTimeout(TimeoutError):
    """No slot could be had within the wait allowed; the call was not made."""


@dataclass(frozen=True)
class Ticket:
    """One paced call: the round (``epoch``) it was paced in and when it was let go (the limiter's clock)."""

    epoch: int
    at: float


class AdaptiveLimiter:
    """A thread-safe token bucket whose rate adapts to throttling (the module docstring explains the rules).

    :param rate: the starting rate, calls per second (``0``: no limit, no adaptation).
    :param burst: calls let go at once from a full bucket (default: a third of a second's worth, at least 1).
    :param minimum: the rate never falls below this.
    :param maximum: the rate never rises above this (default: no cap beyond ``start_cap`` while starting).
    :param decrease: the factor a throttle multiplies the rate by, at most (0 < decrease < 1).
    :param increase: the relative increase per accepted call once throttled at least once.
    :param start_increase: the relative increase per accepted call before any throttle (slow start).
    :param start_cap: while starting, the rate stays under ``start_cap`` × ``rate``.
    :param window: seconds of accepted calls that measure the cloud's rate (stretched to hold 8 calls).
    :param max_wait: the longest one :meth:`acquire` waits, unless it is given its own ``timeout``.
    """

    def __init__(
        self,
        rate: float,
        *,
        burst: float | None = None,
        minimum: float = 0.2,
        maximum: float | None = None,
        decrease: float = 0.85,
        increase: float = 0.002,
        start_increase: float = 0.5,
        start_cap: float = 4.0,
        window: float = 1.0,
        max_wait: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate >= 0:  # also refuses NaN
            raise ValueError(f"rate must be 0 (no limit) or a positive number of calls per second, not {rate!r}")
        if not 0 < decrease < 1:
            raise ValueError(f"decrease must be between 0 and 1 (exclusive), not {decrease!r}")
        if minimum <= 0 or increase < 0 or start_increase < 0 or start_cap < 1 or window <= 0 or max_wait <= 0:
            raise ValueError("minimum, window and max_wait must be > 0, increases >= 0 and start_cap >= 1")
        if burst is not None and not burst >= 1:
            raise ValueError(f"burst must be at least 1 call, not {burst!r}")
        self.enabled = rate > 0
        self._rate = max(minimum, rate) if self.enabled else 0.0
        self.minimum = minimum
        self.maximum = maximum
        self.burst = burst if burst is not None else max(1.0, rate / 3)
        self.decrease = decrease
        self.increase = increase
        self.start_increase = start_increase
        self.start_ceiling = self._rate * start_cap
        self._start_rate = self._rate
        self.window = window
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._epoch = 0
        self._starting = True
        self._recover_to = 0.0
        self._first_accepted: float | None = None
        # The virtual time of the last slot handed out; a full bucket is `burst` slots before now.
        self._next = float("-inf")
        self._accepted: deque[float] = deque(maxlen=_MAX_REMEMBERED)
        #: Throttles reported, counted once per call (whether or not they changed the rate).
        self.throttles = 0
        #: Decreases made (one per round).
        self.decreases = 0

    def __repr__(self) -> str:
        if not self.enabled:
            return "<AdaptiveLimiter off>"
        return f"<AdaptiveLimiter {self._rate:.3g}/s burst {self.burst:g}, {self.decreases} decreases>"

    @property
    def rate(self) -> float:
        """The current rate, calls per second (0 when limiting is off)."""
        return self._rate

    def reserve(self) -> tuple[Ticket, float]:
        """Reserve the next slot without waiting: its ticket, and the seconds to wait before sending."""
        with self._lock:
            now = self._clock()
            if not self.enabled:
                return Ticket(self._epoch, now), 0.0
            slot = max(self._next, now - self.burst / self._rate) + 1.0 / self._rate
            self._next = slot
            return Ticket(self._epoch, max(now, slot)), max(0.0, slot - now)

    def acquire(self, timeout: float | None = None) -> Ticket:
        """Wait for this call's slot and return its ticket.

        :param timeout: the longest wait, in seconds (default :attr:`max_wait`).
        :raises LimiterTimeout: when the slot is further away than that (nothing is waited for then).
        """
        limit = self.max_wait if timeout is None else timeout
        deadline = self._clock() + limit
        for _ in range(_MAX_RESERVATIONS):
            ticket, wait = self.reserve()
            if self._clock() + wait > deadline:
                self._give_back(ticket)
                raise LimiterTimeout(f"no call slot within {limit:.3g}s at {self._rate:.3g} calls/s")
            if wait > 0:
                self._sleep(wait)
            with self._lock:
                if ticket.epoch == self._epoch:  # no decrease while waiting: the slot still holds
                    return Ticket(ticket.epoch, self._clock())
        raise LimiterTimeout(f"rate decreased {_MAX_RESERVATIONS} times while waiting for a slot")

    def _give_back(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket.epoch == self._epoch and self.enabled:
                self._next -= 1.0 / self._rate

    def succeeded(self, ticket: Ticket) -> None:
        """The cloud accepted the call of ``ticket``: count it toward the measured rate, and grow the rate."""
        if not self.enabled:
            return
        with self._lock:
            now = self._clock()
            self._accepted.append(now)
            if self._first_accepted is None:
                self._first_accepted = now
            if self._starting:
                self._rate = min(self.start_ceiling, self._rate * (1 + self.start_increase))
            elif self._rate < self._recover_to:
                # Below what the cloud took before the last throttle (a measurement taken while calls stalled):
                # back there fast, then probe slowly.
                self._rate = min(self._recover_to, self._rate * (1 + self.start_increase))
            else:
                self._rate *= 1 + self.increase
            if self.maximum is not None:
                self._rate = min(self._rate, self.maximum)

    def throttled(self, ticket: Ticket) -> None:
        """The cloud throttled the call of ``ticket``: decrease once per round (see the module docstring)."""
        if not self.enabled:
            return
        with self._lock:
            self.throttles += 1
            if ticket.epoch != self._epoch:
                return  # paced before the last decrease: already answered
            now = self._clock()
            span = max(self.window, 8.0 / self._rate)
            while self._accepted and self._accepted[0] < now - span:
                self._accepted.popleft()
            if self._first_accepted is None or now - self._first_accepted < span:
                # Less than a window of history: clouds let a second's worth go at once, so what was accepted is
                # that burst plus the rate over the time since; the estimate may cut the rate by half at most.
                elapsed = now - (self._first_accepted if self._first_accepted is not None else now)
                estimate = len(self._accepted) / (elapsed + 1.0)
                self._recover_to = 0.0
                # What slow start added before any answer confirmed it is not the rate to halve from.
                confirmed = min(self._rate, max(self._start_rate, 2 * estimate)) if self._starting else self._rate
                self._rate = max(self.minimum, confirmed * 0.5, min(self._rate * self.decrease, estimate))
            else:
                measured = len(self._accepted) / span
                # A measurement far below the rate we had (calls stalled in the window: a busy machine) is
                # climbed back from fast, up to decrease x that rate.
                self._recover_to = self._rate * self.decrease if measured < self._rate * self.decrease else 0.0
                self._rate = max(self.minimum, min(self._rate * self.decrease, measured))
            self._starting = False
            self._epoch += 1
            self.decreases += 1
            self._next = now  # an empty bucket; slots handed out before are taken again (acquire)


class Limiters:
    """The limiters of one budget (one account, say), one :class:`AdaptiveLimiter` per API action, made on first use.

    :param rates: action → starting rate (calls per second), e.g. a cloud's documented per-API limits.
    :param default: the starting rate of any other action (``None`` or 0: no limit).
    :param burst: each limiter's burst (default: the limiter's own).
    :param options: more :class:`AdaptiveLimiter` keyword arguments (``clock``, ``sleep``, ``max_wait``...).
    """

    def __init__(
        self,
        rates: Mapping[str, float] | None = None,
        *,
        default: float | None = 20.0,
        burst: float | None = None,
        **options: object,
    ) -> None:
        self.rates = dict(rates or {})
        self.default = default or 0.0
        self.burst = burst
        self._options = options
        self._limiters: dict[str, AdaptiveLimiter] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Limiters {len(self._limiters)} actions, default {self.default:g}/s>"

    def __call__(self, action: str) -> AdaptiveLimiter:
        """The limiter of ``action``."""
        with self._lock:
            limiter = self._limiters.get(action)
            if limiter is None:
                rate = self.rates.get(action, self.default)
                limiter = AdaptiveLimiter(rate, burst=self.burst, **self._options)  # type: ignore[arg-type]
                self._limiters[action] = limiter
            return limiter

    def snapshot(self) -> dict[str, float]:
        """Action → current rate, for reports and logs."""
        with self._lock:
            return {action: limiter.rate for action, limiter in self._limiters.items()}
