"""The Alibaba provider runs multiflow's provider conformance suite against its wire-level emulator on loopback."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from multiflow.errors import ProviderError
from multiflow.spec import ResourceKind
from multiflow.testing import ConformanceTarget, ProviderConformance, error_samples
from multiflow_alibaba.errors import EXACT_CODES
from multiflow_alibaba.sandbox_support import connect_options
from multiflow_alibaba_emulator import AlibabaEmulator

KEY_ID = "LTAI5tConformance0000001"
#: Sentinel secrets: they must never show in a repr, an error or a log line.
SECRET = "SENTINEL-alibaba-71c2-never-print-me"
WRONG_SECRET = "SENTINEL-alibaba-wrong-never-print-me"
PROXY_VARIABLES = ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy")


class AlibabaTarget(ConformanceTarget):
    """The emulator with one account; flow logs take a moment to activate and to go, as in the cloud."""

    provider = "alibaba"
    region = "cn-hangzhou"
    sdk_modules = ("alibabacloud_vpc20160428", "alibabacloud_tea_openapi", "darabonba", "Tea")
    page_size = 50  # DescribeFlowLogs' largest page (the emulator refuses a larger PageSize, as the cloud does)

    def __init__(self, emulator: AlibabaEmulator) -> None:
        self.emulator = emulator
        self._vpc = emulator.add_vpc(self.region, name="conformance")
        self._vswitch = emulator.add_vswitch(self.region, self._vpc)

    def _options(self, secret: str) -> dict[str, Any]:
        return connect_options(self.emulator, KEY_ID, access_key_secret=secret, rate_limit=None, max_attempts=2)

    def connect_options(self) -> dict[str, Any]:
        return self._options(SECRET)

    def resources(self, kind: ResourceKind, count: int, tags: Mapping[str, str] | None = None) -> list[str]:
        add = {
            ResourceKind.VPC: lambda: self.emulator.add_vpc(self.region, tags=tags),
            ResourceKind.SUBNET: lambda: self.emulator.add_vswitch(self.region, self._vpc, tags=tags),
            ResourceKind.NETWORK_INTERFACE: lambda: self.emulator.add_network_interface(
                self.region, self._vswitch, tags=tags
            ),
        }[kind]
        return [add() for _ in range(count)]

    def destination(self, kind: str) -> dict[str, Any]:
        self.emulator.add_logstore(self.region, "conformance-project", "conformance-logs")
        return {"kind": "sls", "project": "conformance-project", "logstore": "conformance-logs"}

    def missing_resource_id(self, kind: ResourceKind) -> str:
        return {ResourceKind.VPC: "vpc-", ResourceKind.SUBNET: "vsw-"}.get(kind, "eni-") + "bp1conformance0missing"

    def make_stuck(self, flow_log_id: str) -> Any:
        self.emulator.set_status(flow_log_id, "Activating")  # held until set otherwise
        return lambda: self.emulator.set_status(flow_log_id, "Active")

    def inject_error(self, code: str) -> AbstractContextManager[object]:
        @contextmanager
        def failing() -> Iterator[None]:
            self.emulator.fail_next("CreateFlowLog", code, times=100)
            try:
                yield
            finally:
                self.emulator.clear_failures()

        return failing()

    def error_samples(self) -> dict[str, type[ProviderError]]:
        return error_samples(EXACT_CODES)

    def bad_credentials_options(self) -> dict[str, Any]:
        return self._options(WRONG_SECRET)

    def secrets(self) -> list[str]:
        return [SECRET, WRONG_SECRET]


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK sends through $HTTP_PROXY even to 127.0.0.1: keep the emulator's traffic off any proxy.
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def conformance_target() -> Iterator[AlibabaTarget]:
    """The emulator on the real clock, with short activation and deletion delays; always stopped."""
    emulator = AlibabaEmulator(activation_delay=0.2, deletion_delay=0.1)
    emulator.add_account(KEY_ID, SECRET, account_id="3333333333")
    with emulator:
        yield AlibabaTarget(emulator)


class TestAlibabaConformance(ProviderConformance):
    """multiflow's provider contract, against the Alibaba emulator."""
