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
- **Ladder.** Otherwise the sleep is the backoff's ceiling for the *youngest* pending flow log's age: ``base``,
  or ``(factor - 1)`` × that age when longer (each poll then finds the youngest ``factor`` times older), capped
  at ``cap``, with the backoff's jitter. No sleep is longer than the cap, so stragglers and progress are seen at
  least that often.

A wait given no ages (deletes, starts, stops: the waiter cannot tell how old a change is) keeps the backoff's
own schedule from the wait's start: poll at once, then ``backoff.delay(n)``. Every sleep is at least
:data:`MIN_SLEEP` (never a busy loop); the waiter caps each by the time left before its deadline.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from multiflow.backoff import Backoff
from multiflow.model import FlowLog

__all__ = ["MIN_SLEEP", "SKEW", "PollSchedule", "ages_of"]

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
        (0 without ages: poll at once)."""
        known = [self.origins[i] for i in pending if i in self.origins]
        if not known:
            return 0.0
        wait = min(known) + self.backoff.first - self.start
        return wait if wait >= MIN_SLEEP else 0.0

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
        delay = self._ladder(max(0.0, now - youngest), rng) if learned is None else learned
        return max(MIN_SLEEP, min(self.backoff.cap, delay))

    def learned_delay(self, now: float, youngest: float) -> float | None:
        """Seconds until the flow log created at ``youngest`` reaches the learned settle age (with a round trip's
        margin), or ``None`` while nothing is learned or the bounds disagree."""
        if self.settled_by is None or self.pending_at >= self.settled_by:
            return None
        return youngest + self.settled_by + min(self.round_trip, SKEW) - now

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
