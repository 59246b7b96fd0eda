"""Carry out a :class:`~multiflow.planning.Plan`: per provider and region, deletes, then in-place updates, then creates.

``apply(plan, connections)`` is a function of the plan (a value) and the clients it was read with.

Groups (a provider in one region of one account) run concurrently: every group at once (up to
:data:`~multiflow.scope.MAX_WAITING`), at most :data:`~multiflow.scope.MAX_PARALLEL` of them calling at a time (a
group waiting for activations gives its calling slot back while it sleeps between polls, so the waits of all groups
overlap), taken round-robin over accounts (the clouds' rate limits are per account). Inside a group, deletes come
first (a replacement on a cloud that allows one flow log per resource, or per destination, needs the old one gone),
then updates, then creates, each batched by the provider (AWS: 300 a call, 25 for transit gateways; Alibaba: concurrent
calls under its rate limit) and waited on in bulk; then flow logs planned as ``wait`` (still activating) are
waited on, under the same timeout. A failure on some resources never stops the others: every change ends in
``done`` or ``failed`` with its error. A flow log already gone when apply deletes it (deleted by hand after plan)
is done: NotFound on a delete means gone.

The plan's failed targets (providers or regions plan could not read) are carried into the result, which is then
not ``ok``: what could be read is applied, the rest is reported.

With ``cancel`` (a :class:`threading.Event`, set by the CLI on Ctrl-C), once it is set every group starts no new
call and ends its waits within one poll: changes made but still activating (or deleting) go to ``in_progress``,
those not begun to ``not_started``, and ``interrupted`` is true. A rerun of the same plan converges.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from multiflow.client import Client, Connections
from multiflow.errors import MultiflowError, NotFound, PartialFailure, ProviderError, SpecError
from multiflow.model import FlowLog, FlowLogStatus
from multiflow.ownership import managed_tags
from multiflow.planning import Action, Change, FailedTarget, Plan
from multiflow.scope import MAX_PARALLEL, MAX_WAITING, Place, across_accounts
from multiflow.waiting import Progress, WaitInterrupted, cancellable, idle_while_sleeping

__all__ = ["ApplyInterrupted", "ApplyResult", "Failure", "ProgressEvent", "apply"]

#: The differences a Client.modify argument of the same name changes (option fields go as ``options``).
_IN_PLACE = ("name", "description", "interval", "tags")


@dataclass(frozen=True)
class ProgressEvent:
    """Where apply is: which group, which phase, how far."""

    provider: str
    region: str
    phase: str
    done: int
    total: int
    failed: int = 0
    account: str = ""


@dataclass(frozen=True)
class Failure:
    """A change that did not happen, and why (the neutral error keeps the provider's code and request id)."""

    change: Change
    error: MultiflowError

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        error = self.error
        provider_error = error if isinstance(error, ProviderError) else None
        return {
            **self.change.as_dict(),
            "error": str(error),
            "error_class": type(error).__name__,
            "code": provider_error.code if provider_error else None,
            "request_id": provider_error.request_id if provider_error else None,
        }


@dataclass
class ApplyResult:
    """Every change of the plan, done or failed; conflicts are skipped; the plan's unread targets, as they were.
    After a cancel, ``in_progress`` holds the changes made but not yet settled (activating, deleting) and
    ``not_started`` those never begun."""

    done: list[Change] = field(default_factory=list)
    failed: list[Failure] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)
    created: list[FlowLog] = field(default_factory=list)
    failed_targets: list[FailedTarget] = field(default_factory=list)
    in_progress: list[Change] = field(default_factory=list)
    not_started: list[Change] = field(default_factory=list)
    interrupted: bool = False

    def merge(self, other: ApplyResult) -> None:
        """Add ``other``'s changes to these (one group's result into the whole)."""
        self.done += other.done
        self.failed += other.failed
        self.created += other.created
        self.in_progress += other.in_progress
        self.not_started += other.not_started
        self.interrupted = self.interrupted or other.interrupted

    @property
    def ok(self) -> bool:
        """Whether nothing failed, and every target of the fleet was read."""
        return not self.failed and not self.failed_targets

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "ok": self.ok,
            "failed_targets": [t.as_dict() for t in self.failed_targets],
            "done": [c.as_dict() for c in self.done],
            "failed": [f.as_dict() for f in self.failed],
            "skipped": [c.as_dict() for c in self.skipped],
            "interrupted": self.interrupted,
            "in_progress": [c.as_dict() for c in self.in_progress],
            "not_started": [c.as_dict() for c in self.not_started],
        }


