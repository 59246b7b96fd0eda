"""ExampleSession: one region of one ExampleCloud account, satisfying ``multiflow.provider.ProviderSession``, the
optional ``ResourceLister`` (fleet selectors) and ``ResourceInventory`` (audits), and
:class:`multiflow.accounts.RegionLister` (``regions: all``). Every client-library error is turned into a neutral one
here, at :func:`call`.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from multiflow.accounts import RegionListing
from multiflow.backoff import Backoff, retry
from multiflow.errors import ProviderError, ResourceFailure, UnsupportedFeature
from multiflow.model import CloudResource, FlowLog, FlowLogStatus
from multiflow.provider import CreateOutcome, DeleteOutcome, DescribeQuery
from multiflow.spec import FlowLogSpec, ResourceKind
from multiflow_example.api import ApiClient, ApiError
from multiflow_example.capabilities import CAPABILITIES, RESOURCE_TYPES
from multiflow_example.errors import ERROR_TABLE, NO_CREDENTIALS
from multiflow_example.mapping import create_body, flow_log_from_record

__all__ = ["API_KEY_VARIABLE", "DEFAULT_ENDPOINT", "ENDPOINT_VARIABLE", "ExampleSession", "call", "caller"]

log = logging.getLogger(__name__)

#: Environment variables read when ``endpoint`` / ``api_key`` are not given (``multiflow sandbox serve`` sets them).
ENDPOINT_VARIABLE = "MULTIFLOW_EXAMPLE_ENDPOINT"
API_KEY_VARIABLE = "EXAMPLE_CLOUD_API_KEY"
DEFAULT_ENDPOINT = "https://api.example-cloud.invalid"
_PAGE = 20
#: Between attempts of one call: full jitter, 0.2 s doubling to 2 s, never under 0.05 s.
_RETRY_BACKOFF = Backoff(base=0.2, factor=2.0, cap=2.0, jitter="full", floor=0.05)


def caller(endpoint: str | None, api_key: str | None) -> tuple[str, str]:
    """The endpoint and the calling identity's key: as given, else from the environment; NoCredentials without a
    key."""
    key = api_key or os.environ.get(API_KEY_VARIABLE)
    if not key:
        raise ERROR_TABLE.error(NO_CREDENTIALS, f"no API key: pass api_key=... or set {API_KEY_VARIABLE}")
    return _endpoint(endpoint), key


def _endpoint(endpoint: str | None) -> str:
    return endpoint or os.environ.get(ENDPOINT_VARIABLE) or DEFAULT_ENDPOINT


def call(
    api: ApiClient, operation: str, body: Mapping[str, Any], *, max_attempts: int, resource_id: str | None = None
) -> dict[str, Any]:
    """One call, retried with jittered backoff while the error is retryable; errors mapped at this one place."""

    def attempt() -> dict[str, Any]:
        try:
            return api.call(operation, body)
        except ApiError as exc:
            raise ERROR_TABLE.error(
                exc.code,
                exc.message,
                operation=operation,
                request_id=exc.request_id,
                http_status=exc.http_status,
                resource_id=resource_id,
            ) from None

    return retry(
        attempt,
        retryable=lambda error: isinstance(error, ProviderError) and error.retryable,
        backoff=_RETRY_BACKOFF,
        max_attempts=max(1, max_attempts),
        on_retry=lambda error, _, pause: log.info("%s: %s; retrying in %.2fs", operation, error, pause),
    )


class ExampleSession:
    """ExampleCloud in one region of one account. Make one with ``multiflow.connect("example", region=...,
    **options)``.

    :param region: ``local-1``, ``local-2`` or ``local-3`` (an opt-in region).
    :param endpoint: the API's base URL; default ``$MULTIFLOW_EXAMPLE_ENDPOINT``, else the cloud's own.
    :param api_key: the bearer token; default ``$EXAMPLE_CLOUD_API_KEY``. Never logged, shown or written. A
        callable gives the key to use now (a member account's, assumed: see ``ExampleProvider.connect``).
    :param max_attempts: attempts per call for throttling and the cloud's own failures (1: no retries).
    :param timeout: seconds to wait for each answer.
    :param account_id: the account the key enters, where it is a member's (for reprs and messages).
    """

    provider = "example"

    def __init__(
        self,
        region: str,
        *,
        endpoint: str | None = None,
        api_key: str | Callable[[], str] | None = None,
        max_attempts: int = 4,
        timeout: float = 10.0,
        account_id: str | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        key: str | Callable[[], str]
        if callable(api_key):
            self.endpoint, key = _endpoint(endpoint), api_key
        else:
            self.endpoint, key = caller(endpoint, api_key)
        self.max_attempts = max(1, max_attempts)
        self._api = ApiClient(self.endpoint, key, timeout)

    def __repr__(self) -> str:
        where = f" account {self.account_id}" if self.account_id else ""
        return f"<ExampleSession {self.region}{where} {self.endpoint}>"

    # -- calling the cloud -----------------------------------------------------------------------------------

    def _call(self, operation: str, body: Mapping[str, Any], resource_id: str | None = None) -> dict[str, Any]:
        """One call in this session's region (see :func:`call`)."""
        return call(
            self._api,
            operation,
            {"region": self.region, **body},
            max_attempts=self.max_attempts,
            resource_id=resource_id,
        )

    def _pages(self, operation: str, body: Mapping[str, Any], key: str) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            answer = self._call(operation, {**body, **({"page_token": token} if token else {})})
            yield from answer.get(key, [])
            token = answer.get("next_page_token")
            if not token:
                return

    # -- the ProviderSession protocol ------------------------------------------------------------------------

    def create(self, specs: Sequence[FlowLogSpec], *, extra_tags: Mapping[str, str], dry_run: bool) -> CreateOutcome:
        """CreateFlowLogs, resources with identical settings in calls of up to 10 ids, each with a client token
        (the same for every retry of a call, so a retried create never duplicates)."""
        if dry_run:
            raise UnsupportedFeature("dry_run", True, "no dry run", provider="example")
        outcome = CreateOutcome()
        groups: dict[str, tuple[FlowLogSpec, list[str]]] = {}
        for spec in specs:
            _, ids = groups.setdefault(spec.settings_digest(), (spec, []))
            ids.extend(i for i in spec.resources.ids if i not in ids)
        for spec, ids in groups.values():
            size = CAPABILITIES.ids_per_call[spec.resources.kind]
            for start in range(0, len(ids), size):
                batch = ids[start : start + size]
                body = {**create_body(spec, batch, self.region, extra_tags), "client_token": uuid.uuid4().hex}
                try:
                    answer = self._call("CreateFlowLogs", body)
                except ProviderError as exc:
                    outcome.failed += [ResourceFailure(i, _for_resource(exc, i)) for i in batch]
                    continue
                outcome.created += [flow_log_from_record(r) for r in answer.get("flow_logs", [])]
                outcome.failed += [
                    ResourceFailure(
                        f["resource_id"],
                        ERROR_TABLE.error(
                            f["code"],
                            f["message"],
                            operation="CreateFlowLogs",
                            request_id=answer.get("request_id"),
                            resource_id=f["resource_id"],
                        ),
                    )
                    for f in answer.get("failures", [])
                ]
        return outcome

    def describe(self, query: DescribeQuery) -> list[FlowLog]:
        """ListFlowLogs with the query's filters, every page."""
        body: dict[str, Any] = {"page_size": _PAGE}
        if query.ids:
            body["ids"] = list(query.ids)
        if query.resource_ids:
            body["resource_ids"] = list(query.resource_ids)
        if query.resource_kind is not None:
            if query.resource_kind not in RESOURCE_TYPES:
                return []
            body["resource_type"] = RESOURCE_TYPES[query.resource_kind]
        if query.tags:
            body["labels"] = dict(query.tags)
        return [flow_log_from_record(r) for r in self._pages("ListFlowLogs", body, "flow_logs")]

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        """ListFlowLogs by id, 20 ids a call (the hint is not needed: ids are looked up directly)."""
        wanted = list(dict.fromkeys(ids))
        found: dict[str, FlowLog] = {}
        for start in range(0, len(wanted), _PAGE):
            for flow_log in self.describe(DescribeQuery(ids=tuple(wanted[start : start + _PAGE]))):
                found[flow_log.id] = flow_log
        return found

    def delete(self, ids: Sequence[str]) -> DeleteOutcome:
        """DeleteFlowLog per id; each failure reported for its id."""
        outcome = DeleteOutcome()
        for flow_log_id in dict.fromkeys(ids):
            try:
                self._call("DeleteFlowLog", {"id": flow_log_id}, resource_id=flow_log_id)
            except ProviderError as exc:
                outcome.failed.append(ResourceFailure(flow_log_id, exc))
            else:
                outcome.deleted.append(flow_log_id)
        return outcome

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own connection."""

    # -- the optional RegionLister protocol (multiflow.accounts) -------------------------------------------------

    def list_regions(self) -> RegionListing:
        """ListRegions: the regions this session's account has enabled, and the opt-in ones it has not."""
        answer = call(self._api, "ListRegions", {}, max_attempts=self.max_attempts)
        regions = answer.get("regions") or []
        return RegionListing(
            enabled=[r["name"] for r in regions if r.get("status") == "ENABLED"],
            skipped={
                r["name"]: "an opt-in region this account has not enabled"
                for r in regions
                if r.get("status") != "ENABLED"
            },
        )

    # -- the optional ResourceLister protocol ------------------------------------------------------------------

    def list_resources(self, kind: ResourceKind, tags: Mapping[str, str | None]) -> list[str]:
        """Ids of every network (``vpc``) or subnetwork (``subnet``) whose labels match, every page."""
        return [r["id"] for r in self._resources(kind, tags, "resources.where")]

    # -- the optional ResourceInventory protocol -----------------------------------------------------------------

    def inventory(self, kinds: Sequence[ResourceKind]) -> list[CloudResource]:
        """Every network and subnetwork of ``kinds`` with its network and labels, one paginated listing per kind."""
        return [
            CloudResource(kind=kind, id=r["id"], vpc_id=r.get("network"), tags=dict(r.get("labels") or {}))
            for kind in dict.fromkeys(kinds)
            for r in self._resources(kind, {}, "kinds")
        ]

    def _resources(self, kind: ResourceKind, tags: Mapping[str, str | None], field: str) -> list[dict[str, Any]]:
        if kind not in RESOURCE_TYPES:
            raise UnsupportedFeature(field, kind.value, [k.value for k in RESOURCE_TYPES], provider="example")
        body = {"resource_type": RESOURCE_TYPES[kind], "labels": dict(tags)}
        return list(self._pages("ListResources", body, "resources"))


def _for_resource(error: ProviderError, resource_id: str) -> ProviderError:
    """A whole-call error, told again for one resource of the call."""
    return type(error)(
        error.provider,
        error.code,
        error.message,
        request_id=error.request_id,
        operation=error.operation,
        http_status=error.http_status,
        resource_id=resource_id,
        retryable=error.retryable,
    )
