"""The emulator's STS and Resource Directory, through the official SDKs over HTTP: AssumeRole's temporary
credentials verified in every signed request (both signature families), their expiry, GetCallerIdentity, the
directory listings, and the cloud's error shapes."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from alibabacloud_resourcemanager20200331 import models as rm_models
from alibabacloud_resourcemanager20200331.client import Client as ResourceManager
from alibabacloud_sts20150401 import models as sts_models
from alibabacloud_sts20150401.client import Client as Sts
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from alibabacloud_vpc20160428 import models as vpc_models
from alibabacloud_vpc20160428.client import Client as Vpc

from multiflow_alibaba_emulator import AlibabaEmulator, ManualClock

from ..conftest import ACCOUNT_ID, KEY_ID, KEY_SECRET, REGION

MEMBER = "3000000000000001"
ROLE_ARN = f"acs:ram::{MEMBER}:role/resourcedirectoryaccountaccessrole"


def _config(emulator: AlibabaEmulator, **keys: Any) -> Config:
    return Config(endpoint=emulator.endpoint, protocol="http", region_id=REGION, **keys)


@pytest.fixture
def directory(emulator: AlibabaEmulator) -> dict[str, str]:
    root = emulator.create_directory(ACCOUNT_ID)
    prod = emulator.add_folder("prod")
    emulator.add_member(MEMBER, "member", folder_id=prod, tags={"env": "prod"})
    return {"root": root, "prod": prod}


@pytest.fixture
def sts(emulator: AlibabaEmulator, directory: dict[str, str]) -> Sts:
    return Sts(_config(emulator, access_key_id=KEY_ID, access_key_secret=KEY_SECRET))


def _assume(sts: Sts, **fields: Any) -> Any:
    request = sts_models.AssumeRoleRequest(role_arn=ROLE_ARN, role_session_name="multiflow", **fields)
    return sts.assume_role(request).body


def _vpc(emulator: AlibabaEmulator, credentials: Any, *, token: str | None = None, **config: Any) -> Vpc:
    return Vpc(
        _config(
            emulator,
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token if token is None else token,
            **config,
        )
    )


def _describe_vpcs(client: Vpc) -> list[str]:
    body = client.describe_vpcs(vpc_models.DescribeVpcsRequest(region_id=REGION)).body
    return [v.vpc_id for v in body.vpcs.vpc]


def _refused(call: Any) -> ClientException:
    with pytest.raises(ClientException) as caught:
        call()
    return caught.value


def test_assume_role_returns_temporary_credentials_that_act_in_the_roles_account(
    emulator: AlibabaEmulator, sts: Sts, clock: ManualClock
) -> None:
    mine = emulator.add_vpc(REGION, account_id=MEMBER)
    emulator.add_vpc(REGION, account_id=ACCOUNT_ID)
    body = _assume(sts, duration_seconds=1200)
    credentials = body.credentials
    assert credentials.access_key_id.startswith("STS.") and credentials.security_token
    expires = datetime.strptime(credentials.expiration, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert 1190 <= expires.timestamp() - datetime.now(timezone.utc).timestamp() <= 1201
    assert body.assumed_role_user.arn == f"acs:ram::{MEMBER}:assumed-role/resourcedirectoryaccountaccessrole/multiflow"
    assert _describe_vpcs(_vpc(emulator, credentials)) == [mine]
    # The RPC signature (SignatureVersion 1.0) carries the token as a parameter; it is verified the same way.
    assert _describe_vpcs(_vpc(emulator, credentials, signature_algorithm="v2")) == [mine]
    assert emulator.assumed == {MEMBER: 1}


def test_the_caller_identity_is_the_signing_key_s(emulator: AlibabaEmulator, sts: Sts) -> None:
    mine = sts.get_caller_identity().body
    assert (mine.account_id, mine.identity_type) == (ACCOUNT_ID, "RAMUser")
    credentials = _assume(sts).credentials
    as_role = (
        Sts(
            _config(
                emulator,
                access_key_id=credentials.access_key_id,
                access_key_secret=credentials.access_key_secret,
                security_token=credentials.security_token,
            )
        )
        .get_caller_identity()
        .body
    )
    assert (as_role.account_id, as_role.identity_type) == (MEMBER, "AssumedRoleUser")
    assert as_role.arn.endswith(":assumed-role/resourcedirectoryaccountaccessrole/multiflow")


@pytest.mark.parametrize("algorithm", [None, "v2"])
def test_temporary_keys_need_their_own_token_and_secret(emulator: AlibabaEmulator, sts: Sts, algorithm: Any) -> None:
    credentials = _assume(sts).credentials
    without = Vpc(
        _config(
            emulator,
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            signature_algorithm=algorithm,
        )
    )
    assert _refused(lambda: _describe_vpcs(without)).code == "MissingSecurityToken"
    wrong = _vpc(emulator, credentials, token=credentials.security_token + "x", signature_algorithm=algorithm)
    assert _refused(lambda: _describe_vpcs(wrong)).code == "InvalidSecurityToken.MismatchWithAccessKey"
    forged = Vpc(
        _config(
            emulator,
            access_key_id=credentials.access_key_id,
            access_key_secret="not-the-temporary-secret",
            security_token=credentials.security_token,
            signature_algorithm=algorithm,
        )
    )
    assert _refused(lambda: _describe_vpcs(forged)).code == "SignatureDoesNotMatch"


def test_temporary_keys_expire_by_their_duration_or_the_knob(
    emulator: AlibabaEmulator, sts: Sts, clock: ManualClock
) -> None:
    client = _vpc(emulator, _assume(sts, duration_seconds=900).credentials)
    clock.advance(899)
    assert _describe_vpcs(client) == []
    clock.advance(1)
    refused = _refused(lambda: _describe_vpcs(client))
    assert refused.code == "InvalidSecurityToken.Expired" and refused.data["RequestId"]
    fresh = _vpc(emulator, _assume(sts).credentials)  # DurationSeconds default: 3600
    clock.advance(3599)
    assert _describe_vpcs(fresh) == []
    assert emulator.expire_credentials() == 1
    assert _refused(lambda: _describe_vpcs(fresh)).code == "InvalidSecurityToken.Expired"


@pytest.mark.parametrize(
    ("fields", "code", "status"),
    [
        ({"role_arn": f"acs:ram::{MEMBER}:role/nosuchrole"}, "EntityNotExist.Role", 404),
        ({"role_arn": "acs:ram::3000000000000001:user/bob"}, "InvalidParameter.RoleArn", 400),
        ({"role_session_name": "a"}, "InvalidParameter.RoleSessionName", 400),
        ({"duration_seconds": 899}, "InvalidParameter.DurationSeconds", 400),
        ({"duration_seconds": 3601}, "InvalidParameter.DurationSeconds", 400),
    ],
)
def test_assume_role_refusals_in_the_clouds_shape(sts: Sts, fields: dict[str, Any], code: str, status: int) -> None:
    request = sts_models.AssumeRoleRequest(**{"role_arn": ROLE_ARN, "role_session_name": "multiflow", **fields})
    refused = _refused(lambda: sts.assume_role(request))
    assert (refused.code, refused.status_code) == (code, status)
    assert set(refused.data) >= {"RequestId", "HostId", "Code", "Message", "Recommend"}
    assert refused.data["HostId"] == "sts.aliyuncs.com" and "product=Sts" in refused.data["Recommend"]


def test_a_role_that_does_not_trust_the_caller_is_no_permission(emulator: AlibabaEmulator, sts: Sts) -> None:
    emulator.add_role(MEMBER, "ops", trusted=["4000000000000000"])
    request = sts_models.AssumeRoleRequest(role_arn=f"acs:ram::{MEMBER}:role/ops", role_session_name="multiflow")
    refused = _refused(lambda: sts.assume_role(request))
    assert (refused.code, refused.status_code) == ("NoPermission", 403)


def test_the_directory_lists_accounts_folders_and_children(
    emulator: AlibabaEmulator, directory: dict[str, str]
) -> None:
    manager = ResourceManager(_config(emulator, access_key_id=KEY_ID, access_key_secret=KEY_SECRET))
    accounts = manager.list_accounts(rm_models.ListAccountsRequest(include_tags=True, page_size=100)).body
    assert accounts.total_count == 2
    member = {a.account_id: a for a in accounts.accounts.account}[MEMBER]
    assert member.folder_id == directory["prod"] and member.status == "CreateSuccess"
    assert [(t.key, t.value) for t in member.tags.tag] == [("env", "prod")]
    assert member.resource_directory_path.endswith(f"{directory['root']}/{directory['prod']}")
    tagged = manager.list_accounts(
        rm_models.ListAccountsRequest(tag=[rm_models.ListAccountsRequestTag(key="env", value="prod")])
    ).body
    assert [a.account_id for a in tagged.accounts.account] == [MEMBER]
    folders = manager.list_folders_for_parent(rm_models.ListFoldersForParentRequest()).body
    assert [f.folder_id for f in folders.folders.folder] == [directory["prod"]]
    children = manager.list_accounts_for_parent(
        rm_models.ListAccountsForParentRequest(parent_folder_id=directory["prod"])
    ).body
    assert [a.account_id for a in children.accounts.account] == [MEMBER]
    missing = _refused(
        lambda: manager.list_folders_for_parent(rm_models.ListFoldersForParentRequest(parent_folder_id="fd-nope"))
    )
    assert (missing.code, missing.status_code) == ("EntityNotExists.Folder", 404)
    too_big = _refused(lambda: manager.list_accounts(rm_models.ListAccountsRequest(page_size=101)))
    assert too_big.code == "InvalidParameter"


def test_only_the_management_account_lists_the_directory(emulator: AlibabaEmulator, sts: Sts) -> None:
    credentials = _assume(sts).credentials
    member = ResourceManager(
        _config(
            emulator,
            access_key_id=credentials.access_key_id,
            access_key_secret=credentials.access_key_secret,
            security_token=credentials.security_token,
        )
    )
    refused = _refused(lambda: member.list_accounts(rm_models.ListAccountsRequest()))
    assert (refused.code, refused.status_code) == ("EntityNotExists.ResourceDirectory", 404)
    assert refused.data["HostId"] == "resourcemanager.aliyuncs.com"


def test_describe_regions_names_every_known_region(client: Vpc) -> None:
    regions = client.describe_regions(vpc_models.DescribeRegionsRequest()).body.regions.region
    names = [r.region_id for r in regions]
    assert REGION in names and "eu-central-1" in names and names == sorted(names)
