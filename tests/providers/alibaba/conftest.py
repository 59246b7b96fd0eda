"""Fixtures for the Alibaba emulator tests: an emulator on loopback that always stops, and SDK clients for it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from alibabacloud_tea_openapi.models import Config
from alibabacloud_vpc20160428.client import Client
from darabonba.policy.retry import RetryOptions

from multiflow_alibaba_emulator import AlibabaEmulator, ManualClock

REGION = "cn-hangzhou"
KEY_ID = "LTAI5tTestKeyPrimary0001"
KEY_SECRET = "test-secret-primary"
ACCOUNT_ID = "1111111111"
PROJECT = "flow-project"
LOGSTORE = "flow-logstore"

ClientFactory = Callable[..., Client]


@dataclass(frozen=True)
class Inventory:
    """What the ``cloud`` fixture seeded in cn-hangzhou."""

    vpc: str
    vswitch: str
    eni: str
    project: str = PROJECT
    logstore: str = LOGSTORE


@pytest.fixture(autouse=True)
def _no_proxy_for_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    # The SDK sends through $HTTP_PROXY even to 127.0.0.1 (it ignores no_proxy): keep tests off any proxy.
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def clock() -> ManualClock:
    """A clock that only moves when the test advances it."""
    return ManualClock()


@pytest.fixture
def emulator(clock: ManualClock) -> Iterator[AlibabaEmulator]:
    """A started emulator on a manual clock with one account (``KEY_ID``); always stopped afterwards."""
    emu = AlibabaEmulator(clock=clock)
    emu.add_account(KEY_ID, KEY_SECRET, account_id=ACCOUNT_ID)
    with emu:
        yield emu


@pytest.fixture
def cloud(emulator: AlibabaEmulator) -> Inventory:
    """One VPC, vSwitch and ENI and an SLS logstore in cn-hangzhou for the test account."""
    vpc = emulator.add_vpc(REGION, name="main", tags={"env": "test"})
    vswitch = emulator.add_vswitch(REGION, vpc, zone_id="cn-hangzhou-h", name="main-a")
    eni = emulator.add_network_interface(REGION, vswitch)
    emulator.add_logstore(REGION, PROJECT, LOGSTORE)
    return Inventory(vpc=vpc, vswitch=vswitch, eni=eni)


@pytest.fixture
def make_client(emulator: AlibabaEmulator) -> ClientFactory:
    """Build an official VPC SDK client for the emulator (the SDK retries nothing unless ``retry_options``)."""

    def make(
        key_id: str = KEY_ID,
        secret: str = KEY_SECRET,
        retry_options: RetryOptions | None = None,
        read_timeout_ms: int | None = None,
    ) -> Client:
        return Client(
            Config(
                access_key_id=key_id,
                access_key_secret=secret,
                endpoint=emulator.endpoint,
                protocol="http",
                region_id=REGION,
                retry_options=retry_options,
                read_timeout=read_timeout_ms,
            )
        )

    return make


@pytest.fixture
def client(make_client: ClientFactory) -> Client:
    """An SDK client signed with the test account's key."""
    return make_client()
