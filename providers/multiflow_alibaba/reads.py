"""Reading flow logs (DescribeFlowLogs) and resources (DescribeVpcs, DescribeVSwitches, ECS
DescribeNetworkInterfaces) in the fewest calls.

The cost model, in calls; DescribeFlowLogs pages hold 50 records (:data:`PAGE_SIZE`), ``n`` ids are asked for,
``T`` flow logs are in the region:

- a listing (``describe`` without ids): the first page, then the other ``ceil(T/50) - 1`` pages concurrently;
- looking up ``n`` flow logs by id or by resource (:meth:`Reads.find`): ``n`` filtered calls when
  ``n`` ≤ :data:`PER_ID_LOOKUPS` (3); else one probe page of the region listing, then whichever is fewer of its
  remaining pages (``ceil(T/50) - 1``) and one call per id not yet seen: at most ``min(n, ceil(T/50) - 1) + 1``.
  A resource can carry several flow logs, so only a flow-log id is settled by being seen on the probe page;
- :meth:`Reads.get` with a ``transitional`` hint (what the core's waiter passes): list that state a page at a time,
  ``ceil(S/50)`` calls for the ``S`` flow logs in it (ours or not). Ids whose ownership tags the session has seen
  (every flow log multiflow made or read) are listed by those tags too (``Status`` and ``Tags`` filters):
  ``ceil(n/50)`` for ``n`` pending of one fleet entry, whatever else is in the state in the region. Ids absent from
  it have left the state (or were never in it: a ``deleting`` hint on a flow log nobody deletes must not read as
  gone), so they are looked up as above. A poll costs ``ceil(S/50)`` while everything is pending and about
  ``ceil(T/50) + 1`` on the poll where many settle at once (when more than :data:`PER_ID_LOOKUPS` of one entry's
  left the state, that entry's flow logs are listed by their tags instead: ``ceil(E/50)`` for an entry of ``E``,
  whatever the region holds); the waiter asks about each id until it settles, so each is looked up once after it
  leaves the state. Should the cloud refuse that state as a ``Status`` filter (it
  documents Active, Activating and Inactive), the ids are looked up instead, from then on;
- creating ``n`` flow logs: the lookup above by resource (to adopt instead of duplicating), then ``n`` creates;
- resources of one kind (:meth:`Reads.listing`): ``ceil(n/50)`` calls for ``n`` VPCs or vSwitches,
  ``ceil(n/100)`` for ENIs, never one per resource.

A listing that shifts while it is paged can show a record on two pages: every listing keeps each record once.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

from multiflow.errors import InvalidRequest, NotFound, ProviderError, UnsupportedFeature
from multiflow.model import FlowLog, FlowLogStatus
from multiflow.ownership import MANAGED_TAG, SPEC_TAG
from multiflow.provider import DescribeQuery
from multiflow.spec import ResourceKind
from multiflow_alibaba.capabilities import API_STATUSES, RESOURCE_TYPES
from multiflow_alibaba.errors import ERROR_TABLE, FLOW_LOG_NOT_FOUND, UNEXPECTED_RESPONSE
from multiflow_alibaba.mapping import flow_log_from_record, records_of
from multiflow_alibaba.retry import Stop
from multiflow_alibaba.transport import LISTINGS
from multiflow_alibaba.workers import Workers

__all__ = [
    "BY_ID",
    "LISTERS",
    "LISTING_REUSE_SECONDS",
    "PAGE_SIZE",
    "PER_ID_LOOKUPS",
    "Call",
    "Reads",
    "check_listable",
    "item_id_key",
    "resource_tags",
    "tags_match",
]

log = logging.getLogger("multiflow.alibaba")

#: The largest DescribeFlowLogs page.
PAGE_SIZE = 50
#: How long a whole-region listing tells which resources have no flow log (plan, then apply, in one run).
LISTING_REUSE_SECONDS = 600.0
#: Up to this many ids are looked up one call each; beyond, a probe of the region listing decides.
PER_ID_LOOKUPS = 3

#: Resource kind → (action, page size) of the listing ``list_resources`` and ``inventory`` read.
LISTERS: dict[ResourceKind, tuple[str, int]] = {
    ResourceKind.VPC: ("DescribeVpcs", 50),
    ResourceKind.SUBNET: ("DescribeVSwitches", 50),
    ResourceKind.NETWORK_INTERFACE: ("DescribeNetworkInterfaces", 100),
}
#: Resource kind → (request key, ids a call) of a lookup by id: DescribeVpcs takes up to 20 VpcIds joined by
#: commas, DescribeVSwitches one VSwitchId, ECS DescribeNetworkInterfaces up to 100 NetworkInterfaceId.N.
BY_ID: dict[ResourceKind, tuple[str, int]] = {
    ResourceKind.VPC: ("VpcId", 20),
    ResourceKind.SUBNET: ("VSwitchId", 1),
    ResourceKind.NETWORK_INTERFACE: ("NetworkInterfaceId", 100),
}
#: What asks for a listing, by the field named when a kind cannot be listed.
_LISTING_USES = {"resources.where": "selectors", "kinds": "audits", "resources.ids": "existence checks"}


class Call(Protocol):
    """One API call, retried (:meth:`multiflow_alibaba.transport.Transport.call`'s signature)."""

    def __call__(
        self,
        action: str,
        params: Mapping[str, Any] | None = None,
        *,
        resource_id: str | None = None,
        before_retry: Callable[[ProviderError], Stop[Any] | None] | None = None,
    ) -> Any:
        """The answer's body."""


class Reads:
    """The reads of one region: ``call`` makes each call, ``workers`` run the pages and lookups concurrently."""

    def __init__(self, call: Call, workers: Workers, region: str) -> None:
        self._call = call
        self._workers = workers
        self.region = region
        self._unlisted_states: set[str] = set()
        #: Flow log id -> its ownership tags (multiflow:managed, multiflow:spec), from every record read or made.
        self._owners: dict[str, tuple[tuple[str, str], ...]] = {}
        #: Ownership tags -> how many flow logs known to this session carry them (an entry's size in the region).
        self._owned_counts: Counter[tuple[tuple[str, str], ...]] = Counter()
        #: (when, resources having a flow log) of the last whole-region listing.
        self._region_listing: tuple[float, set[str]] | None = None
        #: Resource id -> when a lookup by that resource (plan's, before it creates) found no flow log on it.
        self._bare: dict[str, float] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Reads {self.region}>"

    # -- DescribeFlowLogs ----------------------------------------------------------------------------------

    def page(self, filters: Mapping[str, Any], number: int) -> dict[str, Any]:
        """Page ``number`` (1-based) of the DescribeFlowLogs listing for ``filters``."""
        return self._call("DescribeFlowLogs", {**filters, "PageSize": PAGE_SIZE, "PageNumber": number})

    def records(self, filters: Mapping[str, Any]) -> list[dict[str, Any]]:
        """Every DescribeFlowLogs record for ``filters``: the first page, then the others concurrently.

        A listing of the whole region (no filters: what plan reads) is remembered as the set of resources that
        have a flow log, so a create right after it need not look its resources up again (:meth:`find`).
        """
        started = time.monotonic()
        first = self.page(filters, 1)
        records = _unique(records_of(first) + self._rest(filters, first))
        if not filters:
            with self._lock:
                self._region_listing = (started, {str(r.get("ResourceId", "")) for r in records})
        return records

    def without_flow_logs(self, resource_ids: Iterable[str]) -> set[str]:
        """Those of ``resource_ids`` that had no flow log in the last :data:`LISTING_REUSE_SECONDS`, by a
        whole-region listing or a lookup by resource (plan's), and on which this session made none since.

        A flow log made on one by someone else since is still refused by the cloud (one per resource), and the
        create adopts it then."""
        now = time.monotonic()
        with self._lock:
            listing = self._region_listing
            if listing is not None and now - listing[0] > LISTING_REUSE_SECONDS:
                listing = None
            return {
                r
                for r in resource_ids
                if (listing is not None and r not in listing[1])
                or now - self._bare.get(r, -math.inf) <= LISTING_REUSE_SECONDS
            }

    def _rest(self, filters: Mapping[str, Any], first: Mapping[str, Any]) -> list[dict[str, Any]]:
        pages = math.ceil(int(first.get("TotalCount") or 0) / _served(first, PAGE_SIZE))
        if pages <= 1:
            return []
        return [
            r
            for page in self._workers.all(lambda n: records_of(self.page(filters, n)), range(2, pages + 1))
            for r in page
        ]

    def find(self, key: str, values: Iterable[str], filters: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Records whose ``key`` (``FlowLogId`` or ``ResourceId``) is one of ``values``, in the fewest calls."""
        wanted = list(dict.fromkeys(values))
        base = dict(filters or {})
        if not wanted:
            return []
        started = time.monotonic()
        if len(wanted) <= PER_ID_LOOKUPS:
            records = [r for rs in self._workers.all(lambda v: self.records({**base, key: v}), wanted) for r in rs]
            return self._found(key, wanted, base, records, started)
        first = self.page(base, 1)
        records = records_of(first)
        seen = {r.get(key) for r in records}
        remaining = [v for v in wanted if key != "FlowLogId" or v not in seen]
        pages_left = max(0, math.ceil(int(first.get("TotalCount") or 0) / _served(first, PAGE_SIZE)) - 1)
        if remaining and pages_left <= len(remaining):
            records += self._rest(base, first)
        elif remaining:
            records += [r for rs in self._workers.all(lambda v: self.records({**base, key: v}), remaining) for r in rs]
        return self._found(key, wanted, base, records, started)

    def _found(
        self, key: str, wanted: list[str], base: Mapping[str, Any], records: list[dict[str, Any]], started: float
    ) -> list[dict[str, Any]]:
        """The records of a lookup by ``key`` that answer it; the resources a lookup by resource (and nothing else)
        found bare are remembered so that a create right after need not look them up again."""
        chosen = set(wanted)
        found = _unique([r for r in records if r.get(key) in chosen])
        if key == "ResourceId" and not base:
            having = {r.get(key) for r in found}
            with self._lock:
                self._bare.update((v, started) for v in wanted if v not in having)
        return found

    def flow_logs(self, records: Iterable[Mapping[str, Any]], include_raw: bool = True) -> list[FlowLog]:
        """The records as FlowLogs (see :meth:`flow_log`)."""
        return [self.flow_log(r, include_raw) for r in records]

    def flow_log(self, record: Mapping[str, Any], include_raw: bool = True) -> FlowLog:
        """A DescribeFlowLogs record as a FlowLog; one the cloud would never send is a ServiceError, not a crash."""
        try:
            flow_log = flow_log_from_record(record, self.region, include_raw)
            self.remember(flow_log)
            return flow_log
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ERROR_TABLE.error(
                UNEXPECTED_RESPONSE,
                f"unreadable answer: a flow log record multiflow cannot read ({type(exc).__name__})",
                operation="DescribeFlowLogs",
                resource_id=str(record.get("ResourceId") or "") or None,
            ) from exc

    def remember(self, flow_log: FlowLog) -> None:
        """Keep the flow log's ownership tags, by which :meth:`get` lists only its fellows in a state (and its
        resource as one that has a flow log)."""
        owner = tuple((key, flow_log.tags[key]) for key in (MANAGED_TAG, SPEC_TAG) if key in flow_log.tags)
        with self._lock:
            if self._region_listing is not None:
                self._region_listing[1].add(flow_log.resource.id)
            self._bare.pop(flow_log.resource.id, None)
            before = self._owners.pop(flow_log.id, None)
            if before is not None:
                self._owned_counts[before] -= 1
            if len(owner) == 2:
                self._owners[flow_log.id] = owner
                self._owned_counts[owner] += 1

    def _owned(self, owner: tuple[tuple[str, str], ...]) -> int:
        """How many flow logs this session knows with the ownership tags ``owner`` (at least one entry's, here)."""
        with self._lock:
            return self._owned_counts[owner]

    def one(self, flow_log_id: str) -> FlowLog:
        """The flow log ``flow_log_id`` (one DescribeFlowLogs); NotFound if it is gone."""
        found = self.flow_logs(self.records({"FlowLogId": flow_log_id}))
        if not found:
            raise NotFound(
                "alibaba",
                FLOW_LOG_NOT_FOUND,
                f"no flow log {flow_log_id} in {self.region}",
                resource_id=flow_log_id,
            )
        return found[0]

    def status_of(self, flow_log_id: str) -> FlowLogStatus | None:
        """The flow log's status (one DescribeFlowLogs), or ``None`` if it is gone."""
        found = self.flow_logs(self.records({"FlowLogId": flow_log_id}))
        return found[0].status if found else None

    def describe(self, query: DescribeQuery) -> list[FlowLog]:
        """Flow logs matching ``query``, all pages; filters the cloud has are applied by it."""
        filters: dict[str, Any] = {}
        if query.resource_kind is not None:
            if query.resource_kind not in RESOURCE_TYPES:
                return []
            filters["ResourceType"] = RESOURCE_TYPES[query.resource_kind]
        if query.tags:
            filters["Tags"] = [{"Key": k, **({"Value": v} if v is not None else {})} for k, v in query.tags.items()]
        if query.ids:
            records = self.find("FlowLogId", query.ids, filters)
        elif query.resource_ids:
            records = self.find("ResourceId", query.resource_ids, filters)
        else:
            return [f for f in self.listed(filters, query.include_raw) if _matches(f, query)]
        flow_logs = self.flow_logs(records, query.include_raw)
        return [f for f in flow_logs if _matches(f, query)]

    def listed(self, filters: Mapping[str, Any], include_raw: bool = True) -> list[FlowLog]:
        """Every flow log of the listing for ``filters`` (as :meth:`records`), each page made FlowLogs as it comes
        in, on the worker that read it, so no list of every raw record of the region is ever held."""
        started = time.monotonic()

        def convert(page: Mapping[str, Any]) -> list[FlowLog]:
            return [self.flow_log(r, include_raw) for r in records_of(page)]

        first = self.page(filters, 1)
        pages = math.ceil(int(first.get("TotalCount") or 0) / _served(first, PAGE_SIZE))
        batches = [convert(first)]
        del first
        if pages > 1:
            batches += self._workers.all(lambda n: convert(self.page(filters, n)), range(2, pages + 1))
        seen: set[str] = set()
        unique: list[FlowLog] = []
        for batch in batches:
            for flow_log in batch:
                if flow_log.id not in seen:
                    seen.add(flow_log.id)
                    unique.append(flow_log)
        if not filters:
            with self._lock:
                self._region_listing = (started, {f.resource.id for f in unique})
        return unique

    def get(self, ids: Iterable[str], transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        """The current state of ``ids``; ids that are gone are absent. A ``transitional`` hint lists that state
        first (the module docstring has the cost)."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        found: dict[str, FlowLog] = {}
        state = API_STATUSES.get(transitional) if transitional is not None and transitional.transitional else None
        if state is not None:
            # Ids whose ownership tags are known are listed with their fellows only (Status and Tags filters),
            # whatever else is in the state in the region; the others with the whole state, as before.
            groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
            for flow_log_id in wanted:
                groups.setdefault(self._owners.get(flow_log_id, ()), []).append(flow_log_id)
            for owner, ids in groups.items():
                tags = [{"Key": key, "Value": value} for key, value in owner]
                if owner and self._owned(owner) <= PAGE_SIZE * math.ceil(len(ids) / PAGE_SIZE):
                    # The entry's flow logs (any state) fit in as many pages as its pending ones: one listing by
                    # its tags answers for every pending id, where the state listing would leave the ones that
                    # left the state to look up.
                    chosen = set(ids)
                    found.update({f.id: f for f in self.flow_logs(self.records({"Tags": tags})) if f.id in chosen})
                    continue
                listed = self._list_state(state, owner)
                if listed is not None:
                    chosen = set(ids)
                    found.update({f.id: f for f in self.flow_logs(listed) if f.id in chosen})
                left = [i for i in ids if i not in found]
                if owner and len(left) > PER_ID_LOOKUPS:
                    # Many of one entry's flow logs left the state at once: list that entry's flow logs (its
                    # ownership tags, any state) rather than look each up: ceil(entry/50) calls, not one per id.
                    chosen = set(left)
                    found.update({f.id: f for f in self.flow_logs(self.records({"Tags": tags})) if f.id in chosen})
            wanted = [i for i in wanted if i not in found]
        found.update({f.id: f for f in self.flow_logs(self.find("FlowLogId", wanted))})
        return found

    def _list_state(self, state: str, owner: tuple[tuple[str, str], ...] = ()) -> list[dict[str, Any]] | None:
        """Every flow log in ``state`` (with the ``owner`` tags, if given); ``None`` if the cloud refuses that
        ``Status`` filter (not asked again)."""
        if state in self._unlisted_states:
            return None
        filters: dict[str, Any] = {"Status": state}
        if owner:
            filters["Tags"] = [{"Key": key, "Value": value} for key, value in owner]
        try:
            return self.records(filters)
        except InvalidRequest as exc:
            log.info("DescribeFlowLogs refuses Status=%s (%s); looking flow logs up by id instead", state, exc.code)
            self._unlisted_states.add(state)
            return None

    # -- VPCs, vSwitches, ENIs -------------------------------------------------------------------------------

    def listing(self, kind: ResourceKind, filters: Mapping[str, Any], field: str) -> list[dict[str, Any]]:
        """Every item of the VPC, vSwitch or ENI listing for ``filters``: the first page, then the others
        concurrently. ``field`` names what asked for a kind that cannot be listed, in the UnsupportedFeature."""
        check_listable(kind, field)
        first = self._resource_page(kind, filters, 1)
        return self._listed_items(kind, filters, first)

    def existing(self, kind: ResourceKind, ids: Iterable[str]) -> set[str]:
        """Those of ``ids`` (VPCs, vSwitches or ENIs) that exist, in the fewest calls: by id (:data:`BY_ID`: 20
        VPCs, one vSwitch or 100 ENIs a call) when that is at most :data:`PER_ID_LOOKUPS` calls; else one probe
        page of the region's listing, then whichever is fewer of its remaining pages and the calls by id for the
        ids the probe did not show."""
        check_listable(kind, "resources.ids")
        wanted = list(dict.fromkeys(ids))
        key, per_call = BY_ID[kind]
        id_key = item_id_key(kind)
        found: set[str] = set()
        if len(wanted) > PER_ID_LOOKUPS * per_call:
            first = self._resource_page(kind, {}, 1)
            found = {str(item[id_key]) for item in self._items(kind, first)} & set(wanted)
            wanted = [i for i in wanted if i not in found]
            calls = math.ceil(len(wanted) / per_call)
            if wanted and self._pages(kind, first) - 1 <= calls:
                listed = {str(item[id_key]) for item in self._listed_items(kind, {}, first)}
                return found | (listed & set(wanted))
        batches = [wanted[n : n + per_call] for n in range(0, len(wanted), per_call)]

        def ask(batch: list[str]) -> set[str]:
            value: Any = ",".join(batch) if kind is ResourceKind.VPC else batch if per_call > 1 else batch[0]
            body = self._resource_page(kind, {key: value}, 1)
            return {str(item[id_key]) for item in self._items(kind, body)} & set(batch)

        for batch_found in self._workers.all(ask, batches):
            found |= batch_found
        return found

    def _resource_page(self, kind: ResourceKind, filters: Mapping[str, Any], number: int) -> dict[str, Any]:
        action, size = LISTERS[kind]
        return dict(self._call(action, {**filters, "PageSize": size, "PageNumber": number}))

    def _items(self, kind: ResourceKind, body: Mapping[str, Any]) -> list[dict[str, Any]]:
        outer, inner, _ = LISTINGS[LISTERS[kind][0]]
        return list((body.get(outer) or {}).get(inner) or [])

    def _pages(self, kind: ResourceKind, first: Mapping[str, Any]) -> int:
        return math.ceil(int(first.get("TotalCount") or 0) / _served(first, LISTERS[kind][1]))

    def _listed_items(
        self, kind: ResourceKind, filters: Mapping[str, Any], first: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """The items of ``first`` and of the listing's other pages (read concurrently), each once."""
        id_key = item_id_key(kind)
        items = self._items(kind, first)
        if items:
            pages = range(2, self._pages(kind, first) + 1)
            items += [
                item
                for body in self._workers.all(lambda n: self._resource_page(kind, filters, n), pages)
                for item in self._items(kind, body)
            ]
        return list({str(item[id_key]): item for item in items}.values())


def item_id_key(kind: ResourceKind) -> str:
    """The key of a listed item's id (``VpcId``, ``VSwitchId``, ``NetworkInterfaceId``); ``""`` if not listable."""
    return LISTINGS[LISTERS[kind][0]][2] if kind in LISTERS else ""


def check_listable(kind: ResourceKind, field: str) -> None:
    """An UnsupportedFeature about ``field`` unless multiflow can list resources of ``kind``."""
    if kind not in LISTERS:
        raise UnsupportedFeature(
            field,
            kind.value,
            "vpc, subnet, network_interface",
            provider="alibaba",
            reason=f"{_LISTING_USES.get(field, 'multiflow')} list VPCs, vSwitches and ENIs only",
        )


def resource_tags(item: Mapping[str, Any]) -> dict[str, str]:
    """A VPC's or vSwitch's tags (``Key``/``Value``), or an ENI's (ECS spells them ``TagKey``/``TagValue``)."""
    tags = (item.get("Tags") or {}).get("Tag") or []
    return {
        str(t.get("Key", t.get("TagKey"))): str(t.get("Value", t.get("TagValue")) or "")
        for t in tags
        if t.get("Key", t.get("TagKey"))
    }


def tags_match(have: Mapping[str, str], wanted: Mapping[str, str | None]) -> bool:
    """Whether ``have`` holds every key of ``wanted`` with its value (``None``: any value)."""
    return all(key in have and (value is None or have[key] == value) for key, value in wanted.items())


def _served(first: Mapping[str, Any], asked: int) -> int:
    """The page size the server used (its ``PageSize``), else the one asked for."""
    return int(first.get("PageSize") or asked) or asked


def _unique(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without repeats (a flow log can show on two pages when the listing shifts), order kept."""
    seen: set[str] = set()
    unique = []
    for record in records:
        key = str(record.get("FlowLogId"))
        if key not in seen:
            seen.add(key)
            unique.append(record)
    return unique


def _matches(flow_log: FlowLog, query: DescribeQuery) -> bool:
    if query.ids and flow_log.id not in query.ids:
        return False
    if query.resource_ids and flow_log.resource.id not in query.resource_ids:
        return False
    if query.resource_kind is not None and flow_log.resource.kind != query.resource_kind:
        return False
    return tags_match(flow_log.tags, query.tags)