class ApplyInterrupted(KeyboardInterrupt):
    """A second interrupt: apply returned without waiting for its groups; ``result`` is what they had reported."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__("apply interrupted")
        self.result = result


def apply(
    plan: Plan,
    connections: Connections | None = None,
    *,
    timeout: float = 900.0,
    progress: Callable[[ProgressEvent], None] | None = None,
    cancel: threading.Event | None = None,
) -> ApplyResult:
    """Do every pending change of ``plan`` with the clients of ``connections`` (those plan read with; without,
    clients of its own, closed when done); see the module docstring for the order.

    >>> result = multiflow.apply(multiflow.plan(fleet, connections), connections)   # doctest: +SKIP
    """
    result = ApplyResult(skipped=list(plan.conflicts), failed_targets=list(plan.failed_targets))
    groups: dict[Place, list[Change]] = {}
    for change in plan.pending:
        groups.setdefault(change.place, []).append(change)
    if not groups:
        return result
    if connections is None:
        with Connections() as made:
            return _apply_groups(groups, plan, made, result, timeout, progress, cancel)
    return _apply_groups(groups, plan, connections, result, timeout, progress, cancel)


def _apply_groups(
    groups: dict[Place, list[Change]],
    plan: Plan,
    connections: Connections,
    result: ApplyResult,
    timeout: float,
    progress: Callable[[ProgressEvent], None] | None,
    cancel: threading.Event | None = None,
) -> ApplyResult:
    running: dict[Place, _Group] = {}
    # Every group may wait at once (a sleeping thread), but only MAX_PARALLEL call at once: a group holds a calling
    # slot from its first call to its last and gives it back while its waits sleep between polls.
    calling = threading.BoundedSemaphore(MAX_PARALLEL)

    def run(key: Place) -> ApplyResult:
        with idle_while_sleeping(calling):
            return in_slot(key)

    def in_slot(key: Place) -> ApplyResult:
        try:
            client = connections.client(key.provider, key.region, plan.account(key.provider, key.account))
        except SpecError:
            raise
        except MultiflowError as exc:
            # The account cannot be entered now (its role was refused since plan): its changes fail, not the run.
            return ApplyResult(failed=[Failure(change, exc) for change in groups[key]])
        group = running[key] = _Group(plan.fleet.name, client, timeout, progress, cancel)
        return group.run(groups[key])

    pool = ThreadPoolExecutor(max_workers=min(MAX_WAITING, len(groups)))
    try:
        # Round-robin over accounts, so that the callers spread over the accounts' rate limits; merged in plan order.
        order = across_accounts(groups, lambda place: place)
        partials = dict(zip(order, pool.map(run, order), strict=True))
        for key in groups:
            result.merge(partials[key])
    except KeyboardInterrupt:
        # Interrupted while joining (a second Ctrl-C): leave the calls in flight, say what is known so far.
        pool.shutdown(wait=False, cancel_futures=True)
        partial_result = ApplyResult(skipped=result.skipped)
        for key, changes in groups.items():
            group = running.get(key)
            if group is None:
                partial_result.not_started += changes
                continue
            partial_result.merge(group.result)
            # What the group had not reported yet was being made when the run stopped.
            made = group.result
            accounted = {id(c) for c in made.done + made.in_progress + made.not_started}
            accounted |= {id(f.change) for f in made.failed}
            partial_result.in_progress += [c for c in changes if id(c) not in accounted]
        partial_result.interrupted = True
        raise ApplyInterrupted(partial_result) from None
    pool.shutdown(wait=True)
    return result


class _Group:
    """One provider in one region."""

    def __init__(
        self,
        fleet: str,
        client: Client,
        timeout: float,
        progress: Callable[[ProgressEvent], None] | None,
        cancel: threading.Event | None = None,
    ) -> None:
        self.fleet = fleet
        self.client = client
        self.timeout = timeout
        self.progress = progress
        self.cancel = cancel
        self.result = ApplyResult()

    def _stopping(self, changes: Iterable[Change], *, made: bool = False) -> bool:
        """Whether a cancel came: then ``changes`` are recorded as not started (as in progress, when they are
        ``made`` already and only settling)."""
        if self.cancel is None or not self.cancel.is_set():
            return False
        self.result.interrupted = True
        (self.result.in_progress if made else self.result.not_started).extend(changes)
        return True

    def _report(self, phase: str, done: int, total: int, failed: int = 0) -> None:
        if self.progress:
            client = self.client
            self.progress(
                ProgressEvent(client.provider.name, client.region, phase, done, total, failed, client.account)
            )

    def _waiting(self, phase: str) -> Callable[[Progress], None]:
        return lambda p: self._report(phase, p.done, p.total, p.failed)

    def run(self, changes: list[Change]) -> ApplyResult:
        with cancellable(self.cancel):
            return self._run(changes)

    def _run(self, changes: list[Change]) -> ApplyResult:
        if self._stopping(changes):
            return self.result
        removals = [c for c in changes if c.action in (Action.DELETE, Action.REPLACE)]
        failed_ids = self._delete(removals)
        if self._stopping(c for c in changes if c.action in (Action.UPDATE, Action.CREATE)):
            return self.result
        self._update([c for c in changes if c.action is Action.UPDATE])
        creates = [c for c in changes if c.action is Action.CREATE]
        creates += [c for c in changes if c.action is Action.REPLACE and c.flow_log and c.flow_log.id not in failed_ids]
        if self.client.capabilities.one_flow_log_per_resource:
            # A resource whose old flow log could not be deleted (an entry renamed, say) would refuse the new one.
            still_held = {c.resource_id: c.flow_log.id for c in removals if c.flow_log and c.flow_log.id in failed_ids}
            blocked = [c for c in creates if c.resource_id in still_held]
            for change in blocked:
                held = still_held[change.resource_id]
                self._fail([change], MultiflowError(f"{change.resource_id}: not created, {held} could not be deleted"))
            creates = [c for c in creates if c.resource_id not in still_held]
        if self._stopping(creates):
            return self.result
        self._create(creates)
        waits = [c for c in changes if c.action is Action.WAIT]
        if self._stopping(waits, made=True):  # they exist and are activating: in progress
            return self.result
        self._wait(waits)
        return self.result

    def _wait(self, changes: list[Change]) -> None:
        """Wait for flow logs still activating when planned; each ends done (active) or failed."""
        by_id = {c.flow_log.id: c for c in changes if c.flow_log is not None}
        if not by_id:
            return
        self._report("wait", 0, len(by_id))
        failed: dict[str, MultiflowError] = {}
        try:
            self.client.wait(list(by_id), FlowLogStatus.ACTIVE, timeout=self.timeout, on_progress=self._waiting("wait"))
        except WaitInterrupted:
            self.result.in_progress += list(by_id.values())
            self.result.interrupted = True
            return
        except PartialFailure as exc:
            failed = {f.resource_id: f.error for f in exc.failed}
        except MultiflowError as exc:
            failed = dict.fromkeys(by_id, exc)
        for flow_log_id, change in by_id.items():
            if flow_log_id in failed:
                self.result.failed.append(Failure(change, failed[flow_log_id]))
            else:
                self.result.done.append(change)
        self._report("wait", len(by_id) - len(failed), len(by_id), len(failed))

    def _fail(self, changes: Iterable[Change], error: MultiflowError) -> None:
        self.result.failed += [Failure(c, error) for c in changes]

    def _delete(self, changes: list[Change]) -> set[str]:
        """Delete (and wait until gone); returns the flow log ids that could not be deleted."""
        by_id = {c.flow_log.id: c for c in changes if c.flow_log is not None}
        if not by_id:
            return set()
        self._report("delete", 0, len(by_id))
        failed: dict[str, MultiflowError] = {}
        try:
            self.client.delete(list(by_id), wait=True, timeout=self.timeout, on_progress=self._waiting("deleting"))
        except WaitInterrupted as exc:
            # Deleting, not yet gone: in progress; a replacement's create is not started.
            self.result.interrupted = True
            self.result.in_progress += [by_id[i] for i in exc.ids if i in by_id]
            return set(exc.ids)
        except PartialFailure as exc:
            failed = {f.resource_id: f.error for f in exc.failed}
        except MultiflowError as exc:
            failed = dict.fromkeys(by_id, exc)
        # Already gone (deleted by hand since plan, or by a concurrent run): that is what a delete is for.
        failed = {i: error for i, error in failed.items() if not isinstance(error, NotFound)}
        for flow_log_id, change in by_id.items():
            if flow_log_id in failed:
                self.result.failed.append(Failure(change, failed[flow_log_id]))
            elif change.action is Action.DELETE:
                self.result.done.append(change)
        self._report("delete", len(by_id) - len(failed), len(by_id), len(failed))
        return set(failed)

    def _update(self, changes: list[Change]) -> None:
        for n, change in enumerate(changes):
            if self._stopping(changes[n:]):
                return
            assert change.flow_log is not None and change.spec is not None
            try:
                if change.differs_in("status"):
                    self.client.start([change.flow_log.id], timeout=self.timeout)
                updates: dict[str, Any] = {
                    d.field: d.after
                    for d in change.differences
                    if d.field in ("name", "description", "interval", "tags")
                }
                options = {
                    d.field.removeprefix("options."): d.after
                    for d in change.differences
                    if d.field.startswith("options.")
                }
                if options:
                    updates["options"] = options
                if updates:
                    self.client.modify(change.flow_log.id, **updates)
                self.result.done.append(change)
            except MultiflowError as exc:
                self._fail([change], exc)
            self._report("update", n + 1, len(changes))

    def _create(self, changes: list[Change]) -> None:
        by_entry: dict[str, list[Change]] = {}
        for change in changes:
            by_entry.setdefault(change.entry or "", []).append(change)
        total, finished = len(changes), 0
        failed_before = len(self.result.failed)
        if changes:
            self._report("create", 0, total)
        for entry_name, entry_changes in by_entry.items():
            if self._stopping(entry_changes):
                continue
            entry_spec = next(c.spec for c in entry_changes if c.spec is not None)
            spec = entry_spec.for_ids([c.resource_id for c in entry_changes])
            by_resource = {c.resource_id: c for c in entry_changes}
            caps = self.client.capabilities
            tags = managed_tags(self.fleet, entry_name, spec, self.client.provider.name, caps.readable_options)
            created: list[FlowLog] = []
            failures: dict[str, MultiflowError] = {}
            try:
                created = self.client.create_checked(
                    [spec], wait=True, timeout=self.timeout, extra_tags=tags, on_progress=self._waiting("activating")
                )
            except PartialFailure as exc:
                created = [f for f in exc.succeeded if isinstance(f, FlowLog)]
                failures = {f.resource_id: f.error for f in exc.failed}
            except WaitInterrupted as exc:
                self._interrupted_create(exc, by_resource)
                continue
            except ProviderError as exc:
                failures = {exc.resource_id: exc} if exc.resource_id in by_resource else dict.fromkeys(by_resource, exc)
            except MultiflowError as exc:
                failures = dict.fromkeys(by_resource, exc)
            self.result.created += created
            made = {f.resource.id: f for f in created}
            # A failure while waiting names the flow log, not the resource: map it back.
            resource_of = {f.id: f.resource.id for f in created}
            for key, error in failures.items():
                resource = resource_of.get(key, key)
                if resource in by_resource:
                    self.result.failed.append(Failure(by_resource.pop(resource), error))
            for resource_id, change in by_resource.items():
                if resource_id in made:
                    # The done change carries the flow log created, so that its id is reported.
                    self.result.done.append(replace(change, flow_log=made[resource_id]))
                elif not any(f.change is change for f in self.result.failed):
                    self._fail([change], MultiflowError(f"{resource_id}: the cloud reported no flow log created"))
            finished += len(entry_changes)
            failed_now = len(self.result.failed) - failed_before
            self._report("create", finished - failed_now, total, failed_now)

    def _interrupted_create(self, exc: WaitInterrupted, by_resource: dict[str, Change]) -> None:
        """A create whose wait was cancelled: what became active is done, the rest is still activating."""
        self.result.interrupted = True
        made = [f for f in exc.created if isinstance(f, FlowLog)]
        self.result.created += made
        pending = set(exc.ids)
        for flow_log in made:
            change = by_resource.pop(flow_log.resource.id, None)
            if change is not None:
                (self.result.in_progress if flow_log.id in pending else self.result.done).append(change)
        # Resources the cloud refused before the wait began.
        self._fail(by_resource.values(), MultiflowError("not created (interrupted)"))
