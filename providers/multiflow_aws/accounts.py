"""The AWS accounts a fleet covers: ``accounts: {aws: [...]}`` items, and how to list and enter them.

An item is exactly one of:

* ``profile: NAME``: the account a profile of the shared config enters (its id from STS GetCallerIdentity);
* ``role_arn: arn:aws:iam::ID:role/NAME`` (with ``external_id``, ``session_name`` and the ``profile`` of the
  caller to assume from): the account of that role;
* ``organization: {...}``: the ACTIVE members of the caller's AWS Organization (ListAccounts), narrowed by
  ``ids``, ``units`` (accounts under those OUs at any depth) and ``tags``, minus ``exclude``; each member entered
  by ``sts:AssumeRole`` into ``role_name``, the management account with the caller's own credentials.

``name`` gives an item an alias the fleet's entries may name in their ``accounts:``. The model refuses, before any
call, what AWS would refuse (an ARN that is not a role's, an id that is not 12 digits, a unit that is not
``ou-...``/``r-...``), naming the field, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, model_validator

from multiflow.accounts import Account, AccountFailure, AccountListing, AccountSource
from multiflow.errors import MultiflowError

__all__ = ["AwsAccountSource", "AwsOrganization", "list_accounts"]

ROLE_ARN_PATTERN = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/([\w+=,.@-]{1,512}/)*[\w+=,.@-]{1,64}$"
ACCOUNT_ID_PATTERN = r"^[0-9]{12}$"
UNIT_PATTERN = r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$"
#: IAM's role-name characters (``[\w+=,.@-]``, 1-64).
ROLE_NAME_PATTERN = r"^[\w+=,.@-]{1,64}$"
#: STS's RoleSessionName (``[\w+=,.@-]``, 2-64).
SESSION_NAME_PATTERN = r"^[\w+=,.@-]{2,64}$"
#: A tag value that matches any value of its key.
ANY_VALUE = "*"
#: Organizations nests OUs five deep under the root; the walk refuses to go further than this (a cycle).
MAX_UNIT_DEPTH = 10
#: ListTagsForResource calls at once: a few, since Organizations allows a low request rate per account.
TAG_THREADS = 4


def _matching(pattern: str, allowed: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(allowed)
        return value

    return check


def _id_text(value: object) -> object:
    """An account id written unquoted in YAML is read as a number (and loses its leading zeros): as 12 digits."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 10**12:
        return f"{value:012d}"
    return value


