"""AWS accounts: organization listings, explicit accounts, entering a member by its role, and each account's
regions, with boto3 against the sandbox's moto (Organizations, STS, IAM, EC2) over HTTP."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import multiflow
from multiflow.accounts import Account, AccountListing, RegionLister
from multiflow.errors import AuthError, NotFound
from multiflow.plugins import get_provider
from multiflow_aws.accounts import AwsAccountSource
from multiflow_aws.sandbox import SANDBOX_MANAGEMENT_ACCOUNT, SANDBOX_SECRET_ACCESS_KEY

REGION = "us-east-1"
ROLE = "OrganizationAccountAccessRole"

pytestmark = pytest.mark.timeout(120)


def source(**fields: Any) -> AwsAccountSource:
    return AwsAccountSource.model_validate(fields)


def listing(aws_env: Any, *sources: AwsAccountSource, **options: Any) -> AccountListing:
    return get_provider("aws").list_accounts(list(sources), **(options or aws_env.connect_options()))


def members(aws_env: Any) -> dict[str, str]:
    """Member name → id (moto chooses the ids)."""
    return {m["name"]: m["id"] for m in aws_env.organization()["members"]}


def role_arn(account_id: str, role: str = ROLE) -> str:
    return f"arn:aws:iam::{account_id}:role/{role}"


def ids(accounts: list[Account]) -> list[str]:
    return [a.id for a in accounts]


# -- organizations ---------------------------------------------------------------------------------------------


def test_an_organization_lists_the_management_account_and_every_active_member(aws_env: Any) -> None:
    names = members(aws_env)
    found = listing(aws_env, source(organization={}))
    assert ids(found.accounts) == sorted([SANDBOX_MANAGEMENT_ACCOUNT, *names.values()])
    assert (found.failed, found.outside, found.notes) == ([], [], [])
    by_id = {a.id: a for a in found.accounts}
    assert by_id[SANDBOX_MANAGEMENT_ACCOUNT].connect_options == {}  # the caller's own credentials
    assert by_id[names["prod"]].connect_options == {
        "role_arn": role_arn(names["prod"]),
        "role_session_name": "multiflow",
    }
    assert by_id[names["prod"]].name == "prod" and by_id[names["prod"]].source == "organization"


def test_ids_and_exclude_narrow_the_members_and_the_rest_is_outside(aws_env: Any) -> None:
    names = members(aws_env)
    org = {"ids": [names["prod"], names["staging"]], "exclude": [names["staging"]]}
    found = listing(aws_env, source(organization=org))
    assert ids(found.accounts) == [names["prod"]]
    assert ids(found.outside) == sorted([SANDBOX_MANAGEMENT_ACCOUNT, names["staging"], names["dev"]])
    outside = {a.id: a for a in found.outside}
    assert outside[names["dev"]].connect_options["role_arn"] == role_arn(names["dev"])  # plan can look there


def test_units_take_the_accounts_under_them_at_any_depth(aws_env: Any) -> None:
    names, units = members(aws_env), aws_env.organization()["units"]
    found = listing(aws_env, source(organization={"units": [units["workloads"]]}))
    # prod sits in workloads/prod, one level further down than staging
    assert ids(found.accounts) == sorted([names["prod"], names["staging"]])
    assert ids(found.outside) == sorted([SANDBOX_MANAGEMENT_ACCOUNT, names["dev"]])


def test_an_unknown_unit_fails_the_source_with_aws_code_and_the_others_go_on(aws_env: Any) -> None:
    names = members(aws_env)
    found = listing(
        aws_env, source(organization={"units": ["ou-zzzz-zzzzzzzz"]}), source(role_arn=role_arn(names["dev"]))
    )
    assert ids(found.accounts) == [names["dev"]]
    [failure] = found.failed
    assert (failure.provider, failure.source, failure.account) == ("aws", "organization", None)
    assert isinstance(failure.error, NotFound) and failure.error.code == "ParentNotFoundException"


def test_tags_match_values_and_a_star_matches_any_value(aws_env: Any) -> None:
    names = members(aws_env)
    net = listing(aws_env, source(organization={"tags": {"team": "net"}}))
    assert ids(net.accounts) == sorted([names["prod"], names["staging"]])
    anything = listing(aws_env, source(organization={"tags": {"env": "*"}}))
    assert ids(anything.accounts) == sorted(names.values())
    assert ids(anything.outside) == [SANDBOX_MANAGEMENT_ACCOUNT]  # it has no env tag


def test_include_management_false_leaves_the_management_account_outside(aws_env: Any) -> None:
    found = listing(aws_env, source(organization={"include_management": False}))
    assert SANDBOX_MANAGEMENT_ACCOUNT not in ids(found.accounts)
    assert ids(found.outside) == [SANDBOX_MANAGEMENT_ACCOUNT]


def test_a_suspended_member_is_a_note_not_an_account(aws_env: Any) -> None:
    names = members(aws_env)
    aws_env.suspend_member(names["dev"])
    found = listing(aws_env, source(organization={}))
    assert names["dev"] not in ids(found.accounts) + ids(found.outside)
    [note] = found.notes
    assert names["dev"] in note and "SUSPENDED" in note


def test_a_member_added_is_listed(aws_env: Any) -> None:
    added = aws_env.add_member("analytics", unit="sandbox", tags={"env": "dev"})
    found = listing(aws_env, source(organization={"units": [aws_env.organization()["units"]["sandbox"]]}))
    assert added in ids(found.accounts)


def test_organizations_not_in_use_is_a_failure_of_the_source_with_its_request_id(aws_env: Any) -> None:
    alone = aws_env.connect_options(account="999999999999")  # an account outside any organization
    found = listing(aws_env, source(organization={}), **alone)
    assert found.accounts == []
    [failure] = found.failed
    assert failure.error.code == "AWSOrganizationsNotInUseException" and isinstance(failure.error, NotFound)
    assert failure.error.request_id and failure.error.operation == "DescribeOrganization"


def test_sources_are_deduplicated_by_id_first_source_wins(aws_env: Any) -> None:
    names = members(aws_env)
    first = source(role_arn=role_arn(names["prod"]), session_name="pinned", name="prod-account")
    found = listing(aws_env, first, source(organization={}))
    [prod] = [a for a in found.accounts if a.id == names["prod"]]
    assert prod.connect_options["role_session_name"] == "pinned" and prod.name == "prod-account"
    assert len(found.accounts) == len(set(ids(found.accounts))) == 4


# -- explicit accounts ----------------------------------------------------------------------------------------


def test_a_role_arn_is_entered_and_its_account_id_comes_from_sts(aws_env: Any) -> None:
    names = members(aws_env)
    found = listing(aws_env, source(role_arn=role_arn(names["staging"]), external_id="x-42"))
    [account] = found.accounts
    assert account.id == names["staging"] and account.source == f"role {role_arn(names['staging'])}"
    assert account.connect_options == {"role_arn": role_arn(names["staging"]), "external_id": "x-42"}


def test_a_profile_is_an_account_whose_id_comes_from_sts(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = members(aws_env)
    keys = aws_env.connect_options(account=names["dev"])
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[dev]\naws_access_key_id = {keys['aws_access_key_id']}\n"
        f"aws_secret_access_key = {keys['aws_secret_access_key']}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    found = listing(aws_env, source(profile="dev"))
    [account] = found.accounts
    assert account.id == names["dev"] and account.source == "profile dev"
    # the profile enters the account, not the run's own keys
    assert account.connect_options == {
        "profile_name": "dev",
        "aws_access_key_id": None,
        "aws_secret_access_key": None,
    }
    client = multiflow.connect("aws", REGION, **{**aws_env.connect_options(), **account.connect_options})
    [vpc] = aws_env.seed_vpcs(REGION, 1, account=names["dev"])
    assert vpc in client.session.list_resources(multiflow.ResourceKind.VPC, {})
    client.close()


def test_a_profile_that_does_not_exist_is_a_failure_naming_it(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    found = listing(aws_env, source(profile="nowhere"))
    [failure] = found.failed
    assert isinstance(failure.error, AuthError) and "nowhere" in failure.error.message


# -- entering a member ----------------------------------------------------------------------------------------


def test_a_role_that_cannot_be_assumed_is_an_auth_error_at_connect_with_aws_code_message_and_request_id(
    aws_env: Any,
) -> None:
    locked = aws_env.add_member("locked", access_role=False)
    assert locked in ids(listing(aws_env, source(organization={})).accounts)  # listing enters no member
    with pytest.raises(AuthError) as caught:
        multiflow.connect("aws", REGION, **aws_env.connect_options(), role_arn=role_arn(locked))
    error = caught.value
    assert (error.code, error.http_status, error.operation) == ("AccessDenied", 403, "AssumeRole")
    assert f"is not authorized to perform: sts:AssumeRole on resource: {role_arn(locked)}" in error.message
    assert error.message.startswith("User: arn:aws:") and error.request_id


def test_a_role_arn_source_that_cannot_be_assumed_is_an_account_failure(aws_env: Any) -> None:
    locked = aws_env.add_member("locked", access_role=False)
    names = members(aws_env)
    found = listing(aws_env, source(role_arn=role_arn(locked)), source(role_arn=role_arn(names["dev"])))
    assert ids(found.accounts) == [names["dev"]]
    [failure] = found.failed
    assert failure.account == locked and failure.source == f"role {role_arn(locked)}"
    assert isinstance(failure.error, AuthError) and failure.error.code == "AccessDenied" and failure.error.request_id


def test_the_sandbox_refuses_assume_role_as_aws_does_through_boto3(aws_env: Any) -> None:
    sts = aws_env.client("sts")
    names = members(aws_env)
    assert sts.assume_role(RoleArn=role_arn(names["prod"]), RoleSessionName="check")["Credentials"]["AccessKeyId"]
    for refused in (role_arn(names["prod"], "NoSuchRole"), role_arn("999999999999")):
        with pytest.raises(sts.exceptions.ClientError) as caught:
            sts.assume_role(RoleArn=refused, RoleSessionName="check")
        answer = caught.value.response
        assert answer["Error"]["Code"] == "AccessDenied" and answer["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert answer["Error"]["Message"].endswith(
            f"is not authorized to perform: sts:AssumeRole on resource: {refused}"
        )
        assert answer["ResponseMetadata"]["RequestId"]


def test_one_assume_role_serves_every_region_of_an_account(aws_env: Any) -> None:
    names = members(aws_env)
    proxy = aws_env.fault_proxy()
    options = aws_env.connect_options(proxy=proxy)
    clients: list[multiflow.Client] = []
    lock = threading.Lock()

    def open_region(region: str, account: str) -> None:
        client = multiflow.connect("aws", region, **options, role_arn=role_arn(account))
        client.describe()  # a call in the member, signed with the role's keys
        with lock:
            clients.append(client)

    threads = [
        threading.Thread(target=open_region, args=(region, names["prod"]))
        for region in ("us-east-1", "eu-west-1", "ap-southeast-2")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(clients) == 3
    assert proxy.calls["AssumeRole"] == 1 and proxy.calls["DescribeFlowLogs"] == 3
    open_region("us-east-1", names["dev"])  # another account: its own AssumeRole
    assert proxy.calls["AssumeRole"] == 2
    for client in clients:
        client.close()


def test_a_members_flow_logs_and_vpcs_are_not_seen_from_the_management_account(aws_env: Any) -> None:
    names = members(aws_env)
    [vpc] = aws_env.seed_vpcs(REGION, 1, account=names["prod"])
    bucket = aws_env.create_bucket("member-logs", account=names["prod"])
    member = multiflow.connect("aws", REGION, **aws_env.connect_options(), role_arn=role_arn(names["prod"]))
    management = multiflow.connect("aws", REGION, **aws_env.connect_options())
    spec = multiflow.FlowLogSpec(resources={"kind": "vpc", "ids": [vpc]}, destination={"kind": "s3", "bucket": bucket})
    member.session.create([spec], extra_tags={}, dry_run=False)
    assert [f.resource.id for f in member.describe()] == [vpc]
    assert management.describe() == []
    assert vpc not in management.session.list_resources(multiflow.ResourceKind.VPC, {})
    assert aws_env.client("ec2", REGION, account=names["prod"]).describe_flow_logs()["FlowLogs"]
    member.close()
    management.close()


def test_prepare_seeds_an_entry_in_the_account_it_names(aws_env: Any) -> None:
    names = members(aws_env)
    destination = multiflow.FlowLogSpec(
        resources={"kind": "vpc", "ids": ["vpc-0abc"]}, destination={"kind": "s3", "bucket": "arn:aws:s3:::org-logs"}
    ).destination
    aws_env.prepare(REGION, multiflow.ResourceKind.VPC, ["vpc-0abc"], None, destination, account=names["staging"])
    member = aws_env.client("ec2", REGION, account=names["staging"])
    assert [v["VpcId"] for v in member.describe_vpcs(VpcIds=["vpc-0abc"])["Vpcs"]] == ["vpc-0abc"]
    assert "org-logs" in [b["Name"] for b in aws_env.client("s3", account=names["staging"]).list_buckets()["Buckets"]]
    assert "vpc-0abc" not in [v["VpcId"] for v in aws_env.client("ec2", REGION).describe_vpcs()["Vpcs"]]


def test_no_credentials_in_reprs_of_sessions_listings_or_errors(aws_env: Any) -> None:
    names = members(aws_env)
    client = multiflow.connect("aws", REGION, **aws_env.connect_options(), role_arn=role_arn(names["prod"]))
    assumed = client.session.ec2._request_signer._credentials.get_frozen_credentials()
    found = listing(aws_env, source(organization={}), source(role_arn=role_arn("999999999999")))
    shown = " ".join(
        [repr(client), repr(client.session), repr(found), str(found.failed[0].error), repr(found.failed[0].error)]
    )
    for secret in (assumed.secret_key, assumed.token, assumed.access_key, SANDBOX_SECRET_ACCESS_KEY):
        assert secret and secret not in shown
    assert role_arn(names["prod"]) in repr(client.session)
    client.close()


# -- regions --------------------------------------------------------------------------------------------------


def test_regions_opt_in_regions_not_enabled_are_skipped_and_said_so(aws_env: Any) -> None:
    names = members(aws_env)
    session = multiflow.connect("aws", REGION, **aws_env.connect_options(), role_arn=role_arn(names["prod"])).session
    assert isinstance(session, RegionLister)
    regions = session.list_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions.enabled)
    assert regions.enabled == sorted(regions.enabled)
    for opt_in in ("af-south-1", "ap-east-1", "me-south-1"):
        assert regions.skipped[opt_in] == "opt-in region not enabled for this account"
    every = set(regions.enabled) | set(regions.skipped)
    assert not any(r.startswith(("cn-", "us-gov-")) for r in every)  # the caller's partition only
    aws_env.opt_in(names["prod"], "af-south-1")
    assert "af-south-1" in session.list_regions().enabled
    management = multiflow.connect("aws", REGION, **aws_env.connect_options()).session
    assert "af-south-1" in management.list_regions().skipped  # enabled for prod only


def test_the_sandbox_answers_describe_regions_without_all_regions_with_enabled_ones_only(aws_env: Any) -> None:
    answer = aws_env.client("ec2", REGION).describe_regions()["Regions"]
    statuses = {r["RegionName"]: r["OptInStatus"] for r in answer}
    assert "af-south-1" not in statuses and statuses["us-east-1"] == "opt-in-not-required"


# -- the model ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "where", "says"),
    [
        ({"role_arn": "arn:aws:iam::12:role/x"}, "role_arn", "arn:<partition>:iam::<12 digits>:role/<path/name>"),
        ({"role_arn": "arn:aws:iam::123456789012:user/x"}, "role_arn", "an IAM role ARN"),
        ({"organization": {"ids": ["12345"]}}, "organization.ids.0", "a 12-digit AWS account id"),
        ({"organization": {"exclude": ["x"]}}, "organization.exclude.0", "a 12-digit AWS account id"),
        ({"organization": {"units": ["ou-1"]}}, "organization.units.0", "ou-xxxx-xxxxxxxx"),
        ({"organization": {"role_name": "bad role"}}, "organization.role_name", "an IAM role name"),
        ({"organization": {"tags": {}}}, "organization.tags", "at least 1"),
        ({"organization": {"colour": "x"}}, "organization.colour", "Extra inputs"),
        ({}, "", "exactly one of profile, role_arn or organization"),
        ({"organization": {}, "role_arn": "arn:aws:iam::123456789012:role/x"}, "", "exactly one of"),
        ({"profile": "p", "external_id": "abc"}, "", "external_id='abc' goes with role_arn only"),
        ({"role_arn": "arn:aws:iam::123456789012:role/x", "session_name": "a b"}, "session_name", "RoleSessionName"),
    ],
)
def test_bad_sources_are_refused_naming_the_field_the_value_and_what_is_allowed(
    fields: dict[str, Any], where: str, says: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        source(**fields)
    [error] = caught.value.errors()
    assert ".".join(str(p) for p in error["loc"]) == where
    assert says in error["msg"]


def test_labels_name_each_kind_and_never_a_secret() -> None:
    assert source(profile="prod").label() == "profile prod"
    assert source(role_arn="arn:aws:iam::123456789012:role/a/X").label() == "role arn:aws:iam::123456789012:role/a/X"
    assert source(organization={}).label() == "organization"
    assert source(organization={}, name="corp").label() == "corp (organization)"
    assert "shh" not in source(role_arn="arn:aws-cn:iam::123456789012:role/X", external_id="shh").label()


def test_a_fleet_file_names_the_bad_source_with_its_place(tmp_path: Path) -> None:
    from multiflow.fleet import FleetError, loads

    text = (
        "accounts:\n  aws:\n    - organization: {units: [ou-bad]}\nflow_logs:\n  - name: a\n    provider: aws\n"
        "    regions: [us-east-1]\n    resources: {kind: vpc, ids: [vpc-1]}\n"
        "    destination: {kind: s3, bucket: arn:aws:s3:::b}\n"
    )
    with pytest.raises(FleetError) as caught:
        loads(text)
    assert "accounts.aws[0].organization.units[0]='ou-bad'" in str(caught.value)
    assert "ou-xxxx-xxxxxxxx" in str(caught.value)


def test_the_roles_credentials_are_refreshed_by_botocore_before_they_expire(aws_env: Any) -> None:
    # 900 s is STS's shortest lifetime and botocore's refresh window: every use finds them about to expire, so
    # each EC2 call asks STS again; with the default hour they are reused (one AssumeRole above).
    names = members(aws_env)
    proxy = aws_env.fault_proxy()
    client = multiflow.connect(
        "aws", REGION, **aws_env.connect_options(proxy=proxy), role_arn=role_arn(names["prod"]), role_duration=900
    )
    entered = proxy.calls["AssumeRole"]
    client.describe()
    client.describe()
    assert entered == 1 and proxy.calls["AssumeRole"] >= 3 and proxy.calls["DescribeFlowLogs"] == 2
    client.close()


def test_a_role_duration_sts_would_refuse_is_a_spec_error_before_any_call(aws_env: Any) -> None:
    from multiflow.errors import SpecError

    proxy = aws_env.fault_proxy()
    with pytest.raises(SpecError, match=r"role_duration=60.*900 to 43200"):
        multiflow.connect(
            "aws", REGION, **aws_env.connect_options(proxy=proxy), role_arn=role_arn("123456789012"), role_duration=60
        )
    assert proxy.calls == {}


def test_the_demo_gives_each_member_vpcs_of_its_own(aws_env: Any) -> None:
    demo = aws_env.seed_demo()
    prod = next(m["id"] for m in demo["organization"]["members"] if m["name"] == "prod")
    client = multiflow.connect("aws", "eu-west-1", **aws_env.connect_options(), role_arn=role_arn(prod))
    assert (
        client.session.list_resources(multiflow.ResourceKind.VPC, {"env": "prod"})
        == demo["accounts"][prod]["vpcs"]["eu-west-1"]
    )
    assert demo["elsewhere"]["eu-west-1"] != demo["accounts"][prod]["vpcs"]["eu-west-1"]
    client.close()


def test_an_external_id_is_not_in_the_sources_repr() -> None:
    item = source(role_arn="arn:aws:iam::123456789012:role/X", external_id="not-for-logs")
    assert "not-for-logs" not in repr(item) and "not-for-logs" not in item.label()


def test_the_sandbox_environment_points_sts_and_organizations_at_it_too(
    aws_env: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment = aws_env.environment()
    for service in ("EC2", "STS", "ORGANIZATIONS"):  # checked first: nothing may leave loopback
        assert environment[f"AWS_ENDPOINT_URL_{service}"] == aws_env.endpoint_url
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    found = get_provider("aws").list_accounts([source(organization={})])  # no endpoint_url: the environment's
    assert len(found.accounts) == 4 and found.failed == []


def test_the_home_region_is_one_every_account_has_unless_one_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/multiflow-test-config")
    assert get_provider("aws").home_region() == "us-east-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert get_provider("aws").home_region() == "eu-west-1"


def test_listing_a_role_and_then_working_in_it_make_one_assume_role(aws_env: Any) -> None:
    names = members(aws_env)
    proxy = aws_env.fault_proxy()
    options = aws_env.connect_options(proxy=proxy)
    [account] = get_provider("aws").list_accounts([source(role_arn=role_arn(names["dev"]))], **options).accounts
    for region in ("us-east-1", "eu-west-1"):
        multiflow.connect("aws", region, **{**options, **account.connect_options}).describe()
    assert proxy.calls["AssumeRole"] == 1 and proxy.calls["GetCallerIdentity"] == 1


def test_a_sandbox_starts_with_its_organization(aws_env: Any) -> None:
    import urllib.request

    from multiflow_aws.sandbox import AwsSandbox

    # moto's own reset (not the sandbox's, which makes the organization again): moto's state is the process's
    request = urllib.request.Request(f"{aws_env.endpoint_url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()
    with AwsSandbox() as fresh:
        organization = fresh.organization()
    assert organization["management"] == SANDBOX_MANAGEMENT_ACCOUNT
    assert sorted(m["name"] for m in organization["members"]) == ["dev", "prod", "staging"]
    assert all(m["state"] == "ACTIVE" and m["access_role"] for m in organization["members"])
    assert set(organization["units"]) == {"workloads", "prod", "sandbox"}
    aws_env.reset()


def test_the_callers_profile_still_configures_the_roles_clients(
    aws_env: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from multiflow.errors import Throttled
    from multiflow_aws.sandbox import SANDBOX_ACCESS_KEY_ID

    (tmp_path / "credentials").write_text(
        f"[hub]\naws_access_key_id = {SANDBOX_ACCESS_KEY_ID}\naws_secret_access_key = {SANDBOX_SECRET_ACCESS_KEY}\n"
    )
    (tmp_path / "config").write_text("[profile hub]\nretry_mode = standard\nmax_attempts = 1\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    names = members(aws_env)
    proxy = aws_env.fault_proxy()
    client = multiflow.connect(
        "aws", REGION, endpoint_url=proxy.endpoint_url, profile_name="hub", role_arn=role_arn(names["prod"])
    )
    proxy.fail_next("DescribeFlowLogs", "RequestLimitExceeded", http_status=503)
    with pytest.raises(Throttled):  # the profile's max_attempts = 1: botocore does not retry
        client.describe()
    assert proxy.calls["DescribeFlowLogs"] == 1
    client.close()
