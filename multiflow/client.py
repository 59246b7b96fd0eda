"""The neutral client: :func:`connect` to one region of one provider, then create, describe, wait and delete.

Everything the client does is the same for every cloud: check specs (capabilities, then the provider's own
rules) before any API call, hand the work to the provider's session, wait under a deadline where the cloud is
asynchronous, and turn per-resource failures into a :class:`PartialFailure` that keeps what succeeded.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from multiflow.accounts import DEFAULT_ACCOUNT, Account
from multiflow.errors import (
    NotFound,
    PartialFailure,
    ResourceFailure,
    UnsupportedFeature,
    WaitTimeout,
)
from multiflow.model import Capabilities, FlowLog, FlowLogStatus
from multiflow.plugins import PluginError, get_provider
from multiflow.provider import (
    DescribeQuery,
    Modifiable,
    ModifyChanges,
    Provider,
    ProviderSession,
    ResourceLister,
    StartStop,
)
from multiflow.spec import FlowLogSpec, ResourceKind
from multiflow.validate import check, check_region, resolve_interval
from multiflow.wait_schedule import ages_of
from multiflow.waiting import GONE, Progress, wait_until

__all__ = ["Client", "Connections", "connect"]

DEFAULT_TIMEOUT = 600.0


def connect(provider: str, region: str, **options: Any) -> Client:
    """A :class:`Client` for ``region`` of ``provider`` (``"aws"``, ``"alibaba"`` or a plugin's name).

    ``options`` go to the provider: credentials, ``endpoint_url``/``endpoint`` for a sandbox, retry settings.
    Credentials otherwise come from the cloud's standard chain (environment, profile, instance role).
    """
    found = get_provider(provider)
    # Before any client is built: an SDK may make a host name of the region by string replacement.
    check_region(region, found.capabilities)
    return Client(found, found.connect(region, **options))


def _as_list(specs: FlowLogSpec | Iterable[FlowLogSpec]) -> list[FlowLogSpec]:
    if isinstance(specs, FlowLogSpec):
        return [specs]
    listed = list(specs)
    for index, spec in enumerate(listed):
        if not isinstance(spec, FlowLogSpec):
            raise TypeError(f"specs[{index}] is {type(spec).__name__}, not FlowLogSpec")
    return listed


def _raise_for(operation: str, succeeded: Sequence[FlowLog | str], failed: list[ResourceFailure]) -> None:
    """One failure and nothing else: raise it as it is. Otherwise a PartialFailure listing both sides."""
    if not failed:
        return
    if not succeeded and len(failed) == 1:
        raise failed[0].error
    raise PartialFailure(operation, succeeded, failed)


class Client:
    """One region of one provider. Use :func:`connect` to make one; close it (or use ``with``) when done."""

    def __init__(self, provider: Provider, session: ProviderSession, *, account: str = DEFAULT_ACCOUNT) -> None:
        _check_session(provider, session)
        self.provider = provider
        self.session = session
        #: The account id this client works in (:data:`~multiflow.accounts.DEFAULT_ACCOUNT`: the SDK chain's).
        self.account = account

    def __repr__(self) -> str:
        where = f" {self.account}" if self.account else ""
        return f"<multiflow.Client {self.provider.name}{where} {self.session.region}>"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def capabilities(self) -> Capabilities:
        """What this provider can take."""
        return self.provider.capabilities

    @property
    def region(self) -> str:
        """The region this client works in."""
        return self.session.region

    def validate(self, specs: FlowLogSpec | Iterable[FlowLogSpec]) -> list[FlowLogSpec]:
        """Check specs against this provider, without any API call; raise the first SpecError."""
        listed = _as_list(specs)
        for spec in listed:
            check(spec, self.provider)
        return listed

    def create(
        self,
        specs: FlowLogSpec | Iterable[FlowLogSpec],
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        dry_run: bool = False,
        extra_tags: Mapping[str, str] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> list[FlowLog]:
        """Create a flow log for every resource id of every spec.

        :param wait: wait until every new flow log is active (Alibaba activates asynchronously).
        :param timeout: seconds to wait at most; past it, :class:`WaitTimeout` names the ids still pending.
        :param dry_run: ask the cloud whether the call would pass, changing nothing (``DryRunSucceeded``).
        :param extra_tags: tags added beside each spec's own (multiflow's ownership tags, for instance).
        :returns: the flow logs created, active if ``wait`` (else as the cloud reports them at once).
        :raises PartialFailure: some resources failed; it lists them and every flow log created.
        """
        return self.create_checked(
            self.validate(specs),
            wait=wait,
            timeout=timeout,
            dry_run=dry_run,
            extra_tags=extra_tags,
            on_progress=on_progress,
        )

    def create_checked(
        self,
        specs: Sequence[FlowLogSpec],
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        dry_run: bool = False,
        extra_tags: Mapping[str, str] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> list[FlowLog]:
        """:meth:`create` for specs already checked against this provider (by :meth:`validate` or
        :func:`multiflow.validate.validate_fleet`), so that each spec is validated once."""
        listed = list(specs)
        if dry_run and not self.capabilities.dry_run:
            raise UnsupportedFeature("dry_run", True, "no dry run", provider=self.provider.name)
        outcome = self.session.create(listed, extra_tags=dict(extra_tags or {}), dry_run=dry_run)
        created = outcome.created
        failed = list(outcome.failed)
        pending = [f.id for f in created if f.status != FlowLogStatus.ACTIVE]
        if wait and pending:
            try:
                waited = wait_until(
                    self.session,
                    pending,
                    FlowLogStatus.ACTIVE,
                    timeout=timeout,
                    on_progress=on_progress,
                    ages=ages_of(created),
                )
            except WaitTimeout as exc:
                raise exc.with_created(created) from exc.__cause__
            resource_of = {f.id: f.resource.id for f in created}
            # Report wait failures by resource, like create failures; the error names the flow log.
            failed += [ResourceFailure(resource_of.get(f.resource_id, f.resource_id), f.error) for f in waited.failed]
            failed_ids = {f.resource_id for f in waited.failed}
            created = [(waited.done.get(f.id) or f) for f in created if f.id not in failed_ids]
        _raise_for("create", created, failed)
        return created

    def describe(
        self,
        *,
        ids: Iterable[str] = (),
        resource_ids: Iterable[str] = (),
        resource_kind: ResourceKind | str | None = None,
        tags: Mapping[str, str | None] | None = None,
        include_raw: bool = True,
    ) -> list[FlowLog]:
        """Flow logs in this region matching every given criterion (all of them when none is given).

        ``include_raw=False`` leaves ``FlowLog.raw`` empty where the provider can, to read many in less memory.
        """
        query = DescribeQuery(
            ids=tuple(ids),
            resource_ids=tuple(resource_ids),
            resource_kind=ResourceKind(resource_kind) if resource_kind else None,
            tags=dict(tags or {}),
            include_raw=include_raw,
        )
        return self.session.describe(query)

    def get(self, flow_log_id: str) -> FlowLog:
        """One flow log by id; :class:`NotFound` if there is none."""
        found = self.session.get([flow_log_id]).get(flow_log_id)
        if found is None:
            raise NotFound(
                self.provider.name, "NotFound", f"no flow log {flow_log_id} in {self.region}", resource_id=flow_log_id
            )
        return found

    def wait(
        self,
        ids: Iterable[str],
        until: FlowLogStatus | str = FlowLogStatus.ACTIVE,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> list[FlowLog]:
        """Wait until every id is ``until`` (a status, or ``"gone"``); raise if any settles otherwise."""
        wanted = until if until == GONE else FlowLogStatus(until)
        waited = wait_until(self.session, ids, wanted, timeout=timeout, on_progress=on_progress)
        done = [flow_log for flow_log in waited.done.values() if flow_log is not None]
        _raise_for(f"wait for {wanted if isinstance(wanted, str) else wanted.value}", done, waited.failed)
        return done

    def delete(
        self,
        ids: str | Iterable[str],
        *,
        wait: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        on_progress: Callable[[Progress], None] | None = None,
    ) -> list[str]:
        """Delete flow logs by id; with ``wait``, until the cloud no longer lists them.

        :returns: the ids deleted.
        :raises PartialFailure: some ids could not be deleted (not found, busy...); it lists each.
        """
        listed = [ids] if isinstance(ids, str) else list(dict.fromkeys(ids))
        outcome = self.session.delete(listed)
        deleted, failed = outcome.deleted, list(outcome.failed)
        if wait and deleted and self.capabilities.async_activation:
            waited = wait_until(self.session, deleted, GONE, timeout=timeout, on_progress=on_progress)
            failed += waited.failed
            gone = set(waited.done)
            deleted = [i for i in deleted if i in gone]
        _raise_for("delete", deleted, failed)
        return deleted

    def _needs(self, feature: str, value: object, supported: bool, offered: str) -> None:
        if not supported:
            raise UnsupportedFeature(feature, value, offered, provider=self.provider.name)

    def start(self, ids: Iterable[str], *, wait: bool = True, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """Start stopped flow logs (Alibaba ``ActiveFlowLog``); with ``wait``, until active."""
        return self._switch("start", ids, FlowLogStatus.ACTIVE, "delete and create instead", wait, timeout)

    def stop(self, ids: Iterable[str], *, wait: bool = True, timeout: float = DEFAULT_TIMEOUT) -> list[str]:
        """Stop flow logs without deleting them (Alibaba ``DeactiveFlowLog``); with ``wait``, until inactive."""
        return self._switch("stop", ids, FlowLogStatus.INACTIVE, "delete instead", wait, timeout)

    def _switch(
        self, action: str, ids: Iterable[str], wanted: FlowLogStatus, instead: str, wait: bool, timeout: float
    ) -> list[str]:
        listed = list(ids)
        session = self.session
        if not isinstance(session, StartStop):
            raise UnsupportedFeature(action, listed, instead, provider=self.provider.name)
        outcome = session.start(listed) if action == "start" else session.stop(listed)
        switched, failed = outcome.switched, list(outcome.failed)
        if wait and switched:
            waited = wait_until(self.session, switched, wanted, timeout=timeout)
            failed += waited.failed
            switched = [i for i in switched if i in waited.done]
        _raise_for(action, switched, failed)
        return switched

    def modify(
        self,
        flow_log_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        interval: int | None = None,
        tags: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> FlowLog:
        """Change a flow log in place (where the provider can), and return it as the cloud then reports it.

        :param tags: the user tags as they should be, whole (multiflow's own tags are kept as they are).
        :param options: fields of the provider's options block to change, by name (``ip_version``...).
        """
        changes: dict[str, object] = {"name": name, "description": description, "interval": interval, "tags": tags}
        changes.update({f"options.{key}": value for key, value in (options or {}).items()})
        for field_name, value in changes.items():
            if value is not None:
                self._needs(
                    field_name,
                    value,
                    field_name in self.capabilities.modifiable,
                    f"in-place changes of {', '.join(self.capabilities.modifiable) or 'nothing'}",
                )
        session = self.session
        if not isinstance(session, Modifiable):
            raise UnsupportedFeature("modify", flow_log_id, "no in-place change", provider=self.provider.name)
        changes_made = ModifyChanges(name=name, description=description, interval=interval, tags=tags, options=options)
        self.provider.validate_changes(changes_made)  # the provider's own input rules, before any call
        if interval is not None:
            kind = self.get(flow_log_id).resource.kind
            if kind is not None:
                resolve_interval(kind, interval, self.capabilities)
        session.modify(flow_log_id, changes_made)
        return self.get(flow_log_id)

    def close(self) -> None:
        """Release the provider session's connections."""
        self.session.close()


def _check_session(provider: Provider, session: ProviderSession) -> None:
    """Refuse a session whose optional protocols contradict its provider's capability flags."""
    caps = provider.capabilities
    declared = {"start_stop": caps.start_stop, "modifiable": bool(caps.modifiable)}
    offered = {"start_stop": isinstance(session, StartStop), "modifiable": isinstance(session, Modifiable)}
    for flag, value in declared.items():
        if value != offered[flag]:
            protocol = "StartStop" if flag == "start_stop" else "Modifiable"
            has = "has" if offered[flag] else "lacks"
            raise PluginError(
                f"provider {provider.name!r}: capabilities say {flag}={caps.model_dump()[flag]!r} but its session "
                f"{has} the {protocol} methods (multiflow.provider.{protocol})"
            )
    if caps.selectable_kinds and not isinstance(session, ResourceLister):
        raise PluginError(
            f"provider {provider.name!r}: capabilities name selectable_kinds but its session lacks list_resources "
            "(multiflow.provider.ResourceLister)"
        )


class Connections:
    """One client per (provider, account, region), made on first use and shared; thread-safe. Close when done.

    :param options_for: connect options for a (provider, region), e.g. a sandbox's endpoint; none by default.
        They are the calling identity's; an :class:`~multiflow.accounts.Account` adds the options that enter it.
    """

    def __init__(self, options_for: Callable[[str, str], dict[str, Any]] | None = None) -> None:
        self._options_for = options_for or (lambda provider, region: {})
        self._clients: dict[tuple[str, str, str], Client] = {}
        self._lock = threading.Lock()

    def options(self, provider: str, region: str) -> dict[str, Any]:
        """The run's own connect options for ``provider`` in ``region`` (the calling identity's)."""
        return dict(self._options_for(provider, region))

    def client(self, provider: str, region: str, account: Account | None = None) -> Client:
        """The client for ``provider`` in ``region`` of ``account`` (``None``: the calling identity's account).

        Clients are made outside the pool's lock, so that one slow connect (an AssumeRole) does not hold up the
        others; two threads asking for the same new client at once may both connect, and one client is kept.
        """
        key = (provider, account.id if account is not None else DEFAULT_ACCOUNT, region)
        with self._lock:
            found = self._clients.get(key)
        if found is not None:
            return found
        options = self.options(provider, region)
        if account is not None:
            options.update(account.connect_options)
        made = connect(provider, region=region, **options)
        made.account = key[1]
        with self._lock:
            kept = self._clients.setdefault(key, made)
        if kept is not made:
            made.close()
        return kept

    def use(self, client: Client) -> None:
        """Use a ready client for its provider, account and region (e.g. one made with custom options)."""
        with self._lock:
            self._clients[(client.provider.name, client.account, client.region)] = client

    def close(self) -> None:
        """Close every client made."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def __enter__(self) -> Connections:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
