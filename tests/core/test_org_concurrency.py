"""How plan and apply spread an organization's work: the waits for activation of every group overlap (a waiting
group holds no calling slot), and bounded pools take places round-robin over accounts (the clouds' rate limits are
per account). Counted, never timed."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

import multiflow
from multiflow import applying, planning
from multiflow.applying import ProgressEvent
from multiflow.client import Connections
from multiflow.sandbox import connections_to, prepare_fleet
from multiflow.scope import Place, across_accounts
from multiflow_example.cloud import MANAGEMENT_ACCOUNT
from multiflow_example.sandbox import MEMBERS, ExampleSandbox

ALL = sorted([MANAGEMENT_ACCOUNT, *MEMBERS])
REGIONS = ("local-1", "local-2")

FLEET = """
name: org
accounts:
  example:
    - organization: {}
flow_logs:
  - name: nets
    provider: example
    regions: [local-1, local-2]
    resources: {kind: vpc, where: {"tag:team": net}}
    destination: {kind: example_bucket, bucket: central-logs}
"""


@pytest.fixture
def org() -> Iterator[tuple[ExampleSandbox, Connections]]:
    # Activations that outlast the test: every group is still waiting when the test cancels the run.
    with ExampleSandbox(activation_delay=3600, deletion_delay=0.05) as box, connections_to({"example": box}) as c:
        yield box, c


def test_every_groups_wait_overlaps_though_one_group_calls_at_a_time(
    org: tuple[ExampleSandbox, Connections], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, connections = org
    fleet = multiflow.loads(FLEET)
    prepare_fleet({"example": box}, fleet, connections)
    plan = multiflow.plan(fleet, connections)
    groups = {(c.account, c.region) for c in plan.pending}
    assert len(groups) == len(ALL) * len(REGIONS)

    monkeypatch.setattr(applying, "MAX_PARALLEL", 1)  # one calling slot: a group that kept it while waiting blocks all
    waiting: set[tuple[str, str]] = set()
    most_waiting = 0
    lock = threading.Lock()
    cancel = threading.Event()

    def progress(event: ProgressEvent) -> None:
        nonlocal most_waiting
        with lock:
            if event.phase == "activating" and event.done < event.total:
                waiting.add((event.account, event.region))
            elif event.phase == "create":
                waiting.discard((event.account, event.region))
            most_waiting = max(most_waiting, len(waiting))
            if len(waiting) == len(groups):
                cancel.set()  # all of them wait at once: stop (as Ctrl-C does) rather than wait an hour

    # The timeout bounds the test if the waits were serialised (each would end by timeout, one after the other).
    result = multiflow.apply(plan, connections, timeout=2, progress=progress, cancel=cancel)
    assert most_waiting == len(groups)
    assert result.interrupted and not result.failed
    assert len(result.in_progress) == len(plan.pending)  # made, still activating: a rerun converges


def test_bounded_work_is_taken_round_robin_over_accounts() -> None:
    places = [Place("p", account, region) for account in ("a", "b", "c") for region in ("r1", "r2", "r3")]
    places += [Place("q", "a", "r1")]
    ordered = across_accounts(places, lambda place: place)
    assert [(p.provider, p.account) for p in ordered[:4]] == [("p", "a"), ("p", "b"), ("p", "c"), ("q", "a")]
    assert [p.region for p in ordered if p.account == "b"] == ["r1", "r2", "r3"]  # each account in its own order
    assert sorted(ordered) == sorted(places)


def test_plan_reads_one_place_of_each_account_before_a_second_of_any(
    org: tuple[ExampleSandbox, Connections], monkeypatch: pytest.MonkeyPatch
) -> None:
    box, connections = org
    fleet = multiflow.loads(FLEET)
    prepare_fleet({"example": box}, fleet, connections)
    read: list[str] = []
    real_owned = planning._owned

    def recording(fleet: multiflow.Fleet, scope: object, connections: Connections, where: Place) -> object:
        job = real_owned(fleet, scope, connections, where)  # type: ignore[arg-type]

        def run() -> object:
            read.append(where.account)
            return job()

        return run

    monkeypatch.setattr(planning, "MAX_PARALLEL", 1)  # one reader: the order it reads in is the order given
    monkeypatch.setattr(planning, "_owned", recording)
    plan = multiflow.plan(fleet, connections)
    assert plan.complete
    assert read[: len(ALL)] == ALL
    # The plan itself stays in place order.
    assert [(c.account, c.region) for c in plan.changes] == sorted((c.account, c.region) for c in plan.changes)
