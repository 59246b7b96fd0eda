"""The contract between multiflow's core and a provider plugin, on one screen.

A plugin registers a :class:`Provider` (see :mod:`multiflow.hookspecs`)::

    class MyCloud(multiflow.provider.Provider):
        name = "mycloud"
        capabilities = Capabilities(provider="mycloud", ...)   # what the cloud takes, as data
        options = MyCloudOptions                                # optional: the `mycloud:` block's model
        destinations = (MyBucket,)                              # optional: destination kinds it adds

        def connect(self, region, **options):                   # the one required method
            from mycloud_plugin.session import MySession      # the SDK is imported here, not above
            return MySession(region, **options)

The core checks a spec against ``capabilities`` and then :meth:`Provider.validate`, then drives the session
:meth:`Provider.connect` returns: a :class:`ProviderSession` (create, describe, get, delete, close), bound to one
region of one account. What only some clouds do is an optional protocol the session may also satisfy, checked by
the core with ``isinstance``: :class:`StartStop`, :class:`Modifiable`, :class:`ResourceLister`,
:class:`ResourceInventory`, :class:`TagWriter`. The capability flags that describe them (``start_stop``,
``modifiable``) are checked against the session when it is made, so no provider writes a method that only raises.

Providers know nothing of planning or waiting; the core knows nothing of any cloud.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from multiflow.accounts import DEFAULT_ACCOUNT, AccountListing, AccountSource
from multiflow.errors import ResourceFailure, UnsupportedFeature
from multiflow.model import Capabilities, CloudResource, FlowLog, FlowLogStatus
from multiflow.spec import Destination, FlowLogSpec, ProviderOptions, ResourceKind

__all__ = [
    "CreateOutcome",
    "DeleteOutcome",
    "DescribeQuery",
    "Modifiable",
    "ModifyChanges",
    "Provider",
    "ProviderSession",
    "ResourceChecker",
    "ResourceInventory",
    "ResourceLister",
    "Sandbox",
    "ServiceOptIn",
    "StartStop",
    "SwitchOutcome",
    "TagWriter",
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


@dataclass
class SwitchOutcome:
    """What a start or stop call did: ids the cloud accepted to switch, and ids that failed."""

    switched: list[str] = field(default_factory=list)
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
    """Attributes to change in place; ``None`` leaves one as it is. ``interval`` is in seconds.

    :param tags: the flow log's user tags as they should be, whole: the session adds the missing, changes the
        different and removes the others, and never touches multiflow's own (``multiflow:`` keys).
    :param options: option fields of the provider's block to change, by field name (those in
        ``capabilities.modifiable`` as ``options.FIELD``).
    """

    name: str | None = None
    description: str | None = None
    interval: int | None = None
    tags: Mapping[str, str] | None = None
    options: Mapping[str, Any] | None = None


@runtime_checkable
class ProviderSession(Protocol):
    """One region of one account, with credentials resolved: what every cloud can do.

    Every method may raise a :class:`~multiflow.errors.ProviderError`.
    """

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

    def close(self) -> None:
        """Release connections and threads."""
        ...


@runtime_checkable
class StartStop(Protocol):
    """A session whose cloud stops flow logs without deleting them (``capabilities.start_stop``). Optional."""

    def start(self, ids: Sequence[str]) -> SwitchOutcome:
        """Start (activate) stopped flow logs."""
        ...

    def stop(self, ids: Sequence[str]) -> SwitchOutcome:
        """Stop (deactivate) flow logs, keeping them."""
        ...


@runtime_checkable
class Modifiable(Protocol):
    """A session whose cloud changes attributes in place (those in ``capabilities.modifiable``). Optional."""

    def modify(self, flow_log_id: str, changes: ModifyChanges) -> None:
        """Change the given attributes of one flow log in place."""
        ...


@runtime_checkable
class ServiceOptIn(Protocol):
    """A session whose cloud makes an account open its flow-log service once before any flow log (Alibaba's
    OpenFlowLogService). Optional; ``multiflow open-service`` is the explicit opt-in from the command line."""

    def service_opened(self, *, refresh: bool = False) -> bool:
        """Whether the account has opened the flow-log service."""
        ...

    def open_service(self) -> None:
        """Open the account's flow-log service (harmless when it is open)."""
        ...


@runtime_checkable
class TagWriter(Protocol):
    """A session that adds tags to flow logs in place, overwriting those of the same key, multiflow's own
    ``multiflow:`` tags included (AWS CreateTags, Alibaba TagResources): what ``multiflow adopt`` needs. Optional.
    """

    def add_tags(self, flow_log_ids: Sequence[str], tags: Mapping[str, str]) -> None:
        """Tag every flow log of ``flow_log_ids`` with ``tags``; raise a ProviderError on a refusal."""
        ...


@runtime_checkable
class ResourceLister(Protocol):
    """A session that can list resources by kind and tags (for fleet selectors and audits). Optional."""

    def list_resources(self, kind: ResourceKind, tags: Mapping[str, str | None]) -> list[str]:
        """Ids of every resource of ``kind`` in the region whose tags match (``None``: any value), all pages."""
        ...


