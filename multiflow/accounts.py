"""Accounts and regions a fleet covers: the provider-neutral half of organizations.

A fleet file names, per provider, the accounts it covers (``accounts: {aws: [...], alibaba: [...]}``). Each item
is an *account source*, in the provider's own words: an explicit account (a profile, a role to assume) or a whole
organization narrowed by ids, units and tags. What an item may say, how to list an organization's members and
how to get credentials for one belong to the provider (:attr:`Provider.accounts
<multiflow.provider.Provider.accounts>`, :meth:`Provider.list_accounts
<multiflow.provider.Provider.list_accounts>`); the fan-out over (account, region) and the aggregation belong to
the core (:mod:`multiflow.scope`).

An :class:`Account` is what a provider's listing gives back: the cloud's account id, a name where the cloud has
one, and the ``connect`` options that enter it (``role_arn``..., never a secret: credentials are obtained by the
provider's session from its SDK's chain, and from the role it assumes). ``regions: all`` asks a session that is a
:class:`RegionLister` which regions the account can use.

Sharding (``--shard K/N``) keeps the accounts whose stable hash falls in shard K of N, so that N processes cover
an organization exactly once (:func:`in_shard`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from multiflow.errors import MultiflowError, SpecError

__all__ = [
    "DEFAULT_ACCOUNT",
    "Account",
    "AccountFailure",
    "AccountListing",
    "AccountSource",
    "RegionLister",
    "RegionListing",
    "Shard",
    "in_shard",
]

#: The account of a fleet that names no accounts: whatever the SDK's credential chain enters (its id unknown).
DEFAULT_ACCOUNT = ""


class AccountSource(BaseModel):
    """Base of a provider's account-source model: one item of ``accounts: {provider: [...]}`` in a fleet file.

    A provider subclasses it with its own fields (a profile, a role ARN, an organization with its filters) and
    names the subclass in :attr:`Provider.accounts <multiflow.provider.Provider.accounts>`. Strict and frozen,
    like every fleet model; ``label()`` is how messages and summaries name the item.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    def label(self) -> str:
        """A short human name of this source (``profile prod``, ``organization``...), never a secret."""
        return type(self).__name__


@dataclass(frozen=True)
class Account:
    """One account of one provider that a fleet covers.

    :param provider: the provider's name.
    :param id: the cloud's account id (AWS: 12 digits; Alibaba: the account's numeric id).
    :param name: the account's name where the cloud has one (an organization's member name, an alias).
    :param connect_options: the ``connect`` options that enter this account (``role_arn``, ``external_id``,
        ``profile``...); added to the run's own options (endpoints, retries) for every region of the account.
        Never credentials: those come from the SDK's chain and from the role the provider assumes.
    :param source: how it was found (the source's ``label()``), for messages.
    """

    provider: str
    id: str
    name: str | None = None
    connect_options: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False, hash=False)
    source: str = ""

    def label(self) -> str:
        """``id (name)``, or the id alone; ``default`` for the default account."""
        if self.id == DEFAULT_ACCOUNT:
            return "default"
        return f"{self.id} ({self.name})" if self.name and self.name != self.id else self.id


@dataclass(frozen=True)
class AccountFailure:
    """An account (or a whole source) that could not be listed or entered, and why; the others go on.

    ``account`` is the account id where it is known (a member whose role cannot be assumed), ``None`` where the
    source itself failed (the organization could not be listed). ``item`` is the fleet's source that failed (one
    of those given to ``list_accounts``, the object itself), where one did: the core names it as the file has it,
    ``accounts.aws[1]``; ``None`` where the failure is every source's (a caller identity that cannot be read).
    """

    provider: str
    source: str
    account: str | None
    error: MultiflowError
    item: AccountSource | None = field(default=None, compare=False)


@dataclass(frozen=True)
class AccountListing:
    """What :meth:`Provider.list_accounts <multiflow.provider.Provider.list_accounts>` found.

    :param accounts: the accounts to cover, in a stable order (by id), each once.
    :param failed: the sources or accounts that failed (each a failure of its own in the run).
    :param outside: members of a listed organization that the source's filters leave out (excluded, another
        unit, other tags), each with the options that would enter it: plan looks there for the fleet's own flow
        logs (an account dropped from the file) and plans them for deletion, and creates nothing there.
    :param notes: what a user should know and is no failure (a suspended member skipped, say).
    """

    accounts: list[Account] = field(default_factory=list)
    failed: list[AccountFailure] = field(default_factory=list)
    outside: list[Account] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RegionListing:
    """The regions an account can use (``enabled``), and those it cannot, each with why (``skipped``: an opt-in
    region that is not enabled, say)."""

    enabled: list[str] = field(default_factory=list)
    skipped: Mapping[str, str] = field(default_factory=dict)


@runtime_checkable
class RegionLister(Protocol):
    """A session that can say which regions its account can use (AWS EC2 and Alibaba VPC ``DescribeRegions``),
    for ``regions: all`` and ``--region all``. Optional."""

    def list_regions(self) -> RegionListing:
        """Every region of the cloud, as enabled or skipped for this session's account; one call."""
        ...


_SHARD = re.compile(r"([0-9]{1,4})/([0-9]{1,4})")


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` (1-based) of ``count``: ``--shard 2/4``."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str, field: str = "--shard") -> Shard:
        """``K/N`` with 1 ≤ K ≤ N ≤ 1024; a SpecError naming the value otherwise."""
        match = _SHARD.fullmatch(text.strip())
        if match:
            index, count = int(match.group(1)), int(match.group(2))
            if 1 <= index <= count <= 1024:
                return cls(index, count)
        raise SpecError(field, text, "K/N with 1 <= K <= N <= 1024 (e.g. 2/4)")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def holds(self, provider: str, account_id: str) -> bool:
        """Whether this shard covers ``account_id`` of ``provider``."""
        return in_shard(provider, account_id, self)


def in_shard(provider: str, account_id: str, shard: Shard | None) -> bool:
    """Whether ``shard`` covers the account: a stable hash (SHA-256 of ``provider:account``), the same on every
    machine and Python version, so that N processes with shards 1/N to N/N cover every account exactly once."""
    if shard is None or shard.count == 1:
        return True
    digest = hashlib.sha256(f"{provider}:{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shard.count == shard.index - 1
