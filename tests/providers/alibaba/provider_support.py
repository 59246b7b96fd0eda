"""Shared set-up for the Alibaba provider tests: an emulator on loopback and multiflow clients connected to it.

Not a conftest (the emulator's tests own that one): each provider test module wraps :func:`running_world` in its
own small fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import multiflow
from multiflow.spec import FlowLogSpec
from multiflow_alibaba.sandbox_support import connect_options
from multiflow_alibaba_emulator import AlibabaEmulator, ManualClock

REGION = "cn-hangzhou"
KEY_ID = "LTAI5tProviderTests00001"
#: A sentinel secret: it must never show in a repr, a log line, an error or a file.
SECRET = "SENTINEL-9f3a1c-never-print-me"
ACCOUNT_ID = "2222222222"
PROJECT = "flow-project"
LOGSTORE = "flow_store-1"
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")


@dataclass
class World:
    """A running emulator with one account, one VPC with vSwitches and ENIs, and one SLS logstore."""

    emu: AlibabaEmulator
    clock: ManualClock
    vpc: str
    vswitches: list[str]
    enis: list[str]
    clients: list[multiflow.Client] = field(default_factory=list)

    def connect(self, **overrides: Any) -> multiflow.Client:
        """A multiflow client for the emulator: no rate limit and quick retries unless overridden."""
        options: dict[str, Any] = {"rate_limit": None, "retry_timeout": 10.0}
        options.update(overrides)
        client = multiflow.connect("alibaba", region=REGION, **connect_options(self.emu, KEY_ID, **options))
        self.clients.append(client)
        return client

    def vswitch(self) -> str:
        """A fresh vSwitch in the VPC."""
        return self.emu.add_vswitch(REGION, self.vpc)

    def spec(self, kind: str = "subnet", ids: list[str] | None = None, **fields: Any) -> FlowLogSpec:
        """A spec to the test logstore; ``ids`` default to one fresh vSwitch (or the VPC, or an ENI)."""
        if ids is None:
            fresh = {"vpc": lambda: self.emu.add_vpc(REGION), "subnet": self.vswitch}
            ids = [fresh[kind]() if kind in fresh else self.eni()]
        return FlowLogSpec(
            resources={"kind": kind, "ids": ids},
            destination={"kind": "sls", "project": PROJECT, "logstore": LOGSTORE},
            **fields,
        )

    def eni(self) -> str:
        """A fresh ENI in a fresh vSwitch."""
        return self.emu.add_network_interface(REGION, self.vswitch())

    def record(self, flow_log_id: str) -> dict[str, Any]:
        """The emulator's own view of a flow log (as DescribeFlowLogs shows it)."""
        [found] = [r for r in self.emu.flow_logs() if r["FlowLogId"] == flow_log_id]
        return found


@contextmanager
def running_world(
    *,
    activation_delay: float = 0.0,
    deletion_delay: float = 0.0,
    vswitches: int = 2,
    enis: int = 1,
    **account: Any,
) -> Iterator[World]:
    """A started emulator on a manual clock, seeded; always stopped (and clients closed) afterwards."""
    clock = ManualClock()
    emu = AlibabaEmulator(activation_delay=activation_delay, deletion_delay=deletion_delay, clock=clock)
    emu.add_account(KEY_ID, SECRET, account_id=ACCOUNT_ID, **account)
    with emu:
        vpc = emu.add_vpc(REGION, name="main")
        switch_ids = [emu.add_vswitch(REGION, vpc) for _ in range(vswitches)]
        eni_ids = [emu.add_network_interface(REGION, switch_ids[0]) for _ in range(enis)]
        emu.add_logstore(REGION, PROJECT, LOGSTORE)
        world = World(emu=emu, clock=clock, vpc=vpc, vswitches=switch_ids, enis=eni_ids)
        try:
            yield world
        finally:
            for client in world.clients:
                client.close()
