"""Alibaba organizations through the real SDKs (Resource Manager, STS, VPC) against the emulator: which accounts a
fleet's ``accounts: {alibaba: [...]}`` items cover, and the errors of items that cannot be listed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError

from multiflow.errors import AccountStateError, AuthError, InvalidRequest, NotFound
from multiflow_alibaba.accounts import AlibabaAccountSource
from multiflow_alibaba.errors import ERROR_TABLE

from .org_support import (
    DEV,
    KEY_ID,
    LEAVING,
    LEGACY,
    MANAGEMENT,
    OUTSIDER_KEY,
    PAYMENTS,
    SECRET,
    WEB_EU,
    Org,
    running_org,
)
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


def _ids(accounts: list[object]) -> list[str]:
    return [a.id for a in accounts]  # type: ignore[attr-defined]


def test_a_whole_organization_is_every_active_member_and_the_management_account(org: Org) -> None:
    listing = org.listing({"organization": {}})
    assert _ids(listing.accounts) == [MANAGEMENT, PAYMENTS, WEB_EU, DEV, LEGACY]
    assert listing.failed == [] and listing.outside == []
    # A member that is leaving the directory is skipped, and said so.
    assert [n for n in listing.notes if LEAVING in n and "Removing" in n]
    by_id = {a.id: a for a in listing.accounts}
    assert dict(by_id[MANAGEMENT].connect_options) == {}  # the caller's own credentials
    assert dict(by_id[PAYMENTS].connect_options) == {
        "role_arn": f"acs:ram::{PAYMENTS}:role/{ROLE}",
        "role_session_name": "multiflow",
    }
    assert by_id[PAYMENTS].name == "payments" and by_id[PAYMENTS].source == "organization"


def test_ids_keep_those_members_and_leave_the_others_outside(org: Org) -> None:
    listing = org.listing({"organization": {"ids": [PAYMENTS, DEV], "include_management": False}})
    assert _ids(listing.accounts) == [PAYMENTS, DEV]
    assert _ids(listing.outside) == [MANAGEMENT, WEB_EU, LEGACY]
    # What is outside is entered as the members are (plan looks there for the fleet's own flow logs).
    assert {a.id: dict(a.connect_options).get("role_arn") for a in listing.outside}[WEB_EU] == (
        f"acs:ram::{WEB_EU}:role/{ROLE}"
    )


def test_folders_cover_the_folders_under_them(org: Org) -> None:
    listing = org.listing({"organization": {"folders": [org.folders["prod"]], "include_management": False}})
    assert _ids(listing.accounts) == [PAYMENTS, WEB_EU]  # web-eu is in prod-eu, under prod
    org.emu.reset_calls()
    listing = org.listing({"organization": {"folders": [org.folders["prod-eu"]], "include_management": False}})
    assert _ids(listing.accounts) == [WEB_EU]
    assert org.emu.calls["ListAccounts"] == 1  # one page of 100 holds the directory


def test_tags_match_a_value_or_any_value(org: Org) -> None:
    web = org.listing({"organization": {"tags": {"team": "web"}, "include_management": False}})
    assert _ids(web.accounts) == [WEB_EU, DEV]
    any_team = org.listing({"organization": {"tags": {"team": "*"}, "include_management": False}})
    assert _ids(any_team.accounts) == [PAYMENTS, WEB_EU, DEV]
    both = org.listing({"organization": {"tags": {"env": "prod", "team": "web"}, "include_management": False}})
    assert _ids(both.accounts) == [WEB_EU]


def test_exclusions_and_the_management_account_left_out(org: Org) -> None:
    listing = org.listing({"organization": {"exclude": [DEV, MANAGEMENT]}})
    assert _ids(listing.accounts) == [PAYMENTS, WEB_EU, LEGACY]
    assert _ids(listing.outside) == [MANAGEMENT, DEV]


def test_sources_add_up_each_account_once(org: Org) -> None:
    listing = org.listing(
        {"organization": {"ids": [PAYMENTS], "include_management": False}},
        {"role_arn": f"acs:ram::{PAYMENTS}:role/{ROLE}", "name": "again"},
        {"role_arn": f"acs:ram::{DEV}:role/ops", "session_name": "netops", "external_id": "x-123"},
    )
    assert _ids(listing.accounts) == [PAYMENTS, DEV]
    dev = listing.accounts[1]
    assert dict(dev.connect_options) == {
        "role_arn": f"acs:ram::{DEV}:role/ops",
        "role_session_name": "netops",
        "external_id": "x-123",
    }
    assert DEV not in _ids(listing.outside)


def test_a_role_arn_is_its_account_without_any_call(org: Org) -> None:
    org.emu.reset_calls()
    listing = org.listing({"role_arn": f"acs:ram::{DEV}:role/{ROLE}", "name": "dev"})
    assert [(a.id, a.name) for a in listing.accounts] == [(DEV, "dev")]
    assert sum(org.emu.calls.values()) == 0


def test_a_profile_is_the_account_its_credentials_enter(
    org: Org, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alibabacloud_credentials.utils import auth_constant

    (tmp_path / ".aliyun").mkdir()
    profile = {"name": "ops", "mode": "AK", "access_key_id": OUTSIDER_KEY, "access_key_secret": SECRET + "-outsider"}
    (tmp_path / ".aliyun" / "config.json").write_text(json.dumps({"current": "ops", "profiles": [profile]}))
    monkeypatch.setattr(auth_constant, "HOME", str(tmp_path))
    # The run's own keys (the management account's) do not win over the profile's.
    listing = org.listing({"profile": "ops"})
    [account] = listing.accounts
    assert account.id == org.emu.account_of(OUTSIDER_KEY)
    assert account.connect_options["profile_name"] == "ops" and account.connect_options["access_key_id"] is None


def test_an_id_that_is_not_a_member_is_a_failure_of_its_own(org: Org) -> None:
    listing = org.listing({"organization": {"ids": [PAYMENTS, "1999999999999999"]}})
    assert _ids(listing.accounts) == [PAYMENTS]  # ids filter the management account too
    [failure] = listing.failed
    assert failure.account == "1999999999999999" and isinstance(failure.error, NotFound)
    assert "not a member" in failure.error.message


def test_an_organization_listed_by_an_account_without_a_directory_fails_with_the_clouds_words(org: Org) -> None:
    listing = org.listing(
        {"organization": {}},
        {"role_arn": f"acs:ram::{DEV}:role/{ROLE}"},
        key_id=OUTSIDER_KEY,
        secret=SECRET + "-outsider",
    )
    assert _ids(listing.accounts) == [DEV]  # the other source goes on
    [failure] = listing.failed
    assert failure.account is None and failure.source == "organization"
    error = failure.error
    assert isinstance(error, AccountStateError)
    assert error.code == "EntityNotExists.ResourceDirectory" and error.operation == "ListAccounts"
    assert error.request_id and error.message


def test_a_folder_that_does_not_exist_fails_the_source(org: Org) -> None:
    listing = org.listing({"organization": {"folders": ["fd-doesnotexist"]}})
    [failure] = listing.failed
    assert isinstance(failure.error, NotFound) and failure.error.code == "EntityNotExists.Folder"
    assert failure.error.request_id


def test_every_page_of_a_large_directory_is_read() -> None:
    with running_org() as org:
        extra = [f"20000000000{n:05d}" for n in range(120)]
        for account_id in extra:
            org.emu.add_member(account_id, folder_id=org.folders["dev"])
        listing = org.listing({"organization": {"folders": [org.folders["dev"]], "include_management": False}})
        assert _ids(listing.accounts) == sorted([DEV, LEGACY, *extra])
        assert org.emu.calls["ListAccounts"] == 2  # 126 accounts: two pages of 100


@pytest.mark.parametrize(
    ("item", "says"),
    [
        ({}, "exactly one of profile, role_arn or organization (given: none)"),
        ({"profile": "a", "role_arn": "acs:ram::1:role/x"}, "given: profile, role_arn"),
        ({"role_arn": "acs:ram::123:role/ResourceDirectoryAccountAccessRole"}, "did you mean"),
        ({"role_arn": "arn:aws:iam::123:role/x"}, "is not a RAM role ARN"),
        ({"organization": {"folders": ["ou-1234"]}}, "is not a Resource Directory folder id"),
        ({"organization": {"ids": ["12ab"]}}, "is not an Alibaba Cloud account id"),
        ({"organization": {"exclude": [123]}}, "exclude"),
        ({"organization": {"role_name": "no spaces"}}, "is not a RAM role name"),
        ({"organization": {"units": ["x"]}}, "units"),
        ({"profile": "p", "external_id": "x"}, "external_id goes with role_arn only"),
        ({"profile": "p", "session_name": "abc"}, "session_name goes with role_arn or organization"),
        ({"role_arn": "acs:ram::1:role/x", "session_name": "a b"}, "RoleSessionName"),
    ],
)
def test_bad_items_are_refused_naming_the_value_and_what_is_allowed(item: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        AlibabaAccountSource.model_validate(item)
    assert says in str(caught.value)


def test_labels_name_the_item_and_never_a_secret() -> None:
    assert AlibabaAccountSource(profile="prod").label() == "profile prod"
    assert AlibabaAccountSource(role_arn="acs:ram::1:role/x", name="one").label() == "one (role acs:ram::1:role/x)"
    assert AlibabaAccountSource.model_validate({"organization": {}}).label() == "organization"


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("EntityNotExist.Role", AuthError),
        ("NoPermission", AuthError),
        ("MissingSecurityToken", AuthError),
        ("InvalidSecurityToken.Expired", AuthError),
        ("InvalidSecurityToken.MismatchWithAccessKey", AuthError),
        ("EntityNotExists.ResourceDirectory", AccountStateError),
        ("EntityNotExists.Folder", NotFound),
        ("InvalidParameter.RoleArn", InvalidRequest),
        ("InvalidParameter.DurationSeconds", InvalidRequest),
    ],
)
def test_entering_codes_land_on_one_class_and_are_not_retried(code: str, cls: type) -> None:
    assert ERROR_TABLE.classify(code, 404 if code.startswith("Entity") else 403) is cls
    assert not ERROR_TABLE.is_retryable(code, 400)


def test_the_calling_key_is_in_no_listing(org: Org) -> None:
    listing = org.listing({"organization": {}})
    text = repr(listing) + "".join(repr(dict(a.connect_options)) for a in listing.accounts + listing.outside)
    assert SECRET not in text and KEY_ID not in text


FLEET = """\
name: org
accounts:
  alibaba:
    - organization: {folders: [fd-demoprod01], tags: {env: prod}, exclude: ["1000000000000004"]}
    - role_arn: acs:ram::1000000000000009:role/netops
      name: netops
flow_logs:
  - name: vpcs
    provider: alibaba
    regions: [cn-hangzhou]
    resources: {kind: vpc, ids: [vpc-1]}
    destination: {kind: sls, project: central, logstore: vpcs}
"""


def test_a_fleet_file_names_alibaba_accounts_with_this_model() -> None:
    from multiflow.fleet import loads

    fleet = loads(FLEET, "org.yaml")
    organization, role = fleet.accounts["alibaba"]
    assert isinstance(organization, AlibabaAccountSource) and organization.organization is not None
    assert organization.organization.folders == ["fd-demoprod01"] and organization.organization.exclude == [LEGACY]
    assert role.label() == "netops (role acs:ram::1000000000000009:role/netops)"


def test_a_bad_item_in_a_fleet_file_is_located_with_the_value_and_what_is_allowed() -> None:
    from multiflow.fleet import FleetError, loads

    with pytest.raises(FleetError) as caught:
        loads(FLEET.replace("role/netops", "role/NetOps"), "org.yaml")
    text = str(caught.value)
    assert "org.yaml:5:" in text and "accounts.alibaba[1].role_arn" in text
    assert "acs:ram::1000000000000009:role/netops" in text  # the lower-case spelling suggested
