"""When a batched waiter polls next: from the age of each flow log it waits on, and what its polls have shown.

The waiter (:func:`multiflow.waiting.wait_until`) asks about every pending id in one poll, so the question is only
*when* to poll. A wait that knows how old each pending flow log is (``ages``: seconds since its creation, from the
provider's ``created_at``) schedules by those ages rather than by its own start:

- **First poll.** Once the oldest pending flow log is :attr:`~multiflow.backoff.Backoff.first` seconds old: at
  once when the wait starts after a long run of creates (their first flow logs have settled already), a moment
  later when it starts right after the only create.
- **Learned settle age.** A cloud that settles flow logs after about the same time (Alibaba activates a flow log
  some seconds after CreateFlowLog) shows that time in the polls: each id seen settled bounds it from above (its
  age when the answer came), each id seen pending from below (its age when the poll was sent). While every id seen
  pending was younger than every id seen settled (the bounds agree), the next poll is when the youngest pending
  flow log reaches the least settled age, plus a round trip (at most :data:`SKEW`: the creation times are the
  client's, taken when each create's answer came, up to a round trip after the cloud's; the settled ages are
  taken when the poll's answer came, after the cloud looked, so they err long already). That is one poll for the
  last of them instead of a poll interval past it, and no polls in between (each would cost calls from the
  account's read budget and tell nothing new). When the bounds disagree (the cloud's times vary, or the learned
  poll found the youngest still pending), the ladder decides.
- **Ladder.** Otherwise the sleep is the backoff's ceiling for one pending flow log's age: ``base``, or
  ``(factor - 1)`` × that age when longer (each poll then finds it ``factor`` times older), capped at ``cap``, with
  the backoff's jitter. Before anything has settled that is the *oldest* pending flow log (how long the cloud has
  taken so far: the first to settle will be among the oldest); once some have settled but the bounds disagree, the
  *youngest* (the one the wait ends with). No sleep is longer than the cap, so stragglers and progress are seen at
  least that often.
- **Carried over.** What a wait learned is the prior of the next wait of the same kind in the process
  (:data:`SETTLE_TIMES`, by provider and wanted state): its first poll is when its youngest should have settled
  (at most ``cap`` away), so an organization's waits, region after region, need one poll each. A prior that is
  wrong is corrected by that poll: a flow log still pending past it makes the bounds disagree (the ladder, then
  this wait's own observations), and one settled earlier lowers the estimate.

A wait given no ages (deletes, starts, stops: the waiter cannot tell how old a change is) keeps the backoff's
own schedule from the wait's start: poll at once, then ``backoff.delay(n)``. Every sleep is at least
:data:`MIN_SLEEP` (never a busy loop); the waiter caps each by the time left before its deadline.
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from multiflow.backoff import Backoff
from multiflow.model import FlowLog

__all__ = ["MIN_SLEEP", "SETTLE_TIMES", "SKEW", "PollSchedule", "SettleTimes", "ages_of"]

#: The shortest sleep between two polls, whatever the schedule says (seconds).
MIN_SLEEP = 0.05
#: The most a learned poll allows for creation times taken up to a round trip after the cloud's (seconds).
SKEW = 0.05


@dataclass
class PollSchedule:
    """The poll schedule of one wait (the module docstring has the rules).

    :param backoff: the ladder's base, factor, cap, jitter and first poll.
    :param start: the wait's start, on the waiter's clock.
    :param ages: id → seconds since that flow log was created, at ``start`` (ids without one have none).
    """

    backoff: Backoff
    start: float
    ages: Mapping[str, float] = field(default_factory=dict)
    #: The settle age earlier waits of the same kind learned (:class:`SettleTimes`), ``None`` if none.
    prior: float | None = None
    #: Id → its creation on the waiter's clock, for the ids whose age is known.
    origins: dict[str, float] = field(init=False)
    #: The least age (at the answer) at which an id was seen settled; ``None`` before any.
    settled_by: float | None = field(init=False, default=None)
    #: The greatest age (at the poll's sending) at which an id was seen pending.
    pending_at: float = field(init=False, default=-math.inf)
    #: The last poll's round trip, seconds.
    round_trip: float = field(init=False, default=0.0)
    #: Sleeps taken on the ladder of the wait's start (a wait without ages) or after failed polls.
    attempt: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.origins = {
            i: self.start - max(0.0, float(age))
            for i, age in self.ages.items()
            if isinstance(age, (int, float)) and math.isfinite(age)
        }

    @property
    def aged(self) -> bool:
        """Whether the schedule follows the flow logs' ages (some are known) rather than the wait's start."""
        return bool(self.origins)

    def first_delay(self, pending: Iterable[str]) -> float:
        """The sleep before the first poll: until the oldest pending flow log is ``backoff.first`` seconds old
        (0 without ages: poll at once); with a prior, until the youngest should have settled (at most ``cap``)."""
        known = [self.origins[i] for i in pending if i in self.origins]
        if not known:
            return 0.0
        wait = min(known) + self.backoff.first - self.start
        if self.prior is not None:
            wait = max(wait, min(self.backoff.cap, max(known) + self.prior + SKEW - self.start))
        return wait if wait >= MIN_SLEEP else 0.0

    @property
    def estimate(self) -> float | None:
        """The settle age the next poll is timed by: this wait's least settled age, else the prior."""
        return self.settled_by if self.settled_by is not None else self.prior

    def learned(self) -> float | None:
        """What this wait teaches later ones (:class:`SettleTimes`): its least settled age while its bounds agree;
        when no id was ever seen pending, that age is only an upper bound, so no more than the prior; ``None`` when
        the bounds disagree (the cloud's times vary: nothing to carry over)."""
        if self.settled_by is None:
            return self.prior
        if self.pending_at >= self.settled_by:
            return None
        if self.pending_at == -math.inf and self.prior is not None:
            return min(self.prior, self.settled_by)
        return self.settled_by

    def observe(self, sent: float, answered: float, settled: Iterable[str], pending: Iterable[str]) -> None:
        """A poll sent at ``sent`` and answered at ``answered`` saw ``settled`` leave the wait and ``pending`` not."""
        self.round_trip = max(0.0, answered - sent)
        for flow_log_id in settled:
            origin = self.origins.get(flow_log_id)
            if origin is not None:
                age = answered - origin
                self.settled_by = age if self.settled_by is None else min(self.settled_by, age)
        for flow_log_id in pending:
            origin = self.origins.get(flow_log_id)
            if origin is not None:
                self.pending_at = max(self.pending_at, sent - origin)

    def next_delay(self, now: float, pending: Iterable[str], rng: random.Random) -> float:
        """The sleep before the next poll, from ``now`` (the last poll's answer), while ``pending`` are left."""
        if not self.aged:
            delay = self.backoff.delay(self.attempt, rng)
            self.attempt += 1
            return max(MIN_SLEEP, delay)
        known = [self.origins[i] for i in pending if i in self.origins]
        youngest = max(known) if known else self.start
        learned = self.learned_delay(now, youngest)
        if learned is not None:
            delay = learned
        else:
            # Nothing settled yet: the oldest pending says how long the cloud has taken so far. Some settled but
            # the bounds disagree: the youngest is the one the wait ends with.
            reference = (min(known) if known else self.start) if self.settled_by is None else youngest
            delay = self._ladder(max(0.0, now - reference), rng)
        return max(MIN_SLEEP, min(self.backoff.cap, delay))

    def learned_delay(self, now: float, youngest: float) -> float | None:
        """Seconds until the flow log created at ``youngest`` reaches the learned settle age (with a round trip's
        margin), or ``None`` while nothing is learned or the bounds disagree."""
        estimate = self.estimate
        if estimate is None or self.pending_at >= estimate:
            return None
        return youngest + estimate + min(self.round_trip, SKEW) - now

    def failed_delay(self, rng: random.Random) -> float:
        """The sleep after a poll that failed (a retryable error the provider could not retry away)."""
        delay = self.backoff.delay(self.attempt, rng)
        self.attempt += 1
        return max(MIN_SLEEP, delay)

    def _ladder(self, age: float, rng: random.Random) -> float:
        backoff = self.backoff
        ceiling = min(backoff.cap, max(backoff.base, age * (backoff.factor - 1)))
        if backoff.jitter == "equal":
            ceiling = ceiling / 2 + rng.uniform(0, ceiling / 2)
        elif backoff.jitter == "full":
            ceiling = rng.uniform(0, ceiling)
        return max(backoff.floor, ceiling)


