"""Client.create hands the waiter each new flow log's age (from ``created_at``), so the wait after a run of creates
is timed by those ages: a provider session (a fake cloud, not multiflow's code) whose flow logs settle 2 s after
their creation, on a fake clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

import multiflow.waiting
from multiflow.model import FlowLog, FlowLogStatus, ResourceRef
from multiflow.provider import CreateOutcome


class AgedCloud:
    """Two flow logs made 2.5 s and 0.1 s before the wait; each active 2 s after its creation."""

    provider = "test"
    region = "r"

    def __init__(self) -> None:
        self.now = 100.0
        self.created = {"fl-old": self.now - 2.5, "fl-new": self.now - 0.1}
        self.polls: list[float] = []

    def create(self, specs: Sequence[Any], *, extra_tags: Any, dry_run: bool) -> CreateOutcome:
        wall = datetime.now(timezone.utc)
        made = [
            FlowLog(
                id=i,
                provider="test",
                region="r",
                resource=ResourceRef(kind=None, id=i),
                status=FlowLogStatus.ACTIVATING,
                created_at=wall - timedelta(seconds=self.now - at),
            )
            for i, at in self.created.items()
        ]
        return CreateOutcome(created=made)

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        self.polls.append(self.now)
        return {
            i: FlowLog(
                id=i,
                provider="test",
                region="r",
                resource=ResourceRef(kind=None, id=i),
                status=FlowLogStatus.ACTIVE if self.now >= self.created[i] + 2.0 else FlowLogStatus.ACTIVATING,
            )
            for i in ids
        }

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_create_passes_the_ages_so_the_wait_polls_when_the_youngest_should_be_active(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from multiflow.client import Client

    cloud = AgedCloud()
    real = multiflow.waiting.wait_until

    def on_fake_time(*args: Any, **kwargs: Any) -> Any:
        return real(*args, sleep=cloud.sleep, clock=lambda: cloud.now, **kwargs)

    # The clock and sleep only: the waiter itself runs as it is.
    monkeypatch.setattr("multiflow.client.wait_until", on_fake_time)
    client = object.__new__(Client)
    client.session = cloud  # type: ignore[assignment]
    client.provider = type("P", (), {"name": "test"})()  # type: ignore[assignment]
    made = client.create_checked([], wait=True, timeout=60)
    assert {f.status for f in made} == {FlowLogStatus.ACTIVE}
    # The first poll at once (fl-old, 2.5 s old, is active: the cloud takes at most 2.5 s), then one when fl-new
    # is that old; from the wait's start (no ages) it would be 0.5 s, 1.25 s, 2.4 s: four polls.
    assert len(cloud.polls) == 2
    assert cloud.polls[1] - cloud.created["fl-new"] == pytest.approx(2.5, abs=0.1)
