"""The Alibaba provider's lifecycle against the emulator: create and wait, describe pages, batched waits and their
call costs, delete, stop/start, modify, adopting instead of duplicating, the flow-log service, deadlines.

Time is the emulator's :class:`ManualClock`: a transition completes only when a test advances it (often from the
waiter's ``on_progress`` callback), so nothing here depends on wall-clock timing beyond the waiter's own sleeps.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

import pytest

import multiflow
from multiflow.errors import AlreadyExists, AuthError, Conflict, PartialFailure, WaitTimeout
from multiflow.model import FlowLogStatus
from multiflow.waiting import Progress

from .provider_support import PROXY_VARIABLES, REGION, World, running_world

DELAY = 30.0  # emulator seconds a flow log spends Activating/Deactivating/Deleting


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def world() -> Iterator[World]:
    """Transitions take DELAY seconds on the manual clock."""
    with running_world(activation_delay=DELAY, deletion_delay=DELAY) as running:
        yield running


def advance(world: World) -> object:
    """An ``on_progress`` callback that lets the cloud's transitions complete after the first poll."""

    def step(progress: Progress) -> None:
        world.clock.advance(DELAY)

    return step


# -- create and wait --------------------------------------------------------------------------------------


def test_create_waits_from_activating_to_active(world: World) -> None:
    client = world.connect()
    seen: list[Progress] = []

    def progress(p: Progress) -> None:
        seen.append(p)
        world.clock.advance(DELAY)

    logs = client.create(world.spec(ids=world.vswitches), on_progress=progress)
    assert [f.status for f in logs] == [FlowLogStatus.ACTIVE, FlowLogStatus.ACTIVE]
    assert seen[0].pending == 2 and seen[-1].done == 2
    assert {f.resource.id for f in logs} == set(world.vswitches)


def test_create_without_wait_returns_activating_and_wait_finishes_it(world: World) -> None:
    client = world.connect()
    logs = client.create(world.spec(ids=world.vswitches), wait=False)
    assert {f.status for f in logs} == {FlowLogStatus.ACTIVATING}
    assert all(f.id.startswith("fl-") for f in logs)
    world.clock.advance(DELAY)
    done = client.wait([f.id for f in logs])
    assert {f.status for f in done} == {FlowLogStatus.ACTIVE}


def test_a_stuck_activation_times_out_naming_the_flow_log(world: World) -> None:
    client = world.connect()
    with pytest.raises(WaitTimeout) as caught:
        client.create(world.spec(), timeout=1.0)
    [stuck] = world.emu.flow_logs()
    assert caught.value.ids == [stuck["FlowLogId"]]
    assert stuck["FlowLogId"] in str(caught.value) and "activating" in str(caught.value)
    assert [f.id for f in caught.value.created] == [stuck["FlowLogId"]]


def test_partial_failure_keeps_what_succeeded(world: World) -> None:
    client = world.connect()
    with pytest.raises(PartialFailure) as caught:
        client.create(world.spec(ids=[world.vswitches[0], "vsw-doesnotexist0000000000"]), wait=False)
    [made] = caught.value.succeeded
    [failed] = caught.value.failed
    assert made.resource.id == world.vswitches[0]  # type: ignore[union-attr]
    assert failed.resource_id == "vsw-doesnotexist0000000000"
    assert failed.error.code == "InvalidInstanceId"  # type: ignore[union-attr]


# -- describe and get: pages and call costs ------------------------------------------------------------


@pytest.fixture
def many() -> Iterator[World]:
    """120 vSwitches; flow logs stay Activating until the clock moves."""
    with running_world(activation_delay=DELAY, deletion_delay=DELAY, vswitches=120) as running:
        yield running


def test_describe_pages_past_fifty(many: World) -> None:
    client = many.connect(max_concurrency=10)
    created = client.create(many.spec(ids=many.vswitches), wait=False)
    assert len(created) == 120 and many.emu.calls["CreateFlowLog"] == 120
    many.emu.reset_calls()
    described = client.describe()
    assert {f.id for f in described} == {f.id for f in created}
    assert many.emu.calls == {"DescribeFlowLogs": math.ceil(120 / 50)}


