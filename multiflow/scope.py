"""Where a fleet applies: its entries expanded over (account, region), with calls, before plan reads anything.

A fleet file names accounts per provider (``accounts:``) and regions per entry (a list, or ``all``). Resolving
that takes calls, made here once per run and shared by plan, apply and destroy:

1. each provider's account sources are listed (:meth:`Provider.list_accounts
   <multiflow.provider.Provider.list_accounts>`), one provider at a time in parallel; a fleet that names no
   accounts for a provider covers the default account (the SDK chain's), with no call;
2. ``--shard K/N`` keeps the accounts of shard K (:func:`multiflow.accounts.in_shard`);
3. each account's regions are listed (a :class:`~multiflow.accounts.RegionLister` session in the provider's home
   region) where an entry says ``regions: all`` or the fleet sweeps every region (below);
4. each entry becomes one :class:`~multiflow.fleet.Target` per (account, region) it covers.

An account that cannot be entered (its role cannot be assumed, its regions cannot be listed), or a source that
cannot be listed, is a :class:`ScopeFailure`: plan reports it beside the others and plans nothing there; every
other account goes on.

**Sweeping.** Plan looks for the fleet's own flow logs (by their ownership tags) in :attr:`Scope.sweep`, places no
entry covers, and plans them for deletion: a region or an account dropped from the file is cleaned up instead of
orphaned. ``sweep: all`` (the default for a fleet with ``accounts:`` or ``regions: all``) sweeps every region
every covered account can use, and the members of listed organizations the file's filters leave out
(:attr:`AccountListing.outside <multiflow.accounts.AccountListing.outside>`); ``sweep: named`` sweeps only the
regions the file names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from multiflow.accounts import (
    DEFAULT_ACCOUNT,
    Account,
    AccountFailure,
    AccountListing,
    AccountSource,
    RegionLister,
    RegionListing,
    Shard,
    in_shard,
)
from multiflow.client import Connections
from multiflow.errors import MultiflowError, SpecError, UnsupportedFeature
from multiflow.fleet import ALL_REGIONS, Fleet, Target
from multiflow.plugins import get_provider
from multiflow.validate import EXTRA_REGIONS_VARIABLE, check_region

__all__ = [
    "MAX_PARALLEL",
    "MAX_WAITING",
    "Coverage",
    "Place",
    "Scope",
    "ScopeFailure",
    "across_accounts",
    "places_for",
    "resolve",
]

#: The most accounts (listings) and places (reads, calls) worked on at once by one process: a bound on threads and
#: sockets, whatever the size of the organization. Each cloud's own limits are per account, in its provider, and a
#: worker over its account's limit sleeps in that account's limiter: with W workers an organization goes at most W
#: accounts' rates at once, so W is sized for a few hundred accounts (at 32, apply over 200 accounts took 5x its
#: floor; tests/benchmarks/organization.py), not for the CPU.
MAX_PARALLEL = 256

#: The most places apply keeps at once, calling or waiting for activations (one thread each): a waiting place only
#: sleeps between polls and holds none of the MAX_PARALLEL calling slots, so the activations of every place of an
#: organization overlap instead of queueing behind the callers (:func:`multiflow.waiting.idle_while_sleeping`).
MAX_WAITING = 1024

_T = TypeVar("_T")


def across_accounts(items: Iterable[_T], place: Callable[[_T], Place]) -> list[_T]:
    """``items`` reordered round-robin over (provider, account): the first place of every account, then the second
    of every account, and so on, each account's in its own order.

    Work taken in this order by a bounded pool spreads over as many accounts as there are workers. In sorted order
    the workers would all be in the first account or two and wait on that account's rate limiter (the clouds'
    limits are per account) while every other account's limit goes unused.
    """
    queues: dict[tuple[str, str], list[_T]] = {}
    for item in items:
        where = place(item)
        queues.setdefault((where.provider, where.account), []).append(item)
    ordered: list[_T] = []
    for turn in range(max((len(q) for q in queues.values()), default=0)):
        ordered += [q[turn] for q in queues.values() if turn < len(q)]
    return ordered


@dataclass(frozen=True, order=True)
class Place:
    """One region of one account of one provider: where flow logs are read and changed."""

    provider: str
    account: str
    region: str

    def label(self) -> str:
        """``aws 111111111111 us-east-1`` (``aws us-east-1`` for the default account)."""
        return " ".join(p for p in (self.provider, self.account, self.region) if p)


@dataclass(frozen=True)
class ScopeFailure:
    """An account source, an account or a region that could not be entered, the entries it holds, and why.

    ``account`` is ``None`` where a whole source failed (the organization could not be listed); ``region`` is
    ``None`` where the whole account failed.
    """

    provider: str
    account: str | None
    region: str | None
    entries: tuple[str, ...]
    error: MultiflowError
    source: str = ""

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the error keeps the provider's code and request id)."""
        return {
            "provider": self.provider,
            "account": self.account or None,
            "region": self.region,
            "source": self.source or None,
            "error": str(self.error),
            "code": getattr(self.error, "code", None),
            "request_id": getattr(self.error, "request_id", None),
        }


