"""Wait, under a deadline, for many flow logs to leave a transitional state.

One poll asks the provider for all pending ids at once (:meth:`ProviderSession.get`, which batches: AWS up to
1000 ids a call, Alibaba a page of 50 at a time); between polls the waiter sleeps, never past the deadline. When
it is told how old each flow log is (``ages``: what ``create`` passes, from the provider's ``created_at``) its
schedule follows those ages and what its polls showed of the cloud's settle time
(:class:`multiflow.wait_schedule.PollSchedule`); without ages, exponential backoff with jitter from the wait's
start. Every loop here ends: by success, by failure, or by :class:`WaitTimeout`.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from multiflow.backoff import Backoff
from multiflow.errors import FlowLogFailed, ProviderError, ResourceFailure, WaitTimeout
from multiflow.model import DeliveryStatus, FlowLog, FlowLogStatus
from multiflow.provider import ProviderSession
from multiflow.wait_schedule import SETTLE_TIMES, PollSchedule, SettleTimes

__all__ = [
    "WAIT_BACKOFF",
    "Backoff",
    "FlowLogFailed",
    "Progress",
    "WaitInterrupted",
    "WaitResult",
    "cancellable",
    "idle_while_sleeping",
    "wait_until",
]

_CANCEL: ContextVar[threading.Event | None] = ContextVar("multiflow_wait_cancel", default=None)
_SLOT: ContextVar[threading.Semaphore | None] = ContextVar("multiflow_wait_slot", default=None)


class WaitInterrupted(WaitTimeout):
    """The wait was cancelled (``cancellable``'s event set, e.g. by Ctrl-C) before the flow logs settled; like a
    timeout it names the ids still pending and, for a create, the flow logs made."""


@contextmanager
def cancellable(event: threading.Event | None) -> Iterator[None]:
    """Waits in this thread (and context) end with :class:`WaitInterrupted` within one poll once ``event`` is set;
    the sleeps between polls wake up at once."""
    token = _CANCEL.set(event)
    try:
        yield
    finally:
        _CANCEL.reset(token)


@contextmanager
def idle_while_sleeping(slot: threading.Semaphore) -> Iterator[None]:
    """Hold ``slot`` (a bound on callers) in this thread and context, except while a wait sleeps between polls:
    a waiter that only sleeps needs no calling slot, so many waits overlap while few callers call at once.

    The slot is taken on entry (blocking) and given back on exit; each sleep gives it back and takes it again
    before the next poll.
    """
    slot.acquire()
    token = _SLOT.set(slot)
    try:
        yield
    finally:
        _SLOT.reset(token)
        slot.release()


def _idle(sleep: Callable[[float], None], slot: threading.Semaphore) -> Callable[[float], None]:
    def idle(seconds: float) -> None:
        slot.release()
        try:
            sleep(seconds)
        finally:
            slot.acquire()

    return idle


GONE = "gone"
"""The target for waiting on deletion: the flow log no longer exists."""


WAIT_BACKOFF = Backoff(base=0.5, factor=1.5, cap=5.0, jitter="equal", first=0.5)
"""The waiter's sleeps between polls: equal jitter, 0.5 s growing x1.5 to a 5 s cap, the first one 0.5 s.

Without ages, sleep ``n`` is ``backoff.delay(n)`` from the wait's start. With ages (:mod:`multiflow.wait_schedule`)
the same numbers apply to the youngest pending flow log's age: the first poll once the oldest is ``first`` old,
sleeps of ``base`` or half the youngest's age (``factor`` 1.5), capped, unless the polls have shown when the cloud
settles them. Equal rather than full jitter: a waiter polls a state the cloud changes on its own schedule, so
sleeps near zero only cost calls, while the random half still spreads many waiters apart. The cap is low (5 s)
because one poll costs ceil(pending/50) calls at most, and a late poll costs everyone's wall time.
"""


@dataclass(frozen=True)
class Progress:
    """What a waiter reports after each poll: how many are done, failed and still pending."""

    wanted: str
    total: int
    done: int
    failed: int
    pending: int
    elapsed: float


@dataclass
class WaitResult:
    """Flow logs that reached the wanted state (``None`` values when waiting for ``gone``) and those that failed."""

    done: dict[str, FlowLog | None] = field(default_factory=dict)
    failed: list[ResourceFailure] = field(default_factory=list)


def wait_until(
    session: ProviderSession,
    ids: Iterable[str],
    wanted: FlowLogStatus | str,
    *,
    timeout: float,
    backoff: Backoff | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
    ages: Mapping[str, float] | None = None,
    settle_times: SettleTimes | None = None,
) -> WaitResult:
    """Poll until every id is ``wanted`` (a status, or ``"gone"``), failed, or the deadline passes.

    ``ages`` (id → seconds since the flow log was created, now) makes the schedule follow each pending flow
    log's age instead of the wait's start (:class:`multiflow.wait_schedule.PollSchedule`); ``backoff`` gives its
    numbers (default :data:`WAIT_BACKOFF`). What an aged wait learns of the cloud's settle time is kept in
    ``settle_times`` (default: the process's, :data:`multiflow.wait_schedule.SETTLE_TIMES`) for the next wait of
    the same provider and wanted state.

    An id that settles in any other non-transitional state (``inactive`` while waiting for ``active``), or
    vanishes while waiting for ``active``, goes to ``failed``. If ids are still pending at the deadline,
    raises :class:`WaitTimeout` naming them and their last status.

    A poll that fails with a retryable error (the provider has retried it already: the cloud is down or
    throttling for longer) is waited out like a slow transition, until the deadline; the WaitTimeout then has
    the last error as its cause. Errors that are not retryable (auth, bad request) are raised at once.
    """
    backoff = backoff or WAIT_BACKOFF
    cancel = _CANCEL.get()
    if cancel is not None and sleep is time.sleep:
        sleep = _interruptible(cancel)
    slot = _SLOT.get()
    if slot is not None:
        sleep = _idle(sleep, slot)
    rng = rng or random.Random()
    pending = list(dict.fromkeys(ids))
    wanted_name = wanted.value if isinstance(wanted, FlowLogStatus) else wanted
    result = WaitResult()
    total = len(pending)
    start = clock()
    deadline = start + timeout
    last_seen: dict[str, str | None] = dict.fromkeys(pending)
    hint = _transitional_hint(wanted)
    memory = settle_times if settle_times is not None else SETTLE_TIMES
    kind = (str(getattr(session, "provider", "")), wanted_name)
    schedule = PollSchedule(backoff, start, dict(ages or {}), prior=memory.get(kind) if ages else None)
    pause = min(schedule.first_delay(pending), timeout)
    if pause > 0:
        sleep(pause)
    while pending:
        if cancel is not None and cancel.is_set():
            raise WaitInterrupted(pending, wanted_name, {i: last_seen[i] for i in pending}, timeout)
        sent = clock()
        try:
            current = session.get(pending, transitional=hint)
        except ProviderError as exc:
            if not exc.retryable:
                raise
            now = clock()
            if now >= deadline:
                raise WaitTimeout(pending, wanted_name, {i: last_seen[i] for i in pending}, timeout) from exc
            sleep(min(schedule.failed_delay(rng), deadline - now))
            continue
        still: list[str] = []
        for flow_log_id in pending:
            flow_log = current.get(flow_log_id)
            last_seen[flow_log_id] = flow_log.status.value if flow_log else GONE
            outcome = _judge(flow_log, wanted)
            if outcome == "done":
                result.done[flow_log_id] = flow_log
            elif outcome == "pending":
                still.append(flow_log_id)
            else:
                result.failed.append(ResourceFailure(flow_log_id, FlowLogFailed(flow_log_id, wanted_name, outcome)))
        now = clock()
        left = set(still)
        schedule.observe(sent, now, [i for i in pending if i not in left], still)
        pending = still
        if on_progress:
            on_progress(Progress(wanted_name, total, len(result.done), len(result.failed), len(pending), now - start))
        if schedule.aged:
            memory.put(kind, schedule.learned())
        if not pending:
            break
        if now >= deadline:
            raise WaitTimeout(pending, wanted_name, {i: last_seen[i] for i in pending}, timeout)
        sleep(min(schedule.next_delay(now, pending, rng), max(0.0, deadline - now)))
    return result


def _interruptible(event: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        event.wait(seconds)

    return sleep


def _transitional_hint(wanted: FlowLogStatus | str) -> FlowLogStatus | None:
    return {
        FlowLogStatus.ACTIVE: FlowLogStatus.ACTIVATING,
        FlowLogStatus.INACTIVE: FlowLogStatus.DEACTIVATING,
        GONE: FlowLogStatus.DELETING,
    }.get(wanted)


def _judge(flow_log: FlowLog | None, wanted: FlowLogStatus | str) -> str:
    """``done``, ``pending``, or the name of the state the flow log wrongly settled in."""
    if wanted == GONE:
        return "done" if flow_log is None else "pending"
    if flow_log is None:
        return GONE
    if flow_log.status == wanted:
        if wanted == FlowLogStatus.ACTIVE and flow_log.delivery_status is DeliveryStatus.SUSPENDED:
            return "active with its delivery suspended by the cloud"  # not a success: nothing is delivered
        return "done"
    if flow_log.status.transitional or flow_log.status == FlowLogStatus.UNKNOWN:
        return "pending"
    return flow_log.status.value
