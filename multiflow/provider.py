"""The contract between multiflow's core and a provider plugin.

A plugin registers a :class:`Provider` (see :mod:`multiflow.hookspecs`). The core checks specs against the
provider's :attr:`~Provider.capabilities`, then calls :meth:`Provider.validate` for the provider's own rules,
then :meth:`Provider.connect` for a :class:`ProviderSession` bound to one region of one account, and drives it.
Providers know nothing of planning or waiting; the core knows nothing of any cloud.

A provider module must import its cloud SDK only inside ``connect`` (or modules ``connect`` imports), so that
``import multiflow`` and ``multiflow providers`` stay fast and work without the SDK installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from multiflow.errors import ResourceFailure
from multiflow.model import Capabilities, CloudResource, FlowLog, FlowLogStatus
from multiflow.spec import FlowLogSpec, ResourceKind

__all__ = [
    "CreateOutcome",
    "DeleteOutcome",
    "DescribeQuery",
    "ModifyChanges",
    "Provider",
    "ProviderSession",
    "ResourceInventory",
    "ResourceLister",
    "Sandbox",
]


@dataclass
class CreateOutcome:
    """What a create call did: flow logs made (possibly still activating) and resources that failed."""

    created: list[FlowLog] = field(default_factory=list)
    failed: list[ResourceFailure] = field(default_factory=list)


@dataclass
class DeleteOutcome:
    """What a delete call did: ids accepted for deletion and ids that failed."""

    deleted: list[str] = field(default_factory=list)
    failed: list[ResourceFailure] = field(default_factory=list)


@dataclass(frozen=True)
class DescribeQuery:
    """Which flow logs to describe; empty means all in the region. Criteria combine with AND.

    :param ids: flow log ids.
    :param resource_ids: ids of watched resources.
    :param resource_kind: only flow logs on this kind of resource.
    :param tags: tag key → value that must all match; a value of ``None`` matches any value of the key.
    :param include_raw: keep each cloud record in ``FlowLog.raw``; plan turns it off to read 100,000 flow logs
        in less memory. A provider may ignore it (and keep the records).
    """

    ids: tuple[str, ...] = ()
    resource_ids: tuple[str, ...] = ()
    resource_kind: ResourceKind | None = None
    tags: Mapping[str, str | None] = field(default_factory=dict)
    include_raw: bool = True


@dataclass(frozen=True)
class ModifyChanges:
    """Attributes to change in place; ``None`` leaves one as it is. ``interval`` is in seconds."""

    name: str | None = None
    description: str | None = None
    interval: int | None = None


@runtime_checkable
class ProviderSession(Protocol):
    """One region of one account, with credentials resolved. Every method may raise a ProviderError."""

    provider: str
    region: str

    def create(self, specs: Sequence[FlowLogSpec], *, extra_tags: Mapping[str, str], dry_run: bool) -> CreateOutcome:
        """Create one flow log per resource id of each (already validated) spec.

        Batch and parallelise as the cloud allows; put ``extra_tags`` beside each spec's tags; report each
        resource that failed in ``failed`` instead of raising, so that nothing that succeeded is lost.
        With ``dry_run``, make no change and raise ``DryRunSucceeded`` when the call would pass.
        """
        ...

    def describe(self, query: DescribeQuery) -> list[FlowLog]:
        """Every flow log matching ``query``, across all pages."""
        ...

    def get(self, ids: Sequence[str], *, transitional: FlowLogStatus | None = None) -> dict[str, FlowLog]:
        """The current state of ``ids`` in as few calls as the cloud allows; ids that are gone are absent.

        ``transitional`` hints the state most of the ids are in while being waited on (e.g. ``activating``),
        so a provider can list that state a page at a time instead of asking once per id.
        """
        ...

    def delete(self, ids: Sequence[str]) -> DeleteOutcome:
        """Delete flow logs by id, batched; report ids that failed in ``failed``."""
        ...

    def start(self, ids: Sequence[str]) -> DeleteOutcome:
        """Start (activate) stopped flow logs; only where ``capabilities.start_stop``."""
        ...

    def stop(self, ids: Sequence[str]) -> DeleteOutcome:
        """Stop (deactivate) flow logs without deleting them; only where ``capabilities.start_stop``."""
        ...

    def modify(self, flow_log_id: str, changes: ModifyChanges) -> None:
        """Change attributes in place; only those in ``capabilities.modifiable``."""
        ...

    def close(self) -> None:
        """Release connections and threads."""
        ...


@runtime_checkable
class Provider(Protocol):
    """A cloud, as a plugin offers it. Cheap to construct: no SDK import, no network."""

    name: str
    capabilities: Capabilities

    def validate(self, spec: FlowLogSpec) -> None:
        """Refuse, with a SpecError, what this provider's own rules forbid; after the capability checks."""
        ...

    def connect(self, region: str, **options: Any) -> ProviderSession:
        """A session for ``region``. Options are the provider's own (credentials, endpoint, retries...)."""
        ...


@runtime_checkable
class ResourceLister(Protocol):
    """A session that can list resources by kind and tags (for fleet selectors and audits). Optional."""

    def list_resources(self, kind: ResourceKind, tags: Mapping[str, str | None]) -> list[str]:
        """Ids of every resource of ``kind`` in the region whose tags match (``None``: any value), all pages."""
        ...


@runtime_checkable
class ResourceInventory(Protocol):
    """A session that can list its resources with their hierarchy, in bulk (for audits). Optional.

    >>> session.inventory([ResourceKind.SUBNET])                                  # doctest: +SKIP
    [CloudResource(kind=<ResourceKind.SUBNET: 'subnet'>, id='subnet-1', vpc_id='vpc-1', subnet_id=None, tags={})]
    """

    def inventory(self, kinds: Sequence[ResourceKind]) -> list[CloudResource]:
        """Every resource of ``kinds`` in the region, with its VPC (and, for an ENI, its subnet) and tags.

        One paginated listing per kind, at the cloud's largest page; never a call per resource. A kind the
        provider cannot list is an UnsupportedFeature.
        """
        ...


@runtime_checkable
class Sandbox(Protocol):
    """A provider's offline stand-in on loopback, for ``--sandbox`` runs and ``multiflow sandbox serve``. Optional.

    A provider offers one by having a ``sandbox()`` method that returns an object like this.
    """

    provider: str

    def start(self) -> None:
        """Start serving on 127.0.0.1 (a free port)."""
        ...

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        ...

    def connect_options(self, region: str) -> dict[str, Any]:
        """Keyword arguments for ``multiflow.connect(provider, region=region, **options)``."""
        ...

    def environment(self) -> dict[str, str]:
        """Environment variables that point the SDK (and multiflow) at this sandbox."""
        ...

    def prepare(
        self,
        region: str,
        kind: ResourceKind,
        ids: Sequence[str] | None,
        tags: Mapping[str, str | None] | None,
        destination: Any,
    ) -> None:
        """Seed what a fleet entry needs: the resources it names (or a few matching its selector) and its
        destination, so the real job can run against the sandbox."""
        ...

    def seed_demo(self) -> dict[str, Any]:
        """Seed a small demo estate and return a description of it (for ``sandbox serve``)."""
        ...