@dataclass(frozen=True)
class Scope:
    """A fleet resolved over accounts and regions: what plan reads and diffs.

    :param targets: one per (entry, account, region), in file order.
    :param accounts: every account entered, by (provider, id), with the options that enter it.
    :param sweep: places plan reads only for the fleet's own flow logs (no entry covers them).
    :param failures: what could not be entered; nothing is planned there.
    :param notes: what is worth saying and is no failure (regions skipped, accounts outside the shard...).
    :param shard: the shard this scope is, or ``None``.
    :param outside: the (provider, id) of ``accounts`` entered only to sweep them: members the filters leave out.
    :param warnings: what is likely a mistake (an entry naming an account the fleet does not cover).
    """

    targets: tuple[Target, ...]
    accounts: Mapping[tuple[str, str], Account]
    sweep: tuple[Place, ...] = ()
    failures: tuple[ScopeFailure, ...] = ()
    notes: tuple[str, ...] = ()
    shard: Shard | None = None
    outside: frozenset[tuple[str, str]] = frozenset()
    warnings: tuple[str, ...] = ()

    def places(self) -> list[Place]:
        """Every place plan reads: the targets' and the sweep's, sorted, each once."""
        found = {Place(t.provider, t.account, t.region) for t in self.targets} | set(self.sweep)
        return sorted(found)

    def account(self, provider: str, account_id: str) -> Account | None:
        """The account to enter for ``provider`` and ``account_id`` (``None`` for the default account)."""
        if account_id == DEFAULT_ACCOUNT:
            return None
        return self.accounts.get((provider, account_id))