def test_get_with_many_pending_ids_lists_the_state_a_page_at_a_time(many: World) -> None:
    client = many.connect()
    ids = [f.id for f in client.create(many.spec(ids=many.vswitches), wait=False)]
    session = client.session

    many.emu.reset_calls()
    states = session.get(ids, transitional=FlowLogStatus.ACTIVATING)
    assert {f.status for f in states.values()} == {FlowLogStatus.ACTIVATING} and len(states) == 120
    assert many.emu.calls == {"DescribeFlowLogs": math.ceil(120 / 50)}  # 3, not 120

    # They all settle at once: 1 call finds the Activating listing empty, then the region listing (3 pages).
    many.clock.advance(DELAY)
    many.emu.reset_calls()
    states = session.get(ids, transitional=FlowLogStatus.ACTIVATING)
    assert {f.status for f in states.values()} == {FlowLogStatus.ACTIVE} and len(states) == 120
    assert many.emu.calls == {"DescribeFlowLogs": 1 + math.ceil(120 / 50)}

    # Without a hint: a few ids cost a call each, many cost the region's pages.
    many.emu.reset_calls()
    assert len(session.get(ids[:3])) == 3
    assert many.emu.calls == {"DescribeFlowLogs": 3}
    many.emu.reset_calls()
    assert len(session.get(ids)) == 120
    assert many.emu.calls == {"DescribeFlowLogs": 3}


def test_waiting_on_many_costs_pages_not_ids(many: World) -> None:
    client = many.connect()
    ids = [f.id for f in client.create(many.spec(ids=many.vswitches), wait=False)]
    many.emu.reset_calls()
    polls: list[Progress] = []

    def progress(p: Progress) -> None:
        polls.append(p)
        if len(polls) == 2:
            many.clock.advance(DELAY)

    done = client.wait(ids, on_progress=progress)
    assert len(done) == 120 and len(polls) == 3
    # Poll 1 and 2: 3 pages of Activating each; poll 3: 1 (empty Activating) + 3 (the region's listing).
    assert many.emu.calls == {"DescribeFlowLogs": 3 + 3 + 4}


def test_get_for_deleting_confirms_absent_ids_are_gone_in_bulk(many: World) -> None:
    client = many.connect()
    ids = [f.id for f in client.create(many.spec(ids=many.vswitches[:60]), wait=False)]
    many.clock.advance(DELAY)
    client.delete(ids, wait=False)
    many.emu.reset_calls()
    assert len(client.session.get(ids, transitional=FlowLogStatus.DELETING)) == 60
    many.clock.advance(DELAY)
    assert client.session.get(ids, transitional=FlowLogStatus.DELETING) == {}
    # 2 pages of Deleting, then: an empty Deleting page and one probe page of the region confirming them gone
    assert many.emu.calls == {"DescribeFlowLogs": 2 + 1 + 1}


def test_a_status_filter_the_cloud_refuses_falls_back_to_lookups(many: World) -> None:
    client = many.connect()
    ids = [f.id for f in client.create(many.spec(ids=many.vswitches[:4]), wait=False)]
    many.clock.advance(DELAY)
    client.delete(ids, wait=False)
    many.emu.fail_next("DescribeFlowLogs", "InvalidParameter")
    many.emu.reset_calls()
    states = client.session.get(ids, transitional=FlowLogStatus.DELETING)
    assert {f.status for f in states.values()} == {FlowLogStatus.DELETING} and len(states) == 4
    assert many.emu.calls == {"DescribeFlowLogs": 1 + 1}  # the refused listing, then one probe page (4 flow logs)
    many.clock.advance(DELAY)
    many.emu.reset_calls()
    assert client.session.get(ids, transitional=FlowLogStatus.DELETING) == {}
    assert many.emu.calls == {"DescribeFlowLogs": 1}  # not asked again; one probe page, now empty


# -- delete, stop, start, modify -------------------------------------------------------------------------


def test_delete_goes_through_deleting_until_gone(world: World) -> None:
    client = world.connect()
    ids = [f.id for f in client.create(world.spec(ids=world.vswitches), on_progress=advance(world))]
    assert client.delete(ids, wait=False) == ids
    assert {client.get(i).status for i in ids} == {FlowLogStatus.DELETING}
    world.clock.advance(DELAY)
    client.wait(ids, "gone")
    assert world.emu.flow_logs() == []


def test_delete_waits_for_gone(world: World) -> None:
    client = world.connect()
    ids = [f.id for f in client.create(world.spec(ids=world.vswitches), on_progress=advance(world))]
    assert client.delete(ids, on_progress=advance(world)) == ids
    assert client.describe() == []


def test_waiting_for_gone_on_a_flow_log_nobody_deletes_times_out(world: World) -> None:
    client = world.connect()
    [made] = client.create(world.spec(), on_progress=advance(world))
    with pytest.raises(multiflow.errors.WaitTimeout) as caught:
        client.wait([made.id], until="gone", timeout=1.0)
    assert caught.value.ids == [made.id] and caught.value.last_seen == {made.id: "active"}