class SettleTimes:
    """What waits learned of how long a cloud takes to settle a flow log, by (provider, wanted state): the prior
    of the next wait of that kind, so that the waits of an organization's regions, one after another, each need
    one poll rather than first learning the time again. Thread-safe; a wait whose cloud times varied forgets it."""

    def __init__(self) -> None:
        self._times: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<SettleTimes {len(self._times)}>"

    def get(self, key: tuple[str, str]) -> float | None:
        """The settle age learned for ``key``, if any."""
        with self._lock:
            return self._times.get(key)

    def put(self, key: tuple[str, str], seconds: float | None) -> None:
        """Remember ``seconds`` for ``key`` (``None``: forget it)."""
        with self._lock:
            if seconds is None:
                self._times.pop(key, None)
            else:
                self._times[key] = seconds

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._times.clear()


#: The process's settle times, shared by every wait (:func:`multiflow.waiting.wait_until`).
SETTLE_TIMES = SettleTimes()


def ages_of(flow_logs: Iterable[FlowLog], now: datetime | None = None) -> dict[str, float]:
    """Flow log id → seconds since its ``created_at`` (never negative; a time without a zone is read as UTC), for
    the flow logs that have one: what the waiter schedules its polls by (:mod:`multiflow.wait_schedule`)."""
    now = now or datetime.now(timezone.utc)
    ages: dict[str, float] = {}
    for flow_log in flow_logs:
        created = flow_log.created_at
        if created is None:
            continue
        if created.tzinfo is None:
            created = created.replace(tzinfo=timezone.utc)
        ages[flow_log.id] = max(0.0, (now - created).total_seconds())
    return ages