def resolve(fleet: Fleet, connections: Connections, *, shard: Shard | None = None, destroy: bool = False) -> Scope:
    """``fleet`` over the accounts and regions it covers, listed through ``connections`` (see the module)."""
    targets = fleet.targets()
    providers = sorted({t.provider for t in targets})
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(providers)))) as pool:
        listings = dict(zip(providers, pool.map(lambda p: _listing(fleet, connections, p), providers), strict=True))
    failures: list[ScopeFailure] = []
    notes: list[str] = []
    covered: dict[str, list[Account]] = {}
    outside: dict[str, list[Account]] = {}
    for name, listing in listings.items():
        entries = tuple(sorted({t.entry.name for t in targets if t.provider == name}))
        for failure in listing.failed:
            failures.append(ScopeFailure(name, failure.account, None, entries, failure.error, source=failure.source))
        notes += [f"{name}: {note}" for note in listing.notes]
        inside = [a for a in listing.accounts if in_shard(name, a.id, shard)]
        if shard is not None and len(inside) < len(listing.accounts):
            notes.append(f"{name}: shard {shard} covers {len(inside)} of {len(listing.accounts)} account(s)")
        covered[name] = inside
        outside[name] = [a for a in listing.outside if in_shard(name, a.id, shard)]
    sweeping = _sweeps(fleet)
    wanted_regions: set[tuple[str, str]] = set()
    for target in targets:
        if target.region == ALL_REGIONS or sweeping:
            wanted_regions |= {(target.provider, a.id) for a in covered[target.provider]}
    if sweeping:
        wanted_regions |= {(p, a.id) for p, accounts in outside.items() for a in accounts}
    known = {(p, a.id): a for p, accounts in (*covered.items(), *outside.items()) for a in accounts}
    region_lists = _region_lists(connections, [known[k] for k in sorted(wanted_regions)])
    skipped: dict[tuple[str, str, str], list[str]] = {}
    warnings: list[str] = []
    entered: dict[tuple[str, str], Account] = {}
    expanded: list[Target] = []
    failed_accounts: set[tuple[str, str]] = set()
    for key, listed in region_lists.items():
        if isinstance(listed, MultiflowError):
            failed_accounts.add(key)
            holding = tuple(sorted({t.entry.name for t in targets if t.provider == key[0]}))
            if any(a.id == key[1] for a in covered[key[0]]):
                failures.append(ScopeFailure(key[0], key[1], None, holding, listed))
            else:
                notes.append(f"{key[0]}: could not look in account {key[1]} (outside the file's filters): {listed}")
        else:
            for region, why in listed.skipped.items():
                if _named_anywhere(targets, key[0], region):  # a region no entry asks for is no news
                    skipped.setdefault((key[0], region, why), []).append(key[1])
    notes += _skipped_notes(skipped)
    for target in targets:
        named = target.entry.accounts or []
        everywhere = listings[target.provider].accounts
        missing = [n for n in named if not any(n in (a.id, a.name) for a in everywhere)]
        if missing and not listings[target.provider].failed:
            warnings.append(f"{target.entry.name}: accounts {', '.join(missing)} are not among the fleet's accounts")
        for account in _accounts_of(target, covered[target.provider]):
            key = (target.provider, account.id)
            if key in failed_accounts:
                continue
            if account.id != DEFAULT_ACCOUNT:
                entered[key] = account
            usable = region_lists.get(key)
            if target.region == ALL_REGIONS:
                regions = usable.enabled if isinstance(usable, RegionListing) else []
            else:
                regions = [target.region]
                if isinstance(usable, RegionListing) and target.region in usable.skipped:
                    reason = usable.skipped[target.region]
                    failures.append(
                        ScopeFailure(
                            target.provider,
                            account.id,
                            target.region,
                            (target.entry.name,),
                            UnsupportedFeature(
                                "regions",
                                target.region,
                                "a region the account can use",
                                provider=target.provider,
                                reason=reason,
                            ),
                        )
                    )
                    continue
            expanded += [
                Target(entry=target.entry, region=region, spec=target.spec, index=target.index, account=account.id)
                for region in regions
            ]
    refused = _enter(connections, expanded, entered, set(region_lists))
    for key, error in sorted(refused.items()):
        holding = tuple(sorted({t.entry.name for t in expanded if (t.provider, t.account) == key}))
        failures.append(ScopeFailure(key[0], key[1], None, holding, error))
        del entered[key]
    expanded = [t for t in expanded if (t.provider, t.account) not in refused]
    covered_places = {Place(t.provider, t.account, t.region) for t in expanded}
    sweep: set[Place] = set()
    if sweeping:
        for key, listed in region_lists.items():
            if isinstance(listed, RegionListing):
                sweep |= {Place(key[0], key[1], region) for region in listed.enabled}
                entered.setdefault(key, known[key])
    else:
        # sweep: named still looks, in the regions the file names, in the members its filters now leave out: an
        # account excluded from the file is cleaned up either way (no region listing needed for that).
        regions_named: dict[str, set[str]] = {}
        for target in targets:
            if target.region != ALL_REGIONS:
                regions_named.setdefault(target.provider, set()).add(target.region)
        aside = {(p, a.id): a for p, accounts in outside.items() for a in accounts if regions_named.get(p)}
        looked = [Place(p, a, r) for (p, a) in aside for r in sorted(regions_named[p])]
        shut = _enter(connections, looked, aside, set())
        for (provider_name, account_id), error in sorted(shut.items()):
            notes.append(
                f"{provider_name}: could not look in account {account_id} (outside the file's filters): {error}"
            )
        sweep |= {place for place in looked if (place.provider, place.account) not in shut}
        entered.update({key: account for key, account in aside.items() if key not in shut})
    sweep -= covered_places
    return Scope(
        targets=tuple(expanded),
        accounts={k: v for k, v in entered.items() if k[1] != DEFAULT_ACCOUNT},
        sweep=tuple(sorted(sweep)),
        failures=tuple(failures),
        notes=tuple(dict.fromkeys(notes)),
        shard=shard,
        outside=frozenset((p, a.id) for p, accounts in outside.items() for a in accounts),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _enter(
    connections: Connections,
    targets: Sequence[Target | Place],
    accounts: Mapping[tuple[str, str], Account],
    entered: set[tuple[str, str]],
) -> dict[tuple[str, str], MultiflowError]:
    """Enter each account of ``targets`` not ``entered`` yet (its regions were not listed) once, by connecting in
    its first region (the client plan then reads with), in parallel; the accounts that refuse, with why. Without
    this, an account whose role cannot be assumed failed once per region, each region assuming it again."""
    first: dict[tuple[str, str], str] = {}
    for target in targets:
        key = (target.provider, target.account)
        if key in accounts and key not in entered:
            first[key] = min(first.get(key, target.region), target.region)

    def attempt(key: tuple[str, str]) -> MultiflowError | None:
        try:
            connections.client(key[0], first[key], accounts[key])
        except SpecError:
            raise
        except MultiflowError as exc:
            return exc
        return None

    keys = sorted(first)
    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(keys)))) as pool:
        results = list(pool.map(attempt, keys))
    return {key: error for key, error in zip(keys, results, strict=True) if error is not None}


