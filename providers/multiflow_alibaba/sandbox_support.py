"""Connecting multiflow to the Alibaba emulator (:mod:`multiflow_alibaba_emulator`).

- :func:`connect_options`: ``connect`` options that reach a running emulator with one of its keys;
- :class:`AlibabaSandbox`: the emulator as the core's ``Sandbox`` (``multiflow ... --sandbox``,
  ``multiflow sandbox serve``), with the demo account as the management account of a Resource Directory of four
  members in three folders (:func:`multiflow_alibaba_emulator.seed_organization`), and seeding of what a fleet
  entry names, in any of those accounts.

>>> with AlibabaSandbox() as sandbox:                                        # doctest: +SKIP
...     client = multiflow.connect("alibaba", region="cn-hangzhou", **sandbox.connect_options("cn-hangzhou"))
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from multiflow.spec import ResourceKind
from multiflow_alibaba.options import SlsDestination

if TYPE_CHECKING:
    from multiflow_alibaba_emulator import AlibabaEmulator

__all__ = ["ENDPOINT_VARIABLE", "PROTOCOL_VARIABLE", "AlibabaSandbox", "connect_options"]

#: Environment variables the session reads when ``endpoint``/``protocol`` are not given (set by the sandbox).
ENDPOINT_VARIABLE = "MULTIFLOW_ALIBABA_ENDPOINT"
PROTOCOL_VARIABLE = "MULTIFLOW_ALIBABA_PROTOCOL"


def connect_options(emulator: AlibabaEmulator, access_key_id: str, **overrides: Any) -> dict[str, Any]:
    """``connect`` options that reach ``emulator`` over plain HTTP with the key ``access_key_id``.

    The key must be registered (``emulator.add_account``); ``overrides`` replace or add options
    (``rate_limit=None``, ``max_attempts=1``...). The result holds the key's secret: pass it on, do not print it.
    """
    settings = emulator.client_settings(access_key_id)
    options: dict[str, Any] = {
        "access_key_id": settings["access_key_id"],
        "access_key_secret": settings["access_key_secret"],
        "endpoint": settings["endpoint"],
        "protocol": settings["protocol"],
    }
    options.update(overrides)
    return options


class AlibabaSandbox:
    """The Alibaba emulator on 127.0.0.1 with the demo account (its fake keys are not a secret) and its
    organization: members entered by AssumeRole into ``ResourceDirectoryAccountAccessRole`` (``dev-legacy``
    lacks it: entering it fails with ``EntityNotExist.Role``)."""

    provider = "alibaba"

    def __init__(self, port: int = 0, activation_delay: float = 1.0, deletion_delay: float = 0.5) -> None:
        from multiflow_alibaba_emulator import (
            DEMO_ACCESS_KEY_ID,
            DEMO_ACCESS_KEY_SECRET,
            DEMO_ACCOUNT_ID,
            seed_organization,
        )
        from multiflow_alibaba_emulator import AlibabaEmulator as Emulator

        # Activations and deletions take a moment, as in the cloud, so waiting is real in --sandbox runs.
        self.emulator = Emulator(port=port, activation_delay=activation_delay, deletion_delay=deletion_delay)
        self.emulator.add_account(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, account_id=DEMO_ACCOUNT_ID)
        seed_organization(self.emulator)
        self._key_id = DEMO_ACCESS_KEY_ID
        self._secret = DEMO_ACCESS_KEY_SECRET
        self._parents: dict[tuple[str, str, ResourceKind], str] = {}
        self._names = itertools.count(1)

    def __repr__(self) -> str:
        return f"<AlibabaSandbox {self.emulator!r}>"

    def start(self) -> AlibabaSandbox:
        """Start serving; returns self."""
        self.emulator.start()
        return self

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        self.emulator.stop()

    def __enter__(self) -> AlibabaSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def connect_options(self, region: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``multiflow.connect("alibaba", region=..., **options)`` (any region)."""
        return connect_options(self.emulator, self._key_id, rate_limit=None)

    def environment(self) -> dict[str, str]:
        """Environment variables that point the SDK's credential chain and multiflow at this sandbox."""
        return {
            "ALIBABA_CLOUD_ACCESS_KEY_ID": self._key_id,
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": self._secret,
            ENDPOINT_VARIABLE: self.emulator.endpoint,
            PROTOCOL_VARIABLE: "http",
        }

    def tune(self, **knobs: float | None) -> None:
        """Make the emulator slow or flaky (``sandbox serve``'s flags): ``activation_delay``, ``deletion_delay``
        (seconds), ``latency`` (seconds a call), ``throttle_rate``, ``server_error_rate`` (0..1); ``None`` keeps
        a setting as it is."""
        from multiflow_alibaba_emulator import Faults

        if knobs.get("activation_delay") is not None:
            self.emulator.activation_delay = float(knobs["activation_delay"] or 0)
        if knobs.get("deletion_delay") is not None:
            self.emulator.deletion_delay = float(knobs["deletion_delay"] or 0)
        if any(knobs.get(k) for k in ("latency", "throttle_rate", "server_error_rate")):
            self.emulator.faults = Faults(
                throttle_rate=float(knobs.get("throttle_rate") or 0),
                server_error_rate=float(knobs.get("server_error_rate") or 0),
                latency=float(knobs.get("latency") or 0),
            )

    def seed_demo(self) -> dict[str, Any]:
        """Seed the emulator's demo estate (two VPCs, four vSwitches, four ENIs, one logstore, in the management
        account) and describe it, with the organization (``organization``: see :meth:`organization`)."""
        from multiflow_alibaba_emulator import seed_demo

        return {**dataclasses.asdict(seed_demo(self.emulator)), "organization": self.organization()}

    def organization(self) -> dict[str, Any]:
        """The sandbox's Resource Directory: management account id, folders, members (name, folder, tags, status,
        whether the access role exists)."""
        return self.emulator.organization()

    def prepare(
        self,
        region: str,
        kind: ResourceKind,
        ids: Sequence[str] | None,
        tags: Mapping[str, str | None] | None,
        destination: Any,
        *,
        account: str = "",
    ) -> None:
        """Seed what a fleet entry needs: the resources it names (with those ids) or three matching its selector,
        and its SLS project and logstore, in ``account`` (an account id of the organization; ``""``: the
        management account). Kinds Alibaba does not offer are left alone (the spec is refused)."""
        owner = account or None
        if isinstance(destination, SlsDestination):
            self.emulator.add_logstore(region, destination.project, destination.logstore, account_id=owner)
        if kind not in (ResourceKind.VPC, ResourceKind.SUBNET, ResourceKind.NETWORK_INTERFACE):
            return
        if ids is not None:
            for resource_id in ids:
                self._add(owner, region, kind, resource_id, {})
        elif tags is not None:
            wanted = {k: (v if v is not None else "any") for k, v in tags.items()}
            for _ in range(3):
                self._add(owner, region, kind, None, wanted)

    def _parent(self, account: str | None, region: str, kind: ResourceKind) -> str:
        """A VPC (for vSwitches) or vSwitch (for ENIs) to put seeded resources in, made once per account and region."""
        key = (account or "", region, kind)
        if key not in self._parents:
            if kind is ResourceKind.SUBNET:
                self._parents[key] = self.emulator.add_vpc(region, name="multiflow-sandbox", account_id=account)
            else:
                vpc = self._parent(account, region, ResourceKind.SUBNET)
                self._parents[key] = self.emulator.add_vswitch(region, vpc, account_id=account)
        return self._parents[key]

    def _add(
        self, account: str | None, region: str, kind: ResourceKind, resource_id: str | None, tags: dict[str, str]
    ) -> None:
        parent = self._parent(account, region, kind) if kind is not ResourceKind.VPC else ""
        try:
            if kind is ResourceKind.VPC:
                name = f"sandbox-{next(self._names)}"
                self.emulator.add_vpc(region, resource_id, name=name, tags=tags, account_id=account)
            elif kind is ResourceKind.SUBNET:
                self.emulator.add_vswitch(region, parent, resource_id, tags=tags, account_id=account)
            else:
                self.emulator.add_network_interface(region, parent, resource_id, tags=tags, account_id=account)
        except ValueError as exc:
            if "already in use" not in str(exc):  # a second entry naming the same resource is fine
                raise
