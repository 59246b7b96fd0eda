"""The Alibaba accounts a fleet covers: one item of ``accounts: {alibaba: [...]}``, and how its accounts are found.

An item is exactly one of:

- ``profile: NAME``: the account a profile of the CLI's ``~/.aliyun/config.json`` enters (its id from STS
  GetCallerIdentity);
- ``role_arn: acs:ram::<id>:role/<name>`` (with ``session_name``, ``external_id``): the role's account, entered by
  STS AssumeRole with the calling identity's credentials (no call to list it: the id is in the ARN);
- ``organization: {...}``: the members of the calling identity's Resource Directory (Resource Manager ListAccounts,
  at its largest page, with each account's tags; folders walked with ListFoldersForParent), narrowed by ``ids``,
  ``folders`` (recursive), ``tags`` (a value of ``"*"``: any value), less ``exclude``; each member entered by
  AssumeRole into ``role_name``, the management account with the caller's own credentials.

Tags are matched here, on the tags ListAccounts returns with ``IncludeTags``: one listing gives every member with
its folder and tags, so the members the filters leave out are known too (``outside``, where plan looks for a
fleet's flow logs to delete) at no cost; ListAccounts' own ``Tag`` filter would hide them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from multiflow.accounts import Account, AccountFailure, AccountListing, AccountSource
from multiflow.errors import NotFound, ProviderError

__all__ = ["ACCESS_ROLE", "ACTIVE_STATUSES", "AlibabaAccountSource", "OrganizationSelector", "list_accounts"]

#: The role Resource Directory creates in every member it makes, trusting the management account.
ACCESS_ROLE = "ResourceDirectoryAccountAccessRole"
#: ListAccounts statuses of a member that can be entered; the others (removing, joining...) are skipped, said so.
ACTIVE_STATUSES = frozenset({"CreateSuccess", "InviteSuccess", "PromoteSuccess"})
#: Our own code for an account a fleet names by id that is not a member of the directory.
NOT_A_MEMBER = "AccountNotInResourceDirectory"
#: Folders walked at most under the folders a fleet names (a bound: Resource Directory allows 5 levels).
MAX_FOLDERS = 10_000

_ROLE_ARN = re.compile(r"^acs:ram::(?P<account>[0-9]{1,32}):role/(?P<name>[a-z0-9.@_-]{1,64})$")
_ROLE_NAME = re.compile(r"^[A-Za-z0-9.@_-]{1,64}$")
_SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
_ACCOUNT_ID = re.compile(r"^[0-9]{1,32}$")
_FOLDER_ID = re.compile(r"^fd-[A-Za-z0-9]{1,64}$")


def _account_ids(values: list[str] | None, field: str) -> list[str] | None:
    for value in values or ():
        if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
            raise ValueError(f"{field}: {value!r} is not an Alibaba Cloud account id (digits, as a string)")
    return values


class OrganizationSelector(BaseModel):
    """Which members of the Resource Directory to cover, and the role to enter them by."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    role_name: str = Field(default=ACCESS_ROLE, description="the RAM role assumed in each member")
    ids: list[str] | None = Field(default=None, min_length=1, description="only these account ids")
    folders: list[str] | None = Field(default=None, min_length=1, description="only members in these folders (fd-...)")
    tags: dict[str, str] | None = Field(default=None, min_length=1, description='account tags; "*" for any value')
    exclude: list[str] = Field(default_factory=list, description="account ids left out")
    include_management: bool = Field(default=True, description="cover the management account (the caller's own)")

    @field_validator("role_name")
    @classmethod
    def _role(cls, value: str) -> str:
        if not _ROLE_NAME.match(value):
            raise ValueError(f"{value!r} is not a RAM role name (1 to 64 letters, digits and . @ - _)")
        return value

    @field_validator("ids")
    @classmethod
    def _ids(cls, value: list[str] | None) -> list[str] | None:
        return _account_ids(value, "ids")

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, value: list[str]) -> list[str]:
        return _account_ids(value, "exclude") or []

    @field_validator("folders")
    @classmethod
    def _folders(cls, value: list[str] | None) -> list[str] | None:
        for folder in value or ():
            if not _FOLDER_ID.match(folder):
                raise ValueError(f"{folder!r} is not a Resource Directory folder id (fd-...)")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        for key in value or {}:
            if not key.strip() or len(key) > 128:
                raise ValueError(f"tag key {key!r}: 1 to 128 characters")
        return value

    def selects(self, member: Mapping[str, Any], folders: set[str] | None) -> bool:
        """Whether a ListAccounts item passes ``ids``, ``folders`` (expanded) and ``tags``, and is not excluded."""
        account_id = str(member.get("AccountId"))
        if account_id in self.exclude or (self.ids is not None and account_id not in self.ids):
            return False
        if folders is not None and str(member.get("FolderId")) not in folders:
            return False
        have = member_tags(member)
        return all(key in have and (want == "*" or have[key] == want) for key, want in (self.tags or {}).items())