def test_delete_of_an_activating_flow_log_waits_for_it_to_settle(world: World) -> None:
    client = world.connect(settle_timeout=20.0)
    [made] = client.create(world.spec(), wait=False)
    timer = threading.Timer(0.5, world.clock.advance, args=(DELAY,))
    timer.start()
    try:
        assert client.delete([made.id], wait=False) == [made.id]
    finally:
        timer.cancel()
    assert world.record(made.id)["Status"] == "Deleting"
    assert world.emu.errors[("DeleteFlowLog", "IncorrectStatus.flowlog")] == 1  # refused once, then waited


def test_delete_unknown_id_is_a_not_found_failure(world: World) -> None:
    client = world.connect()
    with pytest.raises(multiflow.errors.NotFound) as caught:
        client.delete(["fl-doesnotexist000000000"])
    assert caught.value.code == "InvalidFlowLogId.NotFound"


def test_stop_and_start(world: World) -> None:
    client = world.connect()
    [made] = client.create(world.spec(), on_progress=advance(world))
    timer = threading.Timer(0.3, world.clock.advance, args=(DELAY,))
    timer.start()
    assert client.stop([made.id]) == [made.id]
    assert client.get(made.id).status == FlowLogStatus.INACTIVE
    assert client.stop([made.id], wait=False) == [made.id]  # already stopped: nothing to do
    timer = threading.Timer(0.3, world.clock.advance, args=(DELAY,))
    timer.start()
    assert client.start([made.id]) == [made.id]
    assert client.get(made.id).status == FlowLogStatus.ACTIVE
    assert world.emu.calls["DeactiveFlowLog"] == 2 and world.emu.calls["ActiveFlowLog"] == 1


def test_modify_name_description_interval(world: World) -> None:
    client = world.connect()
    [made] = client.create(world.spec(name="old", interval=600), on_progress=advance(world))
    changed = client.modify(made.id, name="new", description="now described", interval=60)
    assert (changed.name, changed.description, changed.interval) == ("new", "now described", 60)
    raw = world.record(made.id)
    assert (raw["FlowLogName"], raw["Description"], raw["AggregationInterval"]) == ("new", "now described", 1)


def test_modify_while_activating_waits_until_settled(world: World) -> None:
    client = world.connect(settle_timeout=20.0)
    [made] = client.create(world.spec(), wait=False)
    timer = threading.Timer(0.5, world.clock.advance, args=(DELAY,))
    timer.start()
    try:
        changed = client.modify(made.id, name="renamed")
    finally:
        timer.cancel()
    assert changed.name == "renamed" and changed.status == FlowLogStatus.ACTIVE
    assert world.emu.calls["ModifyFlowLogAttribute"] == 1
    assert not any(code.startswith("IncorrectStatus") for _, code in world.emu.errors)


def test_modify_of_a_stuck_flow_log_times_out(world: World) -> None:
    client = world.connect(settle_timeout=0.5)
    [made] = client.create(world.spec(), wait=False)
    with pytest.raises(WaitTimeout, match=made.id):
        client.modify(made.id, description="never")
    assert world.emu.calls["ModifyFlowLogAttribute"] == 0


def test_modify_refuses_an_interval_alibaba_lacks(world: World) -> None:
    client = world.connect()
    [made] = client.create(world.spec(), wait=False)
    with pytest.raises(multiflow.errors.SpecError, match="interval=120"):
        client.modify(made.id, interval=120)


# -- no duplicates without a ClientToken ----------------------------------------------------------------


def test_a_lost_create_answer_adopts_the_flow_log_instead_of_duplicating(world: World) -> None:
    client = world.connect()
    world.emu.faults.actions = {"CreateFlowLog"}
    world.emu.faults.lost_response_rate = 1.0
    [made] = client.create(world.spec(name="once"), wait=False)
    world.emu.faults.reset()
    assert world.emu.calls["CreateFlowLog"] == 1
    assert world.emu.errors[("CreateFlowLog", "<dropped>")] == 1
    [only] = world.emu.flow_logs()
    assert made.id == only["FlowLogId"] and made.name == "once"


def test_a_5xx_create_looks_before_sending_again(world: World) -> None:
    client = world.connect()
    world.emu.fail_next("CreateFlowLog", "ServiceUnavailable")
    world.emu.reset_calls()
    [made] = client.create(world.spec(), wait=False)
    assert world.emu.calls == {"DescribeFlowLogs": 2, "CreateFlowLog": 2}  # lookup, create, look again, create
    assert [r["FlowLogId"] for r in world.emu.flow_logs()] == [made.id]


