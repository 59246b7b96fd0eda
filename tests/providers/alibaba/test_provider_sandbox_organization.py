"""The Alibaba sandbox's organization: the demo account manages a Resource Directory whose members a fleet can
list and enter, and ``prepare(..., account=...)`` seeds in the member it names."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from multiflow.accounts import Account
from multiflow.client import Connections
from multiflow.errors import AuthError
from multiflow.spec import ResourceKind
from multiflow_alibaba import AlibabaProvider
from multiflow_alibaba.accounts import AlibabaAccountSource
from multiflow_alibaba.options import SlsDestination
from multiflow_alibaba.sandbox_support import AlibabaSandbox
from multiflow_alibaba_emulator import DEMO_ACCOUNT_ID, DEMO_MEMBERS

from .provider_support import PROXY_VARIABLES

REGION = "cn-shanghai"
PROD_PAYMENTS, PROD_EU, DEV_SANDBOX, DEV_LEGACY = DEMO_MEMBERS


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sandbox() -> Iterator[AlibabaSandbox]:
    with AlibabaSandbox(activation_delay=0.0, deletion_delay=0.0) as running:
        yield running


def test_the_sandbox_describes_its_organization(sandbox: AlibabaSandbox) -> None:
    organization = sandbox.organization()
    assert organization["management_account_id"] == DEMO_ACCOUNT_ID
    members = organization["members"]
    assert set(members) == {DEMO_ACCOUNT_ID, *DEMO_MEMBERS}
    assert {k for k, m in members.items() if not m["access_role"]} == {DEMO_ACCOUNT_ID, DEV_LEGACY}
    assert sandbox.seed_demo()["organization"] == organization


def test_a_fleet_lists_and_enters_the_sandboxs_members(sandbox: AlibabaSandbox) -> None:
    source = AlibabaAccountSource.model_validate({"organization": {"tags": {"env": "prod"}}})
    listing = AlibabaProvider().list_accounts([source], **sandbox.connect_options(REGION))
    assert [a.id for a in listing.accounts] == [PROD_PAYMENTS, PROD_EU]  # the tags filter the management account too
    assert [a.id for a in listing.outside] == [DEMO_ACCOUNT_ID, DEV_SANDBOX, DEV_LEGACY]
    with Connections(lambda provider, region: sandbox.connect_options(region)) as pool:
        for account in listing.accounts:
            assert pool.client("alibaba", REGION, account).describe() == []
        [legacy] = [a for a in listing.outside if a.id == DEV_LEGACY]
        with pytest.raises(AuthError, match=r"EntityNotExist\.Role"):
            pool.client("alibaba", REGION, legacy)


def test_prepare_seeds_in_the_account_it_names(sandbox: AlibabaSandbox) -> None:
    destination = SlsDestination(project="org-flowlogs", logstore="prod")
    sandbox.prepare(REGION, ResourceKind.VPC, None, {"env": "prod"}, destination, account=PROD_EU)
    sandbox.prepare(REGION, ResourceKind.SUBNET, ["vsw-orgtest0000000000000001"], None, destination, account=PROD_EU)
    member = Account(
        "alibaba",
        PROD_EU,
        connect_options={"role_arn": f"acs:ram::{PROD_EU}:role/resourcedirectoryaccountaccessrole"},
    )
    with Connections(lambda provider, region: sandbox.connect_options(region)) as pool:
        inside = pool.client("alibaba", REGION, member).session
        assert len(inside.list_resources(ResourceKind.VPC, {"env": "prod"})) == 3
        assert "vsw-orgtest0000000000000001" in inside.list_resources(ResourceKind.SUBNET, {})
        management = pool.client("alibaba", REGION).session
        assert management.list_resources(ResourceKind.VPC, {"env": "prod"}) == []
