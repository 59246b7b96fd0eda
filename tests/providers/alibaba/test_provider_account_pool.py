"""The Alibaba provider's per-account resources, over the real SDK against the emulator: one worker pool per
account shared by its regions' sessions and sized from its rate limit, the limiters' start, and the creation time
of what a create made (what the waiter schedules by)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

import pytest

import multiflow
from multiflow_alibaba.limits import pool_size
from multiflow_alibaba.sandbox_support import connect_options

from .provider_support import KEY_ID, World, running_world

OTHER_REGION = "cn-shanghai"


@pytest.fixture
def world() -> Iterator[World]:
    with running_world() as running:
        yield running


def live_threads(workers: object) -> int:
    """The threads of one worker pool still alive (its executor's own record of them)."""
    return sum(1 for t in workers._pool._threads if t.is_alive())  # type: ignore[attr-defined]


def test_the_sessions_of_one_account_share_one_pool_sized_from_its_rate_limit() -> None:
    with running_world() as world:
        options = connect_options(world.emu, KEY_ID, rate_limit=2.0, max_concurrency=10)
        first = multiflow.connect("alibaba", region="cn-hangzhou", **options)
        second = multiflow.connect("alibaba", region=OTHER_REGION, **options)
        try:
            pool = first.session._workers  # type: ignore[attr-defined]
            assert second.session._workers is pool  # type: ignore[attr-defined]
            assert pool.size == pool_size(2.0, 10) == 2  # 2 actions x 2/s x 0.5 s
            created = first.create(world.spec(ids=[world.vswitch() for _ in range(6)]), wait=False)
            assert len(created) == 6
            assert 0 < live_threads(pool) <= 2  # six creates, on the account's two threads
            first.close()
            assert live_threads(pool) > 0  # the other session still holds the pool
            assert second.describe() == []  # and still works on it (its region has no flow logs)
        finally:
            second.close()
        assert live_threads(pool) == 0  # the last session closed: the threads are gone


def test_pool_size_follows_littles_law_within_the_sessions_bound() -> None:
    assert pool_size(None, 10) == 10  # nothing limited: the whole bound
    assert pool_size(2.0, 10) == 2
    assert pool_size(5.0, 10) == 5
    assert pool_size(20.0, 10) == 10  # 20 would keep the limits busy at 0.5 s a call; the bound is 10
    assert pool_size(0.5, 10) == 2  # at least a listing's pages beside a lookup
    assert pool_size(0.5, 1) == 1  # never above the bound


def test_a_known_rate_limit_starts_the_limiters_without_slow_start(world: World) -> None:
    guessed = world.connect(rate_limit=4.0)
    known = world.connect(rate_limit=4.0, rate_limit_known=True)
    guessed_limiter = guessed.session._transport.limits("CreateFlowLog")  # type: ignore[attr-defined]
    known_limiter = known.session._transport.limits("CreateFlowLog")  # type: ignore[attr-defined]
    assert guessed_limiter is not known_limiter
    known.create(world.spec(ids=[world.vswitch() for _ in range(4)]), wait=False)
    guessed.create(world.spec(ids=[world.vswitch() for _ in range(4)]), wait=False)
    assert known_limiter.rate == 4.0  # no throttle, no growth above the known limit
    assert guessed_limiter.rate > 4.0 * 1.5**3  # slow start on every accepted call


def test_what_a_create_made_carries_its_creation_time(world: World) -> None:
    client = world.connect()
    before = datetime.now(timezone.utc)
    created = client.create(world.spec(ids=[world.vswitch() for _ in range(3)]), wait=False)
    after = datetime.now(timezone.utc)
    assert all(f.created_at is not None and before <= f.created_at <= after for f in created)