AccountId = Annotated[
    str, BeforeValidator(_id_text), AfterValidator(_matching(ACCOUNT_ID_PATTERN, "a 12-digit AWS account id"))
]
UnitId = Annotated[
    str,
    AfterValidator(_matching(UNIT_PATTERN, "an organizational unit id (ou-xxxx-xxxxxxxx) or a root id (r-xxxx)")),
]
RoleArn = Annotated[
    str,
    AfterValidator(_matching(ROLE_ARN_PATTERN, "an IAM role ARN arn:<partition>:iam::<12 digits>:role/<path/name>")),
]
RoleName = Annotated[str, AfterValidator(_matching(ROLE_NAME_PATTERN, "an IAM role name (1-64 of A-Za-z0-9+=,.@_-)"))]
SessionName = Annotated[
    str, AfterValidator(_matching(SESSION_NAME_PATTERN, "an STS RoleSessionName (2-64 of A-Za-z0-9+=,.@_-)"))
]
ExternalId = Annotated[
    str, AfterValidator(_matching(r"^[\w+=,.@:/-]{2,1224}$", "an STS ExternalId (2-1224 of A-Za-z0-9+=,.@:/_-)"))
]
Alias = Annotated[
    str, AfterValidator(_matching(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", "a name of 1-64 of A-Za-z0-9_.- "))
]
TagKey = Annotated[str, StringConstraints(min_length=1, max_length=128)]
TagValue = Annotated[str, StringConstraints(max_length=256)]


class AwsOrganization(BaseModel):
    """The members of an AWS Organization to cover, as the management (or a delegated) account lists them.

    ``ids``, ``units`` and ``tags`` narrow the members (a member must pass each one given); ``exclude`` removes
    members; members left out this way are the listing's ``outside``. ``tags`` costs one ListTagsForResource
    per ACTIVE member.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    role_name: RoleName = "OrganizationAccountAccessRole"
    ids: list[AccountId] | None = Field(default=None, min_length=1)
    units: list[UnitId] | None = Field(default=None, min_length=1)
    tags: dict[TagKey, TagValue] | None = Field(default=None, min_length=1)
    exclude: list[AccountId] | None = Field(default=None, min_length=1)
    include_management: bool = True


class AwsAccountSource(AccountSource):
    """One item of ``accounts: {aws: [...]}``: a ``profile``, a ``role_arn``, or an ``organization``.

    With ``role_arn`` or ``organization``, ``profile`` names the caller's profile (the identity that assumes the
    roles); ``external_id`` goes with ``role_arn`` only, ``session_name`` with either.
    """

    profile: str | None = Field(default=None, min_length=1, max_length=256)
    role_arn: RoleArn | None = None
    external_id: ExternalId | None = Field(default=None, repr=False)
    session_name: SessionName | None = None
    organization: AwsOrganization | None = None
    name: Alias | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> AwsAccountSource:
        if self.role_arn is not None and self.organization is not None:
            raise ValueError(
                "role_arn and organization are two account sources: give exactly one of profile, role_arn or "
                "organization (profile may go with either, as the caller's profile)"
            )
        if self.role_arn is None and self.organization is None and self.profile is None:
            raise ValueError("exactly one of profile, role_arn or organization is needed")
        if self.external_id is not None and self.role_arn is None:
            raise ValueError(f"external_id={self.external_id!r} goes with role_arn only")
        if self.session_name is not None and self.role_arn is None and self.organization is None:
            raise ValueError(f"session_name={self.session_name!r} goes with role_arn or organization only")
        return self

    @property
    def kind(self) -> str:
        """``organization``, ``role_arn`` or ``profile``."""
        if self.organization is not None:
            return "organization"
        return "role_arn" if self.role_arn is not None else "profile"

    def label(self) -> str:
        """``profile prod``, ``role arn:aws:iam::...:role/X``, ``organization``; with a ``name``: ``NAME (...)``."""
        if self.organization is not None:
            base = "organization"
        elif self.role_arn is not None:
            base = f"role {self.role_arn}"
        else:
            base = f"profile {self.profile}"
        return f"{self.name} ({base})" if self.name else base


# -- listing ------------------------------------------------------------------------------------------------


class _Caller:
    """The calling identity's boto3 session and the clients made from it, as ``connect`` would make them."""

    def __init__(self, options: Mapping[str, Any], profile: str | None) -> None:
        import boto3

        self.endpoint_url: str | None = options.get("endpoint_url")
        retries: dict[str, Any] = {}
        if options.get("retry_mode") is not None:
            retries["mode"] = options["retry_mode"]
        if options.get("max_attempts") is not None:
            retries["total_max_attempts"] = options["max_attempts"]
        self.retries = retries or None
        self.options = {k: options.get(k) for k in _IDENTITY_OPTIONS if options.get(k) is not None}
        if profile is not None:
            self.options["profile_name"] = profile
            for key in _KEY_OPTIONS:
                self.options.pop(key, None)
        self.given = options.get("boto3_session") if profile is None else None
        self.session: Any = self.given or _calling(
            "Session", lambda: boto3.Session(**self.options), self.options.get("profile_name")
        )

    def client(self, service: str, region: str) -> Any:
        from botocore.config import Config

        config = Config(user_agent_extra="multiflow", retries=self.retries)
        return _calling(
            "Client",
            lambda: self.session.client(service, region_name=region, endpoint_url=self.endpoint_url, config=config),
        )


_KEY_OPTIONS = ("aws_access_key_id", "aws_secret_access_key", "aws_session_token")
_IDENTITY_OPTIONS = ("profile_name", *_KEY_OPTIONS)  # multiflow_aws.credentials.IDENTITY_OPTIONS, without boto3


def _calling(operation: str, call: Callable[[], Any], profile: str | None = None) -> Any:
    """Call boto3 with its failures as multiflow's (code, message and request id kept); a configuration error
    (a profile that does not exist...) names ``profile``."""
    import botocore.exceptions

    from multiflow_aws.errors import ERROR_TABLE, from_client_error
    from multiflow_aws.session import _configuration_error

    try:
        return call()
    except botocore.exceptions.ClientError as exc:
        raise from_client_error(exc, operation) from None
    except botocore.exceptions.NoCredentialsError as exc:
        raise ERROR_TABLE.error("NoCredentials", str(exc), operation=operation) from None
    except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
        raise ERROR_TABLE.error("ConnectionError", str(exc), operation=operation) from None
    except botocore.exceptions.BotoCoreError as exc:
        raise _configuration_error(exc, profile) from None


def _pages(client: Any, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
    """Every item of a paginated Organizations listing (boto3's paginator)."""
    name = "".join(part.capitalize() for part in operation.split("_"))
    pages = client.get_paginator(operation).paginate(**params)
    iterator = iter(pages)
    while True:
        page = _calling(name, lambda: next(iterator, None))
        if page is None:
            return
        yield from page.get(key, [])


def list_accounts(
    sources: Sequence[AccountSource], options: Mapping[str, Any], home_region: str = "us-east-1"
) -> AccountListing:
    """The accounts ``sources`` cover (see :meth:`multiflow_aws.provider.AwsProvider.list_accounts`)."""
    accounts: dict[str, Account] = {}
    outside: dict[str, Account] = {}
    failed: list[AccountFailure] = []
    notes: list[str] = []
    for source in sources:
        if not isinstance(source, AwsAccountSource):
            raise TypeError(f"an AWS account source, not {type(source).__name__}")
        try:
            found, left_out = _list_one(source, options, home_region, notes)
        except MultiflowError as exc:
            failed.append(AccountFailure("aws", source.label(), _account_of(source), exc, item=source))
            continue
        for account in found:
            accounts.setdefault(account.id, account)
        for account in left_out:
            outside.setdefault(account.id, account)
    return AccountListing(
        accounts=[accounts[k] for k in sorted(accounts)],
        failed=failed,
        outside=[outside[k] for k in sorted(outside) if k not in accounts],
        notes=notes,
    )


def _account_of(source: AwsAccountSource) -> str | None:
    """The account id a source names by itself (a role ARN's), where it names one."""
    return source.role_arn.split(":")[4] if source.role_arn is not None else None


def _list_one(
    source: AwsAccountSource, options: Mapping[str, Any], region: str, notes: list[str]
) -> tuple[list[Account], list[Account]]:
    if source.organization is not None:
        return _organization(source, source.organization, options, region, notes)
    if source.role_arn is not None:
        return [_role_account(source, source.role_arn, options, region)], []
    return [_profile_account(source, str(source.profile), options, region)], []


def _identity(session: Any, endpoint_url: str | None, region: str) -> dict[str, Any]:
    from botocore.config import Config

    config = Config(user_agent_extra="multiflow")
    sts = _calling(
        "Client", lambda: session.client("sts", region_name=region, endpoint_url=endpoint_url, config=config)
    )
    try:
        answer: dict[str, Any] = _calling("GetCallerIdentity", sts.get_caller_identity)
    finally:
        sts.close()
    return answer


def _profile_account(source: AwsAccountSource, profile: str, options: Mapping[str, Any], region: str) -> Account:
    caller = _Caller(options, profile)
    identity = _identity(caller.session, caller.endpoint_url, region)
    connect: dict[str, Any] = {"profile_name": profile}
    connect.update({key: None for key in _KEY_OPTIONS if options.get(key) is not None})
    return Account("aws", str(identity["Account"]), source.name, connect, source.label())


def _role_account(source: AwsAccountSource, role_arn: str, options: Mapping[str, Any], region: str) -> Account:
    from multiflow_aws.credentials import assumed_session, identity_of

    caller = _Caller(options, source.profile)
    entered = _calling(
        "AssumeRole",
        lambda: assumed_session(
            caller.session,
            identity_of({**caller.options, "boto3_session": caller.given}),
            role_arn,
            external_id=source.external_id,
            session_name=source.session_name,
            region=region,
            endpoint_url=caller.endpoint_url,
        ),
    )
    identity = _identity(entered, caller.endpoint_url, region)
    connect: dict[str, Any] = {"role_arn": role_arn}
    if source.external_id is not None:
        connect["external_id"] = source.external_id
    if source.session_name is not None:
        connect["role_session_name"] = source.session_name
    if source.profile is not None:
        connect["profile_name"] = source.profile
        connect.update({key: None for key in _KEY_OPTIONS if options.get(key) is not None})
    return Account("aws", str(identity["Account"]), source.name, connect, source.label())


def _organization(
    source: AwsAccountSource, org: AwsOrganization, options: Mapping[str, Any], region: str, notes: list[str]
) -> tuple[list[Account], list[Account]]:
    caller = _Caller(options, source.profile)
    client = caller.client("organizations", "us-east-1" if not region.startswith(("cn-", "us-gov-")) else region)
    try:
        described = _calling("DescribeOrganization", client.describe_organization)["Organization"]
        management = str(described["MasterAccountId"])
        partition = str(described.get("MasterAccountArn", "arn:aws:")).split(":")[1] or "aws"
        members = list(_pages(client, "list_accounts", "Accounts"))
        under_units = _under_units(client, org.units) if org.units is not None else None
        active = []
        for member in members:
            state = member.get("State") or member.get("Status") or "ACTIVE"
            if state != "ACTIVE":
                notes.append(
                    f"aws account {member.get('Id')} ({member.get('Name')}) of organization {described.get('Id')} "
                    f"is {state}: skipped"
                )
                continue
            active.append(member)
        tags = _all_tags(client, [str(m["Id"]) for m in active]) if org.tags is not None else {}
    finally:
        client.close()
    session_name = source.session_name or "multiflow"
    chosen: list[Account] = []
    left_out: list[Account] = []
    for member in active:
        account_id = str(member["Id"])
        if account_id == management:
            connect: dict[str, Any] = {}
            if source.profile is not None:
                connect["profile_name"] = source.profile
                connect.update({key: None for key in _KEY_OPTIONS if options.get(key) is not None})
        else:
            connect = {
                "role_arn": f"arn:{partition}:iam::{account_id}:role/{org.role_name}",
                "role_session_name": session_name,
            }
            if source.profile is not None:
                connect["profile_name"] = source.profile
                connect.update({key: None for key in _KEY_OPTIONS if options.get(key) is not None})
        account = Account("aws", account_id, member.get("Name"), connect, source.label())
        passes = (
            (org.ids is None or account_id in org.ids)
            and (under_units is None or account_id in under_units)
            and (org.tags is None or _tags_match(tags.get(account_id, {}), org.tags))
            and not (org.exclude is not None and account_id in org.exclude)
            and (org.include_management or account_id != management)
        )
        (chosen if passes else left_out).append(account)
    return chosen, left_out


def _under_units(client: Any, units: Sequence[str]) -> set[str]:
    """Ids of every account under ``units``, at any depth (ListAccountsForParent and
    ListOrganizationalUnitsForParent, walked breadth first, each unit once)."""
    found: set[str] = set()
    seen: set[str] = set()
    level = list(dict.fromkeys(units))
    for _ in range(MAX_UNIT_DEPTH):
        if not level:
            break
        following: list[str] = []
        for parent in level:
            if parent in seen:
                continue
            seen.add(parent)
            found.update(str(a["Id"]) for a in _pages(client, "list_accounts_for_parent", "Accounts", ParentId=parent))
            following += [
                str(u["Id"])
                for u in _pages(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent)
            ]
        level = following
    return found


def _all_tags(client: Any, account_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """Each account's tags: one ListTagsForResource per account, :data:`TAG_THREADS` at a time (boto3 clients are
    thread-safe); the first failure is raised."""
    from concurrent.futures import ThreadPoolExecutor

    if not account_ids:
        return {}
    with ThreadPoolExecutor(max_workers=min(TAG_THREADS, len(account_ids))) as pool:
        return dict(zip(account_ids, pool.map(lambda i: _tags(client, i), account_ids), strict=True))


def _tags(client: Any, account_id: str) -> dict[str, str]:
    return {
        str(t["Key"]): str(t.get("Value", ""))
        for t in _pages(client, "list_tags_for_resource", "Tags", ResourceId=account_id)
    }


def _tags_match(tags: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return all(key in tags and (value == ANY_VALUE or tags[key] == value) for key, value in wanted.items())