class AlibabaAccountSource(AccountSource):
    """One item of ``accounts: {alibaba: [...]}``: exactly one of ``profile``, ``role_arn``, ``organization``."""

    name: str | None = Field(default=None, min_length=1, max_length=128, description="an alias for messages")
    profile: str | None = Field(default=None, min_length=1, description="a profile of ~/.aliyun/config.json")
    role_arn: str | None = Field(default=None, description="acs:ram::<account id>:role/<role name>")
    session_name: str = Field(default="multiflow", description="AssumeRole's RoleSessionName")
    external_id: str | None = Field(default=None, min_length=1, max_length=1224, description="the role's ExternalId")
    organization: OrganizationSelector | None = None

    @field_validator("role_arn")
    @classmethod
    def _role_arn(cls, value: str | None) -> str | None:
        if value is None or _ROLE_ARN.match(value):
            return value
        lowered = value.lower()
        hint = (
            f" (did you mean {lowered!r}? Alibaba writes role ARNs in lower case)" if _ROLE_ARN.match(lowered) else ""
        )
        raise ValueError(f"{value!r} is not a RAM role ARN acs:ram::<account id>:role/<role name>{hint}")

    @field_validator("session_name")
    @classmethod
    def _session_name(cls, value: str) -> str:
        if not _SESSION_NAME.match(value):
            raise ValueError(f"{value!r}: a RoleSessionName is 2 to 64 letters, digits and . @ - _")
        return value

    @model_validator(mode="after")
    def _one_kind(self) -> AlibabaAccountSource:
        given = [k for k in ("profile", "role_arn", "organization") if getattr(self, k) is not None]
        if len(given) != 1:
            said = ", ".join(given) if given else "none"
            raise ValueError(f"exactly one of profile, role_arn or organization (given: {said})")
        if self.external_id is not None and self.role_arn is None:
            raise ValueError("external_id goes with role_arn only")
        if self.profile is not None and "session_name" in self.model_fields_set:
            raise ValueError("session_name goes with role_arn or organization, not profile")
        return self

    def label(self) -> str:
        """``profile prod``, ``role acs:ram::...``, ``organization``; with the alias when there is one."""
        if self.profile is not None:
            kind = f"profile {self.profile}"
        elif self.role_arn is not None:
            kind = f"role {self.role_arn}"
        else:
            kind = "organization"
        return f"{self.name} ({kind})" if self.name else kind


def member_tags(member: Mapping[str, Any]) -> dict[str, str]:
    """A ListAccounts item's tags (``Tags.Tag[].Key/Value``) as a dict."""
    container = member.get("Tags")
    items = container.get("Tag") if isinstance(container, Mapping) else None
    return {
        str(t["Key"]): str(t.get("Value") or "")
        for t in items or []
        if isinstance(t, Mapping) and t.get("Key") is not None
    }


def role_options(account_id: str, role_name: str, session_name: str) -> dict[str, Any]:
    """The ``connect`` options that enter a member: AssumeRole into ``role_name`` there."""
    return {"role_arn": f"acs:ram::{account_id}:role/{role_name.lower()}", "role_session_name": session_name}


