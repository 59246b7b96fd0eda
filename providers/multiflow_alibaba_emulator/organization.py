"""STS and Resource Directory: assuming RAM roles into accounts, and listing a directory's folders and members.

- STS (version 2015-04-01): ``AssumeRole`` returns temporary credentials (an ``STS.`` key id, a secret, a security
  token, an expiration) that the emulator then verifies in every signed request (:mod:`.signing`): requests signed
  with them act in the role's account. ``GetCallerIdentity`` says who signs.
- Resource Manager (version 2020-03-31): ``ListAccounts``, ``ListAccountsForParent``, ``ListFoldersForParent``,
  answered for the directory's management account only.

Error codes are the cloud's (``EntityNotExist.Role``, ``NoPermission``, ``InvalidParameter.RoleArn``...).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any

from .actions import Context, Handler
from .errors import api_error
from .params import indexed_objects, optional, page, paginate, parse_bool, required
from .state import AccessKeyRecord, Directory, Member

STS_VERSION = "2015-04-01"
RESOURCE_MANAGER_VERSION = "2020-03-31"

#: ``acs:ram::<account id>:role/<role name>``, as STS takes it.
ROLE_ARN = re.compile(r"^acs:ram::(?P<account>[0-9]+):role/(?P<name>[A-Za-z0-9.@_-]{1,64})$")
#: RoleSessionName: 2 to 64 of letters, digits and ``.@-_``.
SESSION_NAME = re.compile(r"^[A-Za-z0-9.@_-]{2,64}$")
MIN_DURATION = 900
DEFAULT_DURATION = 3600
DIRECTORY_PAGE_SIZE = 10
DIRECTORY_PAGE_SIZE_MAX = 100


# --- STS ----------------------------------------------------------------------------------------------


def _caller(ctx: Context) -> AccessKeyRecord:
    if ctx.caller is None:  # pragma: no cover - the dispatcher always sets it
        raise api_error("InvalidAccessKeyId.NotFound")
    return ctx.caller


def get_caller_identity(ctx: Context) -> dict[str, Any]:
    """STS GetCallerIdentity: the account and principal of the key that signed the request."""
    caller = _caller(ctx)
    account = caller.account_id
    principal = caller.principal or f"user/{caller.access_key_id}"
    body: dict[str, Any] = {"AccountId": account, "Arn": f"acs:ram::{account}:{principal}"}
    if principal.startswith("assumed-role/"):
        role_name = principal.split("/")[1]
        role = ctx.cloud.roles.get((account, role_name))
        role_id = role.role_id if role else ""
        body.update(IdentityType="AssumedRoleUser", RoleId=role_id, PrincipalId=f"{role_id}:{principal.split('/')[2]}")
    else:
        user_id = str(int(hashlib.sha256(f"{account}/{principal}".encode()).hexdigest()[:13], 16)).zfill(16)
        body.update(IdentityType="RAMUser", UserId=user_id, PrincipalId=user_id)
    return body


def _duration(raw: str | None, most: int) -> int:
    if raw is None or raw == "":
        return min(DEFAULT_DURATION, most)
    try:
        value = int(raw)
    except ValueError:
        raise api_error("InvalidParameter.DurationSeconds") from None
    if not MIN_DURATION <= value <= most:
        raise api_error(
            "InvalidParameter.DurationSeconds",
            f"The Min/Max value of DurationSeconds is {MIN_DURATION}/{most} seconds.",
        )
    return value


def assume_role(ctx: Context) -> dict[str, Any]:
    """STS AssumeRole: temporary credentials of a role whose trust policy names the caller's account."""
    caller = _caller(ctx)
    arn = required(ctx.params, "RoleArn")
    session = required(ctx.params, "RoleSessionName")
    match = ROLE_ARN.match(arn)
    if match is None:
        raise api_error("InvalidParameter.RoleArn")
    if not SESSION_NAME.match(session):
        raise api_error("InvalidParameter.RoleSessionName")
    cloud = ctx.cloud
    role = cloud.roles.get((match.group("account"), match.group("name").lower()))
    if role is None:
        raise api_error("EntityNotExist.Role", f"The role not exists: {arn}.")
    external_id = optional(ctx.params, "ExternalId")
    if caller.account_id not in role.trusted or (role.external_id is not None and external_id != role.external_id):
        raise api_error("NoPermission")
    duration = _duration(optional(ctx.params, "DurationSeconds"), role.max_session_duration)
    key_id = "STS." + cloud.new_id("", 28).upper()
    secret = secrets.token_urlsafe(33)
    token = "CAIS" + secrets.token_urlsafe(96)
    expires_at = cloud.clock.now() + duration
    cloud.keys[key_id] = AccessKeyRecord(
        key_id,
        secret,
        role.account_id,
        security_token=token,
        expires_at=expires_at,
        principal=f"assumed-role/{role.name.lower()}/{session}",
    )
    cloud.assumed[role.account_id] = cloud.assumed.get(role.account_id, 0) + 1
    return {
        "AssumedRoleUser": {
            "Arn": f"acs:ram::{role.account_id}:assumed-role/{role.name.lower()}/{session}",
            "AssumedRoleId": f"{role.role_id}:{session}",
        },
        "Credentials": {
            "AccessKeyId": key_id,
            "AccessKeySecret": secret,
            "SecurityToken": token,
            "Expiration": cloud.wall_iso_at(expires_at),
        },
    }