def test_a_race_on_one_resource_adopts_the_winner(world: World) -> None:
    client = world.connect(max_concurrency=2)
    resource = world.vswitch()
    spec = world.spec(ids=[resource], name="same")
    created = client.create([spec, spec], wait=False)  # two creates on one resource, at once
    assert len({f.id for f in created}) == 1 and len(created) == 2
    assert world.emu.errors[("CreateFlowLog", "InvalidResourceId.NotFound")] == 1
    assert len(world.emu.flow_logs()) == 1


def test_a_race_with_other_settings_names_the_winner(world: World) -> None:
    client = world.connect(max_concurrency=2)
    resource = world.vswitch()
    with pytest.raises(PartialFailure) as caught:
        client.create([world.spec(ids=[resource], interval=60), world.spec(ids=[resource], interval=300)], wait=False)
    [winner] = caught.value.succeeded
    [failure] = caught.value.failed
    assert isinstance(failure.error, AlreadyExists) and failure.error.code == "InvalidResourceId.NotFound"
    assert winner.id in str(failure.error)  # type: ignore[union-attr]


def test_creating_again_adopts_the_same_flow_log(world: World) -> None:
    client = world.connect()
    spec = world.spec(ids=world.vswitches, tags={"team": "a"})
    first = client.create(spec, wait=False)
    world.emu.reset_calls()
    again = client.create(spec, wait=False)
    assert [f.id for f in again] == [f.id for f in first]
    assert world.emu.calls == {"DescribeFlowLogs": 2}  # one lookup per resource, no CreateFlowLog
    assert len(world.emu.flow_logs()) == 2


def test_a_flow_log_with_other_settings_is_already_exists(world: World) -> None:
    client = world.connect()
    [first] = client.create(world.spec(interval=60), wait=False)
    with pytest.raises(AlreadyExists) as caught:
        client.create(world.spec(ids=[first.resource.id], interval=600), wait=False)
    assert first.id in str(caught.value) and "AggregationInterval is 1, not 10" in str(caught.value)
    assert caught.value.resource_id == first.resource.id
    assert world.emu.calls["CreateFlowLog"] == 1


def test_a_flow_log_being_deleted_on_the_resource_is_a_conflict(world: World) -> None:
    client = world.connect()
    [first] = client.create(world.spec(), wait=False)
    world.emu.set_status(first.id, "Deleting")
    with pytest.raises(Conflict, match="still being deleted"):
        client.create(world.spec(ids=[first.resource.id]), wait=False)


# -- the flow-log service --------------------------------------------------------------------------------


@pytest.fixture
def closed() -> Iterator[World]:
    """An account that has not opened the flow-log service."""
    with running_world(service_opened=False) as running:
        yield running


def test_a_closed_service_says_how_to_open_it_and_opens_nothing(closed: World) -> None:
    client = closed.connect()
    with pytest.raises(AuthError) as caught:
        client.create(closed.spec())
    assert caught.value.code == "OptInRequired.FlowLog" and caught.value.request_id
    assert "open_service=True" in str(caught.value) and "OpenFlowLogService" in str(caught.value)
    assert closed.emu.calls["OpenFlowLogService"] == 0
    assert closed.emu.calls["CreateFlowLog"] == 1  # an auth error is not retried
    assert closed.emu.flow_logs() == []


def test_operation_unsupported_is_explained_when_the_service_is_closed(closed: World) -> None:
    client = closed.connect()
    closed.emu.fail_next("DescribeFlowLogs", "OperationUnsupported.action")
    with pytest.raises(AuthError, match="flow-log service is not opened"):
        client.describe()
    assert closed.emu.calls["GetFlowLogServiceStatus"] == 1


def test_open_service_opt_in_at_connect(closed: World) -> None:
    client = closed.connect(open_service=True)
    assert closed.emu.calls["GetFlowLogServiceStatus"] == 1 and closed.emu.calls["OpenFlowLogService"] == 1
    assert [f.status for f in client.create(closed.spec())] == [FlowLogStatus.ACTIVE]
    again = closed.connect(open_service=True)  # already open: checked, not opened again
    assert closed.emu.calls["OpenFlowLogService"] == 1
    assert again.session.service_opened()


def test_open_service_method(closed: World) -> None:
    client = closed.connect()
    assert client.session.service_opened() is False
    client.session.open_service()
    assert client.session.service_opened(refresh=True) is True
    assert client.create(closed.spec())[0].region == REGION