def _skipped_notes(skipped: Mapping[tuple[str, str, str], list[str]]) -> list[str]:
    """One note per provider, reason and set of accounts, however many regions and accounts skip: the regions
    listed, and the first few accounts named."""
    grouped: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for (provider, region, why), accounts in sorted(skipped.items()):
        grouped.setdefault((provider, why, tuple(accounts)), []).append(region)
    notes = []
    for (provider, why, ids), regions in grouped.items():
        more = f" and {len(ids) - 3} more" if len(ids) > 3 else ""
        named = ", ".join(a or "default" for a in ids[:3]) + more
        where = f"region {regions[0]}" if len(regions) == 1 else f"{len(regions)} regions ({', '.join(regions)})"
        notes.append(f"{provider}: {where} skipped in {len(ids)} account(s) ({named}): {why}")
    return notes


def _sweeps(fleet: Fleet) -> bool:
    if fleet.sweep is not None:
        return fleet.sweep == "all"
    return bool(fleet.accounts) or any(entry.all_regions for entry in fleet.flow_logs)


def _named_anywhere(targets: Iterable[Target], provider: str, region: str) -> bool:
    return any(t.provider == provider and t.region in (region, ALL_REGIONS) for t in targets)


@dataclass(frozen=True)
class Coverage:
    """The places a listing or an audit reads (:func:`places_for`), the accounts that enter them, and what could
    not be entered."""

    places: tuple[Place, ...]
    accounts: Mapping[tuple[str, str], Account]
    failures: tuple[ScopeFailure, ...] = ()
    notes: tuple[str, ...] = ()

    def account(self, provider: str, account_id: str) -> Account | None:
        """The account to enter for ``provider`` and ``account_id`` (``None`` for the default account)."""
        return None if account_id == DEFAULT_ACCOUNT else self.accounts.get((provider, account_id))


def places_for(
    regions: Mapping[str, Sequence[str] | str],
    connections: Connections,
    *,
    accounts: Mapping[str, Sequence[AccountSource]] | None = None,
    shard: Shard | None = None,
) -> Coverage:
    """Every (account, region) of each provider of ``regions`` (``{provider: [regions] or "all"}``), over the
    accounts ``accounts`` lists for it (its sources, as a fleet file's ``accounts:`` says; the default account
    where none), for ``multiflow list`` and ``audit``. Accounts or region listings that fail are failures; the
    others go on."""
    failures: list[ScopeFailure] = []
    notes: list[str] = []
    chosen: list[Account] = []
    for name in regions:
        listing = _listed_accounts(name, (accounts or {}).get(name, ()), connections)
        failures += [ScopeFailure(name, f.account, None, (), f.error, source=f.source) for f in listing.failed]
        notes += [f"{name}: {note}" for note in listing.notes]
        chosen += [a for a in listing.accounts if in_shard(name, a.id, shard)]
    listing_all = [a for a in chosen if regions[a.provider] == ALL_REGIONS]
    skipped: dict[tuple[str, str, str], list[str]] = {}
    region_lists = _region_lists(connections, listing_all)
    places: list[Place] = []
    for account in chosen:
        wanted = regions[account.provider]
        if wanted == ALL_REGIONS:
            usable = region_lists[(account.provider, account.id)]
            if isinstance(usable, MultiflowError):
                failures.append(ScopeFailure(account.provider, account.id, None, (), usable))
                continue
            for region, why in usable.skipped.items():
                skipped.setdefault((account.provider, region, why), []).append(account.id)
            places += [Place(account.provider, account.id, r) for r in usable.enabled]
        else:
            places += [Place(account.provider, account.id, r) for r in wanted]
    notes += _skipped_notes(skipped)
    return Coverage(
        places=tuple(dict.fromkeys(places)),
        accounts={(a.provider, a.id): a for a in chosen if a.id != DEFAULT_ACCOUNT},
        failures=tuple(failures),
        notes=tuple(dict.fromkeys(notes)),
    )