def list_accounts(sources: Sequence[AccountSource], options: Mapping[str, Any], region: str) -> AccountListing:
    """The accounts ``sources`` cover, in id order, each once; a source that cannot be listed is a failure of its
    own and the others go on. ``options`` are the run's connect options (the calling identity's)."""
    from multiflow_alibaba.credentials import IdentityCalls

    accounts: dict[str, Account] = {}
    outside: dict[str, Account] = {}
    failed: list[AccountFailure] = []
    notes: list[str] = []
    for given in sources:
        source = (
            given
            if isinstance(given, AlibabaAccountSource)
            else AlibabaAccountSource.model_validate(given.model_dump())
        )
        label = source.label()
        try:
            if source.role_arn is not None:
                match = _ROLE_ARN.match(source.role_arn)
                assert match is not None  # validated by the model
                entered: dict[str, Any] = {"role_arn": source.role_arn, "role_session_name": source.session_name}
                if source.external_id is not None:
                    entered["external_id"] = source.external_id
                accounts.setdefault(
                    match.group("account"), Account("alibaba", match.group("account"), source.name, entered, label)
                )
            elif source.profile is not None:
                # The profile's own credentials, not the run's keys (which connect would otherwise prefer).
                entered = {
                    "access_key_id": None,
                    "access_key_secret": None,
                    "security_token": None,
                    "credential": None,
                    "profile_name": source.profile,
                }
                identity = IdentityCalls(region, **{**options, **entered}).caller_identity()
                account_id = str(identity.get("AccountId") or "")
                accounts.setdefault(account_id, Account("alibaba", account_id, source.name, entered, label))
            else:
                assert source.organization is not None
                _organization(
                    source, source.organization, IdentityCalls(region, **options), accounts, outside, failed, notes
                )
        except ProviderError as error:
            failed.append(AccountFailure("alibaba", label, None, error, item=given))
    return AccountListing(
        accounts=[accounts[k] for k in sorted(accounts)],
        failed=failed,
        outside=[outside[k] for k in sorted(outside) if k not in accounts],
        notes=notes,
    )


def _organization(
    source: AlibabaAccountSource,
    selector: OrganizationSelector,
    calls: Any,
    accounts: dict[str, Account],
    outside: dict[str, Account],
    failed: list[AccountFailure],
    notes: list[str],
) -> None:
    label = source.label()
    management = str(calls.caller_identity().get("AccountId") or "")
    members = calls.directory_accounts()
    folders = _folder_tree(calls, selector.folders) if selector.folders is not None else None
    listed: set[str] = set()
    for member in members:
        account_id = str(member.get("AccountId") or "")
        if not account_id:
            continue
        listed.add(account_id)
        name = str(member.get("DisplayName") or "") or None
        if account_id == management:
            # The management account passes the same filters as a member (ids, folders, tags), as on AWS; it is
            # entered with the caller's own credentials.
            entered: dict[str, Any] = {}
            chosen = selector.include_management and selector.selects(member, folders)
        else:
            entered = role_options(account_id, selector.role_name, source.session_name)
            chosen = selector.selects(member, folders)
        status = str(member.get("Status") or "")
        if account_id != management and status not in ACTIVE_STATUSES:
            notes.append(f"alibaba account {account_id} ({name or 'no name'}) skipped: its status is {status!r}")
            continue
        target = accounts if chosen else outside
        target.setdefault(account_id, Account("alibaba", account_id, name, entered, label))
    unfiltered = selector.ids is None and selector.folders is None and not selector.tags
    covered = selector.include_management and management not in selector.exclude and unfiltered
    if management and management not in listed and covered:
        accounts.setdefault(management, Account("alibaba", management, None, {}, label))
    for account_id in selector.ids or ():
        if account_id not in listed and account_id != management:
            error = NotFound(
                "alibaba",
                NOT_A_MEMBER,
                f"account {account_id} is not a member of the resource directory of {management}",
                operation="ListAccounts",
            )
            failed.append(AccountFailure("alibaba", label, account_id, error, item=source))


def _folder_tree(calls: Any, roots: Sequence[str]) -> set[str]:
    """The folders named and every folder under them (ListFoldersForParent, breadth first, bounded)."""
    found: set[str] = set()
    queue = list(dict.fromkeys(roots))
    while queue and len(found) < MAX_FOLDERS:
        folder = queue.pop(0)
        if folder in found:
            continue
        found.add(folder)
        queue.extend(str(child["FolderId"]) for child in calls.folders_in(folder) if child.get("FolderId"))
    return found