@runtime_checkable
class ResourceChecker(Protocol):
    """A session that can tell which of some resource ids exist without listing the region. Optional.

    Plan asks it about the ids a fleet names where it would create a flow log, to warn of the ones that are not
    there before any create fails on them; without it, plan lists the region's resources of the kind
    (:class:`ResourceLister`), which costs calls in proportion to the region rather than to the fleet, and a
    session with neither is not checked. Only kinds in ``capabilities.selectable_kinds`` are asked about; a kind
    the session cannot check is a :class:`~multiflow.errors.SpecError`, and a check that fails (an outage) only
    leaves the warning out.
    """

    def existing_resources(self, kind: ResourceKind, ids: Sequence[str]) -> set[str]:
        """Those of ``ids`` (resources of ``kind``) that exist in the region, in the fewest calls the cloud
        allows (filtered by id, or a listing where that is fewer calls)."""
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
    """A provider's offline stand-in on loopback, for ``--sandbox`` runs and ``multiflow sandbox serve``.

    Returned by :meth:`Provider.sandbox` where the provider has one.
    """

    provider: str

    def start(self) -> object:
        """Start serving on 127.0.0.1 (a free port); what it returns is not used (``self``, often)."""
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
        destination: Destination,
        *,
        account: str = DEFAULT_ACCOUNT,
    ) -> None:
        """Seed what a fleet entry needs: the resources it names (or a few matching its selector) and its
        destination, so the real job can run against the sandbox; in ``account`` (an account id of the sandbox's
        organization; the default: the account its ``connect_options`` enter)."""
        ...

    def seed_demo(self) -> dict[str, Any]:
        """Seed a small demo estate and return a description of it (for ``sandbox serve``)."""
        ...


class Provider:
    """A cloud, as a plugin offers it: subclass it, set the data, write :meth:`connect`.

    Constructing one must be cheap: no SDK import, no network (``multiflow providers`` builds every one).
    ``name`` is the provider's name as fleet files and ``connect`` say it; ``capabilities`` what the cloud takes,
    as data; ``options`` the model of its options block (``options: {name: ...}``, ``name:`` in a fleet file),
    or ``None``; ``destinations`` the destination models it adds, each with a ``kind`` of its own (a kind is
    declared by one provider only; another may write to it by naming it in its capabilities).
    ``profile_option`` is the ``connect`` option that names a profile of the SDK's shared configuration (what
    ``multiflow --profile PROVIDER=NAME`` sets), or ``None`` where the SDK has no profiles.
    ``accounts`` is the model of one item of a fleet's ``accounts: {name: [...]}`` (a subclass of
    :class:`~multiflow.accounts.AccountSource`), or ``None`` where the provider covers one account only; a provider
    that sets it implements :meth:`list_accounts`.
    """

    name: ClassVar[str]
    capabilities: ClassVar[Capabilities]
    options: ClassVar[type[ProviderOptions] | None] = None
    destinations: ClassVar[tuple[type[Destination], ...]] = ()
    profile_option: ClassVar[str | None] = None
    accounts: ClassVar[type[AccountSource] | None] = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def connect(self, region: str, **options: Any) -> ProviderSession:
        """A session for ``region``. ``options`` are the provider's own (credentials, endpoint, retries...)."""
        raise NotImplementedError(f"{type(self).__name__} must implement connect(region, **options)")

    def validate(self, spec: FlowLogSpec) -> None:
        """Refuse, with a SpecError, what this provider's own rules forbid; runs after the capability checks."""
        return None

    def validate_changes(self, changes: ModifyChanges) -> None:
        """Refuse, with a SpecError, in-place changes this provider's own rules forbid (the same rules as
        :meth:`validate` for a spec's name, description, tags and options); runs before ``modify`` calls the
        cloud. The default: nothing more to check."""
        return None

    def normalize(self, spec: FlowLogSpec, region: str) -> FlowLogSpec:
        """``spec`` as the cloud will report it back (a bucket name as its ARN...), so plans compare like with
        like. The default: as it is."""
        return spec

    def destination_identity(self, destination: Destination, region: str) -> Hashable:
        """What the cloud compares when it refuses a second flow log on a resource "to the same destination"
        (plan's conflicts use it). The default: the whole destination; a cloud that ignores some of its settings
        (AWS: file format, partitions) returns only what it compares."""
        return destination

    def sandbox(self) -> Sandbox | None:
        """This provider's offline stand-in, or ``None`` where it has none."""
        return None

    def list_accounts(self, sources: Sequence[AccountSource], **options: Any) -> AccountListing:
        """The accounts ``sources`` (items of the ``accounts`` model) cover, each with the ``connect`` options that
        enter it. ``options`` are the run's own connect options (endpoints, a profile): the calling identity's.

        List organizations in bulk, resolve an explicit account's id (one identity call), and report a source or
        member that cannot be listed or entered as a failure in the listing instead of raising, so that the
        others go on. The default: this provider covers one account.
        """
        raise UnsupportedFeature("accounts", [s.label() for s in sources], "one account only", provider=self.name)

    def home_region(self) -> str:
        """The region to ask account-wide questions in (the regions an account can use, its identity): the
        configured default region, else the first of ``capabilities.regions``, else ``us-east-1``."""
        return self.default_region() or (self.capabilities.regions[0] if self.capabilities.regions else "us-east-1")

    def default_region(self) -> str | None:
        """The region the user's SDK configuration names (an environment variable, a profile), for commands that
        need one and were given none; ``None`` where there is none. Must not call the cloud."""
        return None
