"""An ExampleCloud organization, as the example provider sees it: its members listed, and one entered.

:func:`list_accounts` answers :meth:`ExampleProvider.list_accounts
<multiflow_example.provider.ExampleProvider.list_accounts>`: ``GetIdentity`` (who calls), then ``ListAccounts``
(every page, once, however many organization sources) where a source names the organization. :func:`entered`
gives the key of a member: ``AssumeAccount`` with the caller's key, once per account (shared by every region of
it), and again shortly before the key expires. Imported only when accounts are listed or entered, like
:mod:`multiflow_example.session`, since it uses the client library.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Sequence
from typing import Any

from multiflow.accounts import Account, AccountFailure, AccountListing, AccountSource
from multiflow.errors import MultiflowError
from multiflow_example.api import ApiClient
from multiflow_example.session import call, caller
from multiflow_example.sources import ExampleAccountSource

__all__ = ["AssumedKey", "entered", "list_accounts"]

#: Members' keys kept at most (the least recently made dropped first): a bound, whatever the organization's size.
_KEPT = 4096
_entered: dict[tuple[str, str, str], AssumedKey] = {}
_entered_lock = threading.Lock()


def list_accounts(
    sources: Sequence[AccountSource],
    *,
    endpoint: str | None = None,
    api_key: str | None = None,
    max_attempts: int = 4,
    timeout: float = 10.0,
) -> AccountListing:
    """The accounts ``sources`` cover, each with the ``connect`` options that enter it (``account_id``; nothing
    for the caller's own account); members the filters leave out in ``outside``; a call that fails in ``failed``
    with the cloud's code, message and request id, the other sources going on."""
    chosen = [s for s in sources if isinstance(s, ExampleAccountSource)]
    base, key = caller(endpoint, api_key)
    api = ApiClient(base, key, timeout)
    labels = ", ".join(s.label() for s in chosen)
    try:
        me = str(call(api, "GetIdentity", {}, max_attempts=max_attempts)["account_id"])
    except MultiflowError as exc:
        return AccountListing(failed=[AccountFailure("example", labels, None, exc)])
    members: list[dict[str, Any]] | MultiflowError = []
    if any(s.organization is not None for s in chosen):
        members = _members(api, max_attempts)
    failed: list[AccountFailure] = []
    notes: list[str] = []
    inside: dict[str, Account] = {}
    seen: dict[str, Account] = {}
    named = {m["id"]: m for m in members} if isinstance(members, list) else {}

    def account(account_id: str, source: ExampleAccountSource) -> Account:
        options = {} if account_id == me else {"account_id": account_id}
        name = named.get(account_id, {}).get("name")
        return Account("example", account_id, name, options, source=source.label())

    for source in chosen:
        if source.account is not None:
            inside.setdefault(source.account, account(source.account, source))
            continue
        if isinstance(members, MultiflowError):
            failed.append(AccountFailure("example", source.label(), None, members, item=source))
            continue
        organization = source.organization
        assert organization is not None
        for member in members:
            if member.get("status") != "ACTIVE":
                notes.append(f"account {member['id']} ({member.get('name')}) is {member.get('status')}: skipped")
                continue
            found = account(member["id"], source)
            seen.setdefault(found.id, found)
            if organization.holds(found.id, str(member.get("unit")), dict(member.get("labels") or {})):
                inside.setdefault(found.id, found)
        unknown = sorted(set(organization.ids or ()) - set(named))
        if unknown:
            notes.append(f"{source.label()}: no account {', '.join(unknown)} in the organization")
    outside = [a for i, a in sorted(seen.items()) if i not in inside]
    return AccountListing(
        accounts=[a for _, a in sorted(inside.items())],
        failed=failed,
        outside=outside,
        notes=list(dict.fromkeys(notes)),
    )


def _members(api: ApiClient, max_attempts: int) -> list[dict[str, Any]] | MultiflowError:
    """Every account of the organization (ListAccounts, every page), or the error that stopped the listing."""
    found: list[dict[str, Any]] = []
    token: str | None = None
    try:
        for _ in range(100_000):  # a bound: 10 accounts a page
            body = {"page_token": token} if token else {}
            answer = call(api, "ListAccounts", body, max_attempts=max_attempts)
            found += answer.get("accounts") or []
            token = answer.get("next_page_token")
            if not token:
                break
    except MultiflowError as exc:
        return exc
    return found


class AssumedKey:
    """A member account's short-lived key: assumed with the caller's key on first use, and again when it is about
    to expire (a quarter of its life before, at most a minute). Thread-safe; the keys never show in a repr.

    Calling it gives the key to use now; a refusal raises the cloud's error (``AccessDenied``, with its request
    id).
    """

    def __init__(self, endpoint: str, caller_key: str, account_id: str, *, max_attempts: int, timeout: float) -> None:
        self.account_id = account_id
        self._api = ApiClient(endpoint, caller_key, timeout)
        self._max_attempts = max_attempts
        self._key: str | None = None
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<AssumedKey account {self.account_id}>"

    def __call__(self) -> str:
        with self._lock:
            if self._key is None or time.monotonic() >= self._renew_at:
                answer = call(
                    self._api,
                    "AssumeAccount",
                    {"account_id": self.account_id, "session_name": "multiflow"},
                    max_attempts=self._max_attempts,
                )
                credentials = answer["credentials"]
                life = float(credentials.get("expires_in") or 0)
                self._key = str(credentials["api_key"])
                self._renew_at = time.monotonic() + life - min(60.0, life / 4)
            return self._key


def entered(endpoint: str, caller_key: str, account_id: str, *, max_attempts: int, timeout: float) -> AssumedKey:
    """The key of ``account_id`` entered with ``caller_key``: the one already made for this caller, endpoint and
    account, or a new one, assumed now (so that an account that refuses fails here, not at its first call)."""
    caller_id = hashlib.sha256(caller_key.encode()).hexdigest()[:16]
    kept = (endpoint, caller_id, account_id)
    with _entered_lock:
        found = _entered.get(kept)
        if found is None:
            found = AssumedKey(endpoint, caller_key, account_id, max_attempts=max_attempts, timeout=timeout)
            if len(_entered) >= _KEPT:
                del _entered[next(iter(_entered))]
            _entered[kept] = found
    found()
    return found