def _listing(fleet: Fleet, connections: Connections, provider_name: str) -> AccountListing:
    """The accounts ``fleet`` covers on one provider: its sources listed, or the default account."""
    return _listed_accounts(provider_name, fleet.accounts.get(provider_name, ()), connections)


def _listed_accounts(provider_name: str, sources: Sequence[AccountSource], connections: Connections) -> AccountListing:
    """The accounts ``sources`` list on one provider (the default account where there are none); a listing that
    fails as a whole is one failure."""
    if not sources:
        return AccountListing(accounts=[Account(provider_name, DEFAULT_ACCOUNT, source="default credentials")])
    provider = get_provider(provider_name)
    options = connections.options(provider_name, provider.home_region())
    try:
        listing = provider.list_accounts(sources, **options)
    except SpecError:
        raise
    except MultiflowError as exc:
        label = ", ".join(s.label() for s in sources)
        listing = AccountListing(failed=[AccountFailure(provider_name, label, None, exc)])
    return replace(listing, failed=[_located(provider_name, sources, f) for f in listing.failed])


def _located(provider_name: str, sources: Sequence[AccountSource], failure: AccountFailure) -> AccountFailure:
    """``failure`` with its source named as the fleet file has it: ``accounts.aws[1] (organization)`` for the
    item at index 1 (``accounts.aws`` where the failure is every item's), so that two items of one kind differ."""
    index = next((i for i, s in enumerate(sources) if s is failure.item), None)
    if index is None and failure.item is not None:  # a provider that rebuilt the item: an equal one
        index = next((i for i, s in enumerate(sources) if s == failure.item), None)
    if index is None and len(sources) == 1:
        index = 0
    where = f"accounts.{provider_name}" + (f"[{index}]" if index is not None else "")
    return replace(failure, source=f"{where} ({failure.source})" if failure.source else where)


def _accounts_of(target: Target, accounts: Sequence[Account]) -> list[Account]:
    """The accounts of ``accounts`` the target's entry covers (all of them, or those its ``accounts`` names)."""
    named = target.entry.accounts
    if named is None:
        return list(accounts)
    return [a for a in accounts if a.id in named or (a.name is not None and a.name in named)]


def _region_lists(
    connections: Connections, accounts: Sequence[Account]
) -> dict[tuple[str, str], RegionListing | MultiflowError]:
    """The regions each account can use, listed in parallel (bounded); an account that fails gets its error."""

    def listed(account: Account) -> RegionListing | MultiflowError:
        provider = get_provider(account.provider)
        entering = None if account.id == DEFAULT_ACCOUNT else account
        try:
            session = connections.client(account.provider, provider.home_region(), entering).session
            if not isinstance(session, RegionLister):
                raise UnsupportedFeature(
                    "regions",
                    ALL_REGIONS,
                    "a list of region names",
                    provider=account.provider,
                    reason="this provider cannot list its regions",
                )
            found = session.list_regions()
        except SpecError:
            raise
        except MultiflowError as exc:
            return exc
        enabled = [r for r in found.enabled if _known(r, provider.capabilities)]
        skipped = dict(found.skipped)
        for region in found.enabled:
            if region not in enabled:
                skipped[region] = f"not in multiflow's region list; {EXTRA_REGIONS_VARIABLE} admits it"
        return RegionListing(enabled=enabled, skipped=skipped)

    with ThreadPoolExecutor(max_workers=max(1, min(MAX_PARALLEL, len(accounts)))) as pool:
        results = list(pool.map(listed, accounts))
    return {(a.provider, a.id): r for a, r in zip(accounts, results, strict=True)}


def _known(region: str, caps: Any) -> bool:
    """Whether multiflow may send requests to ``region`` (a region the cloud lists that multiflow's list lacks is
    left out rather than trusted as a host name; MULTIFLOW_EXTRA_REGIONS admits it)."""
    try:
        check_region(region, caps)
    except SpecError:
        return False
    return True
