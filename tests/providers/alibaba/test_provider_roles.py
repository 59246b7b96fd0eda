"""Entering member accounts: STS AssumeRole through the official SDK against the emulator, the temporary credentials
the VPC client then signs with, their expiry and renewal, refusals, isolation, DescribeRegions, and secrets."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest

import multiflow
from multiflow.accounts import RegionLister
from multiflow.errors import AuthError, SpecError
from multiflow.spec import ResourceKind
from multiflow_alibaba.session import AlibabaSession

from .org_support import DEV, LEGACY, MANAGEMENT, OUTSIDER_KEY, PAYMENTS, REGIONS, SECRET, Org, running_org
from .provider_support import PROXY_VARIABLES

ROLE = "resourcedirectoryaccountaccessrole"


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def org() -> Iterator[Org]:
    with running_org() as running:
        yield running


def test_one_assume_role_serves_every_region_of_an_account(org: Org) -> None:
    pool = org.pool()
    member = org.member(PAYMENTS)
    clients = [pool.client("alibaba", region, member) for region in REGIONS]
    for client in clients:
        assert client.describe() == []
        assert client.account == PAYMENTS
    assert org.emu.assumed == {PAYMENTS: 1}
    assert org.emu.calls["AssumeRole"] == 1


def test_requests_with_the_role_act_in_the_members_account_only(org: Org) -> None:
    vpc = org.emu.add_vpc(REGIONS[0], name="payments-only", account_id=PAYMENTS)
    pool = org.pool()
    payments = pool.client("alibaba", REGIONS[0], org.member(PAYMENTS)).session
    dev = pool.client("alibaba", REGIONS[0], org.member(DEV)).session
    management = pool.client("alibaba", REGIONS[0]).session
    assert payments.list_resources(ResourceKind.VPC, {}) == [vpc]
    assert dev.list_resources(ResourceKind.VPC, {}) == []
    assert management.list_resources(ResourceKind.VPC, {}) == []


def test_a_flow_log_made_as_the_role_belongs_to_the_member(org: Org) -> None:
    vpc = org.emu.add_vpc(REGIONS[0], account_id=DEV)
    org.emu.add_logstore(REGIONS[0], "flow-project", "flow-store", account_id=DEV)
    client = org.pool().client("alibaba", REGIONS[0], org.member(DEV))
    spec = multiflow.FlowLogSpec(
        resources={"kind": "vpc", "ids": [vpc]},
        destination={"kind": "sls", "project": "flow-project", "logstore": "flow-store"},
    )
    [made] = client.create(spec)
    assert [r["FlowLogId"] for r in org.emu.flow_logs(account_id=DEV)] == [made.id]
    assert org.emu.flow_logs(account_id=MANAGEMENT) == []


def test_a_member_without_the_role_is_refused_at_connect_with_the_clouds_words(org: Org) -> None:
    with pytest.raises(AuthError) as caught:
        org.pool().client("alibaba", REGIONS[0], org.member(LEGACY))
    error = caught.value
    assert error.code == "EntityNotExist.Role" and error.operation == "AssumeRole"
    assert f"acs:ram::{LEGACY}:role/{ROLE}" in error.message
    assert error.request_id and error.http_status == 404


def test_a_caller_the_role_does_not_trust_is_refused_with_no_permission(org: Org) -> None:
    pool = org.pool(access_key_id=OUTSIDER_KEY, access_key_secret=SECRET + "-outsider")
    with pytest.raises(AuthError) as caught:
        pool.client("alibaba", REGIONS[0], org.member(PAYMENTS))
    error = caught.value
    assert error.code == "NoPermission" and error.request_id and error.http_status == 403
    assert "authorized" in error.message


def test_an_external_id_is_sent_when_the_role_asks_for_one(org: Org) -> None:
    org.emu.add_role(DEV, "ops", trusted=[MANAGEMENT], external_id="x-123")
    options = org.options()
    with pytest.raises(AuthError, match="NoPermission"):
        AlibabaSession(REGIONS[0], role_arn=f"acs:ram::{DEV}:role/ops", **options)
    session = AlibabaSession(REGIONS[0], role_arn=f"acs:ram::{DEV}:role/ops", external_id="x-123", **options)
    try:
        assert session.describe(multiflow.provider.DescribeQuery()) == []
    finally:
        session.close()


def test_expired_temporary_credentials_are_refused_then_renewed_once(org: Org) -> None:
    pool = org.pool()
    clients = [pool.client("alibaba", region, org.member(PAYMENTS)) for region in REGIONS]
    assert org.emu.expire_credentials() == 1
    org.emu.reset_calls()
    for client in clients:
        assert client.describe() == []
    # The first call was refused as expired, the role assumed again (once, for every region), the call made again.
    assert org.emu.errors[("DescribeFlowLogs", "InvalidSecurityToken.Expired")] == 1
    assert org.emu.assumed == {PAYMENTS: 2}


def test_credentials_past_their_duration_expire_on_the_emulators_clock(org: Org) -> None:
    client = org.pool(role_duration=900).client("alibaba", REGIONS[0], org.member(DEV))
    org.clock.advance(901)
    assert client.describe() == []
    assert org.emu.errors[("DescribeFlowLogs", "InvalidSecurityToken.Expired")] == 1
    assert org.emu.assumed == {DEV: 2}


def test_the_sessions_of_one_account_share_its_rate_limiters(org: Org) -> None:
    pool = org.pool(rate_limit=5.0)
    payments = [pool.client("alibaba", region, org.member(PAYMENTS)).session for region in REGIONS[:2]]
    dev = pool.client("alibaba", REGIONS[0], org.member(DEV)).session
    management = [pool.client("alibaba", region).session for region in REGIONS[:2]]
    limiter = payments[0]._transport.limits("DescribeFlowLogs")
    assert payments[1]._transport.limits("DescribeFlowLogs") is limiter
    assert dev._transport.limits("DescribeFlowLogs") is not limiter
    assert management[0]._transport.limits("DescribeFlowLogs") is management[1]._transport.limits("DescribeFlowLogs")
    assert management[0]._transport.limits("DescribeFlowLogs") is not limiter


def test_describe_regions_lists_every_region_the_account_can_use(org: Org) -> None:
    session = org.pool().client("alibaba", REGIONS[0], org.member(PAYMENTS)).session
    assert isinstance(session, RegionLister)
    listing = session.list_regions()
    assert set(REGIONS) <= set(listing.enabled) and "ap-southeast-1" in listing.enabled
    assert listing.enabled == sorted(listing.enabled) and dict(listing.skipped) == {}
    assert org.emu.calls["DescribeRegions"] == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"role_arn": "acs:ram::123:role/UpperCase"}, "role_arn"),
        ({"role_arn": "acs:ram::123:user/x"}, "role_arn"),
        ({"role_arn": "acs:ram::123:role/x", "role_session_name": "a"}, "role_session_name"),
        ({"role_arn": "acs:ram::123:role/x", "role_duration": 60}, "role_duration"),
    ],
)
def test_bad_role_options_are_refused_before_any_call(org: Org, options: dict[str, object], field: str) -> None:
    org.emu.reset_calls()
    with pytest.raises(SpecError) as caught:
        AlibabaSession(REGIONS[0], **org.options(), **options)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert sum(org.emu.calls.values()) == 0


def test_temporary_credentials_never_show(org: Org, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = org.pool().client("alibaba", REGIONS[0], org.member(PAYMENTS))
    client.describe()
    role = client.session._role
    assert role is not None
    held = role.current()
    org.emu.expire_credentials()
    client.describe()
    with pytest.raises(AuthError) as caught:
        org.pool().client("alibaba", REGIONS[0], org.member(LEGACY))
    shown = " ".join(
        [repr(client), repr(client.session), repr(role), repr(held), str(caught.value), caplog.text]
        + [repr(r) for r in caplog.records]
    )
    for secret in (held.access_key_secret, held.security_token, role.current().security_token, SECRET):
        assert secret not in shown
    assert role.role_arn in repr(client.session)


def test_credentials_near_their_expiry_are_renewed_before_the_cloud_refuses_them(org: Org) -> None:
    from multiflow_alibaba.credentials import REFRESH_MARGIN, AssumedRole, IdentityCalls

    now = [time.time()]
    calls = IdentityCalls(REGIONS[0], **org.options())
    role = AssumedRole(calls, f"acs:ram::{DEV}:role/{ROLE}", "multiflow", clock=lambda: now[0])
    first = role.current()
    assert role.current() is first
    now[0] = first.expiration - REFRESH_MARGIN + 1
    second = role.current()
    assert second.access_key_id != first.access_key_id
    assert org.emu.assumed == {DEV: 2} and org.emu.errors == {}


def test_temporary_keys_the_cloud_no_longer_knows_are_renewed() -> None:
    # The same endpoint, another cloud (an emulator restarted on its port): the shared role's keys are unknown there.
    with running_org() as first:
        port = first.emu.port
        kept = first.pool().client("alibaba", REGIONS[0], first.member(DEV))
        kept.describe()
    with running_org(port=port) as second:
        client = second.pool().client("alibaba", REGIONS[0], second.member(DEV))
        assert client.session._role is kept.session._role  # one AssumedRole per caller, endpoint and role
        assert client.describe() == []
        assert second.emu.errors[("DescribeFlowLogs", "InvalidAccessKeyId.NotFound")] == 1
        assert second.emu.assumed == {DEV: 1}


def test_sessions_connecting_at_once_share_one_assume_role(org: Org) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from multiflow_alibaba_emulator import Faults

    org.emu.faults = Faults(latency=0.3, actions=["AssumeRole"])  # a slow STS: every connect overlaps the first
    pool = org.pool()
    with ThreadPoolExecutor(max_workers=6) as workers:
        clients = list(workers.map(lambda n: pool.client("alibaba", REGIONS[n % 3], org.member(PAYMENTS)), range(6)))
    assert len({id(c.session._role) for c in clients}) == 1
    assert org.emu.assumed == {PAYMENTS: 1}
