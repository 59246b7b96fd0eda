"""ExampleCloud's organization and the example provider's accounts: listing members (pages, filters, outside,
failures with the cloud's code and request id), entering one (once per account, renewed before expiry, refusals),
the regions an account can use, and each account's own estate."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import multiflow
from multiflow.accounts import RegionLister
from multiflow.errors import AuthError
from multiflow.plugins import get_provider
from multiflow_example.api import ApiClient, ApiError
from multiflow_example.cloud import MANAGEMENT_ACCOUNT, ExampleCloud
from multiflow_example.sources import ExampleAccountSource

KEY = "SENTINEL-management-key-never-print-me"


@pytest.fixture
def cloud() -> Iterator[ExampleCloud]:
    with ExampleCloud(activation_delay=0.0, deletion_delay=0.0) as running:
        running.add_api_key(KEY)
        yield running


def api(cloud: ExampleCloud, key: str = KEY) -> ApiClient:
    return ApiClient(cloud.endpoint, key, timeout=5)


def options(cloud: ExampleCloud) -> dict[str, object]:
    return {"endpoint": cloud.endpoint, "api_key": KEY, "max_attempts": 1}


def source(**item: object) -> ExampleAccountSource:
    return ExampleAccountSource.model_validate(item)


def test_list_accounts_pages_ten_at_a_time_and_only_the_management_account_may_ask(cloud: ExampleCloud) -> None:
    members = [cloud.add_account() for _ in range(11)]
    first = api(cloud).call("ListAccounts", {})
    assert len(first["accounts"]) == 10 and first["next_page_token"]
    rest = api(cloud).call("ListAccounts", {"page_token": first["next_page_token"]})
    listed = [a["id"] for a in first["accounts"] + rest["accounts"]]
    assert listed == [MANAGEMENT_ACCOUNT, *members] and rest["next_page_token"] is None
    assert first["accounts"][0]["management"] is True

    member_key = api(cloud).call("AssumeAccount", {"account_id": members[0]})["credentials"]["api_key"]
    with pytest.raises(ApiError) as raised:
        api(cloud, member_key).call("ListAccounts", {})
    assert (raised.value.code, raised.value.http_status) == ("AccessDenied", 403) and raised.value.request_id


def test_each_account_has_its_own_estate_and_regions(cloud: ExampleCloud) -> None:
    member = cloud.add_account()
    key = api(cloud).call("AssumeAccount", {"account_id": member})["credentials"]["api_key"]
    cloud.add_resource("local-1", "network", "net-same", account=member)
    cloud.add_resource("local-1", "network", "net-same")  # the same id in another account is another network
    cloud.add_bucket("logs")
    body = {"region": "local-1", "resource_type": "network", "resource_ids": ["net-same"], "bucket": "logs"}
    api(cloud, key).call("CreateFlowLogs", body)
    assert [r["account_id"] for r in cloud.flow_logs()] == [member]
    assert api(cloud).call("ListFlowLogs", {"region": "local-1"})["flow_logs"] == []

    regions = api(cloud, key).call("ListRegions", {})["regions"]
    assert {r["name"]: r["status"] for r in regions} == {
        "local-1": "ENABLED",
        "local-2": "ENABLED",
        "local-3": "NOT_ENABLED",
    }
    with pytest.raises(ApiError) as raised:
        api(cloud, key).call("ListFlowLogs", {"region": "local-3"})
    assert (raised.value.code, raised.value.http_status) == ("RegionNotEnabled", 403)
    assert api(cloud).call("ListFlowLogs", {"region": "local-3"})["flow_logs"] == []  # management enabled it


@pytest.mark.parametrize(
    ("change", "code"),
    [({"enterable": False}, "AccessDenied"), ({"status": "SUSPENDED"}, "AccountSuspended"), (None, "AccountNotFound")],
)
def test_assume_account_refuses_with_the_clouds_code(
    cloud: ExampleCloud, change: dict[str, object] | None, code: str
) -> None:
    member = cloud.add_account()
    if change is not None:
        cloud.set_account(member, **change)  # type: ignore[arg-type]
    with pytest.raises(ApiError) as raised:
        api(cloud).call("AssumeAccount", {"account_id": member if change else "199999999999"})
    assert raised.value.code == code and raised.value.request_id


def test_an_assumed_key_expires(cloud: ExampleCloud) -> None:
    cloud.key_lifetime = 0.05
    member = cloud.add_account()
    key = api(cloud).call("AssumeAccount", {"account_id": member})["credentials"]["api_key"]
    time.sleep(0.1)
    with pytest.raises(ApiError) as raised:
        api(cloud, key).call("ListRegions", {})
    assert (raised.value.code, raised.value.http_status) == ("ExpiredToken", 401)


def test_list_accounts_filters_the_organization_and_keeps_the_others_outside(cloud: ExampleCloud) -> None:
    prod = cloud.add_account(name="prod", unit="ou-prod", labels={"env": "prod"})
    dev = cloud.add_account(name="dev", unit="ou-dev", labels={"env": "dev"})
    other = cloud.add_account(name="other", unit="ou-prod", labels={"env": "prod"})
    suspended = cloud.add_account(name="gone", unit="ou-prod", status="SUSPENDED")
    provider = get_provider("example")
    listing = provider.list_accounts(
        [source(organization={"units": ["ou-prod"], "labels": {"env": "prod"}, "exclude": [other]})],
        **options(cloud),
    )
    assert [(a.id, a.name, dict(a.connect_options)) for a in listing.accounts] == [(prod, "prod", {"account_id": prod})]
    assert [a.id for a in listing.outside] == [MANAGEMENT_ACCOUNT, dev, other]
    assert dict(listing.outside[0].connect_options) == {}  # the caller's own account: nothing to assume
    assert any(suspended in note and "SUSPENDED" in note for note in listing.notes)
    assert listing.failed == []
    assert cloud.calls["ListAccounts"] == 1 and "AssumeAccount" not in cloud.calls  # listing enters nothing


def test_an_explicit_account_beside_an_organization_that_cannot_be_listed(cloud: ExampleCloud) -> None:
    member = cloud.add_account()
    cloud.fail_next("ListAccounts", "AccessDenied", "no organizations:ListAccounts here")
    listing = get_provider("example").list_accounts([source(account=member), source(organization={})], **options(cloud))
    assert [a.id for a in listing.accounts] == [member]
    [failure] = listing.failed
    assert (failure.source, failure.account) == ("organization", None)
    assert isinstance(failure.error, AuthError) and failure.error.code == "AccessDenied"
    assert failure.error.request_id and "no organizations:ListAccounts here" in str(failure.error)


def test_a_member_is_entered_once_for_all_its_regions_and_again_before_its_key_expires(cloud: ExampleCloud) -> None:
    member = cloud.add_account(regions=("local-1", "local-2", "local-3"))
    for region in ("local-1", "local-2", "local-3"):
        with multiflow.connect("example", region=region, account_id=member, **options(cloud)) as client:
            assert client.describe() == []
            assert KEY not in repr(client.session) and member in repr(client.session)
    assert cloud.calls["AssumeAccount"] == 1

    cloud.key_lifetime = 0.2  # the next key is renewed 0.05 s before it expires
    renewing = cloud.add_account()
    with multiflow.connect("example", region="local-1", account_id=renewing, **options(cloud)) as client:
        client.describe()
        time.sleep(0.25)
        client.describe()  # no ExpiredToken: assumed again first
    assert cloud.calls["AssumeAccount"] >= 3  # once more at least (more on a machine slower than 0.15 s a call)


def test_entering_a_member_that_refuses_raises_its_code_and_request_id(cloud: ExampleCloud) -> None:
    member = cloud.add_account(enterable=False)
    with pytest.raises(AuthError) as raised:
        multiflow.connect("example", region="local-1", account_id=member, **options(cloud))
    assert raised.value.code == "AccessDenied" and raised.value.request_id and member in str(raised.value)
    assert KEY not in str(raised.value)


def test_the_session_lists_its_accounts_regions(cloud: ExampleCloud) -> None:
    member = cloud.add_account()
    with multiflow.connect("example", region="local-1", account_id=member, **options(cloud)) as client:
        assert isinstance(client.session, RegionLister)
        listed = client.session.list_regions()
    assert listed.enabled == ["local-1", "local-2"] and list(listed.skipped) == ["local-3"]