# --- Resource Directory ---------------------------------------------------------------------------------


def _directory(ctx: Context) -> Directory:
    directory = ctx.cloud.directory
    if directory is None or directory.management_account_id != ctx.account.account_id:
        raise api_error("EntityNotExists.ResourceDirectory")
    return directory


def _member_view(directory: Directory, member: Member, include_tags: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "AccountId": member.account_id,
        "DisplayName": member.display_name,
        "FolderId": member.folder_id,
        "JoinMethod": member.join_method,
        "JoinTime": member.join_time,
        "ModifyTime": member.join_time,
        "ResourceDirectoryId": directory.directory_id,
        "ResourceDirectoryPath": directory.path(member.folder_id),
        "Status": member.status,
        "Type": member.type,
    }
    if include_tags:
        view["Tags"] = {"Tag": [{"Key": k, "Value": v} for k, v in member.tags.items()]}
    return view


def _tag_filter(ctx: Context) -> list[tuple[str, str | None]]:
    return [(t["Key"], t.get("Value") or None) for t in indexed_objects(ctx.params, "Tag") if t.get("Key")]


def _listed(ctx: Context, directory: Directory, members: list[Member]) -> dict[str, Any]:
    number, size = page(ctx.params, DIRECTORY_PAGE_SIZE, DIRECTORY_PAGE_SIZE_MAX)
    wanted = _tag_filter(ctx)
    matched = [m for m in members if all(k in m.tags and (v is None or m.tags[k] == v) for k, v in wanted)]
    include_tags = bool(parse_bool(optional(ctx.params, "IncludeTags")))
    return {
        "PageNumber": number,
        "PageSize": size,
        "TotalCount": len(matched),
        "Accounts": {"Account": [_member_view(directory, m, include_tags) for m in paginate(matched, number, size)]},
    }


def list_accounts(ctx: Context) -> dict[str, Any]:
    """Resource Manager ListAccounts: every account of the directory (the management account too), paged."""
    directory = _directory(ctx)
    return _listed(ctx, directory, list(directory.members.values()))


def _folder(ctx: Context, directory: Directory, name: str, *, default_root: bool) -> str:
    folder_id = optional(ctx.params, name) or (directory.root_folder_id if default_root else required(ctx.params, name))
    if folder_id not in directory.folders:
        raise api_error("EntityNotExists.Folder")
    return folder_id


def list_accounts_for_parent(ctx: Context) -> dict[str, Any]:
    """Resource Manager ListAccountsForParent: the accounts directly in one folder."""
    directory = _directory(ctx)
    parent = _folder(ctx, directory, "ParentFolderId", default_root=False)
    return _listed(ctx, directory, [m for m in directory.members.values() if m.folder_id == parent])


def list_folders_for_parent(ctx: Context) -> dict[str, Any]:
    """Resource Manager ListFoldersForParent: the folders directly in one folder (default: the root)."""
    directory = _directory(ctx)
    parent = _folder(ctx, directory, "ParentFolderId", default_root=True)
    number, size = page(ctx.params, DIRECTORY_PAGE_SIZE, DIRECTORY_PAGE_SIZE_MAX)
    keyword = optional(ctx.params, "QueryKeyword") or ""
    children = [f for f in directory.folders.values() if f.parent_id == parent and keyword in f.name]
    items = [
        {"FolderId": f.folder_id, "FolderName": f.name, "CreateTime": f.creation_time}
        for f in paginate(children, number, size)
    ]
    return {"PageNumber": number, "PageSize": size, "TotalCount": len(children), "Folders": {"Folder": items}}


#: (API version, action name) -> handler.
ORGANIZATION_ACTIONS: dict[tuple[str, str], Handler] = {
    (STS_VERSION, "AssumeRole"): assume_role,
    (STS_VERSION, "GetCallerIdentity"): get_caller_identity,
    (RESOURCE_MANAGER_VERSION, "ListAccounts"): list_accounts,
    (RESOURCE_MANAGER_VERSION, "ListAccountsForParent"): list_accounts_for_parent,
    (RESOURCE_MANAGER_VERSION, "ListFoldersForParent"): list_folders_for_parent,
}
#: The product named in error responses' HostId/Recommend, per version.
ORGANIZATION_PRODUCTS = {STS_VERSION: "Sts", RESOURCE_MANAGER_VERSION: "ResourceManager"}
