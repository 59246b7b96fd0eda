"""Providers' offline sandboxes on loopback, started, seeded and connected to: what ``--sandbox`` runs use.

A fleet, planned and applied against fresh sandboxes seeded with what it names (its resources, or a few that
match its selectors, and its destinations); every sandbox is stopped on the way out::

    import multiflow

    fleet = multiflow.load("docs/examples/fleet.yaml")
    with multiflow.sandbox.prepared(fleet) as connections:
        plan = multiflow.plan(fleet, connections)
        result = multiflow.apply(plan, connections, timeout=60)
        print(multiflow.plan(fleet, connections).pending)  # [] once applied

Sandboxes of a few providers with their demo estates, for an audit or a listing::

    with multiflow.sandbox.demo(["aws", "alibaba"]) as connections:
        report = multiflow.audit(["aws", "alibaba"], {"aws": ["us-east-1"], "alibaba": ["cn-hangzhou"]},
                                 connections=connections)

:func:`started` gives the sandboxes themselves (their ``environment()``, ``seed_demo()``...), and
:func:`connections_to` connections to sandboxes you started. A provider offers a sandbox through its plugin
(:meth:`Provider.sandbox() <multiflow.provider.Provider.sandbox>`, ``None`` where it has none).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager

from multiflow.accounts import DEFAULT_ACCOUNT
from multiflow.client import Connections
from multiflow.errors import MultiflowError
from multiflow.fleet import Fleet, Target
from multiflow.plugins import get_provider, providers
from multiflow.provider import Sandbox
from multiflow.scope import resolve

__all__ = ["NoSandbox", "connections_to", "demo", "prepare", "prepare_fleet", "prepared", "started", "tune"]


class NoSandbox(MultiflowError):
    """A provider whose plugin offers no sandbox was asked for one."""

    def __init__(self, provider: str) -> None:
        super().__init__(f"provider {provider!r} offers no sandbox")
        self.provider = provider


@contextmanager
def started(names: Iterable[str] | None = None) -> Iterator[dict[str, Sandbox]]:
    """The sandboxes of the providers ``names`` (``None``: of every provider that offers one), by provider name,
    each started on 127.0.0.1; all stopped on the way out, also when one fails to start.

    :raises NoSandbox: a provider named offers no sandbox (none is left running).
    """
    chosen = sorted(providers()) if names is None else list(names)
    boxes: dict[str, Sandbox] = {}
    with ExitStack() as stack:
        for name in chosen:
            sandbox = get_provider(name).sandbox()
            if sandbox is None:
                if names is None:
                    continue
                raise NoSandbox(name)
            sandbox.start()
            stack.callback(sandbox.stop)
            boxes[name] = sandbox
        yield boxes


def tune(boxes: Mapping[str, Sandbox], **knobs: float | None) -> list[str]:
    """Pass ``sandbox serve``'s knobs (``activation_delay``, ``deletion_delay``, ``latency``, ``throttle_rate``,
    ``server_error_rate``; ``None`` for unset) to every sandbox that has a ``tune`` method (an optional part of the
    Sandbox protocol); returns the providers whose sandbox has none, when any knob was set."""
    wanted = {k: v for k, v in knobs.items() if v is not None}
    untuned: list[str] = []
    for name, box in boxes.items():
        method = getattr(box, "tune", None)
        if method is None:
            untuned.append(name)
        elif wanted:
            method(**wanted)
    return untuned if wanted else []


def connections_to(boxes: Mapping[str, Sandbox]) -> Connections:
    """:class:`~multiflow.client.Connections` whose clients talk to these sandboxes (by provider name)."""
    return Connections(lambda provider, region: boxes[provider].connect_options(region))


def prepare(sandbox: Sandbox, fleet: Fleet, target: Target) -> None:
    """Seed ``sandbox`` with what one entry of ``fleet`` needs in one region of one account (a target of
    :func:`multiflow.scope.resolve`): its resources and destination."""
    entry = target.entry
    tags = entry.resources.tag_filter() if entry.resources.where is not None else None
    where = {"account": target.account} if target.account != DEFAULT_ACCOUNT else {}
    sandbox.prepare(target.region, entry.resources.kind, entry.resources.ids, tags, target.spec.destination, **where)


def prepare_fleet(boxes: Mapping[str, Sandbox], fleet: Fleet, connections: Connections) -> None:
    """Seed ``boxes`` with what every entry of ``fleet`` needs in every account and region it covers there (the
    sandboxes' organizations listed and their regions read through ``connections``, as a run would)."""
    missing = sorted({e.provider for e in fleet.flow_logs} - set(boxes))
    if missing:
        raise NoSandbox(missing[0])
    for target in resolve(fleet, connections).targets:
        prepare(boxes[target.entry.provider], fleet, target)


@contextmanager
def prepared(fleet: Fleet) -> Iterator[Connections]:
    """Connections to fresh sandboxes of every provider ``fleet`` names, seeded with what each entry needs in each
    of its accounts and regions; closed and stopped on the way out.

    :raises NoSandbox: a provider of the fleet offers no sandbox.
    """
    with started(sorted({entry.provider for entry in fleet.flow_logs})) as boxes, connections_to(boxes) as connections:
        prepare_fleet(boxes, fleet, connections)
        yield connections


@contextmanager
def demo(names: Sequence[str]) -> Iterator[Connections]:
    """Connections to fresh sandboxes of the providers ``names``, each seeded with its demo estate
    (``Sandbox.seed_demo``); closed and stopped on the way out.

    :raises NoSandbox: a provider named offers no sandbox.
    """
    with started(names) as boxes:
        for box in boxes.values():
            box.seed_demo()
        with connections_to(boxes) as connections:
            yield connections
