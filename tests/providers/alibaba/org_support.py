"""A Resource Directory on the emulator for the organization tests: a management account and its members.

Layout (folders ``prod`` > ``prod-eu``, and ``dev``)::

    management  1000000000000000   root
    payments    1000000000000001   prod      env=prod team=payments
    web-eu      1000000000000002   prod-eu   env=prod team=web
    dev         1000000000000003   dev       env=dev  team=web
    legacy      1000000000000004   dev       env=dev             (no ResourceDirectoryAccountAccessRole)
    leaving     1000000000000005   dev       env=dev             (status Removing)
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from multiflow.accounts import Account
from multiflow.client import Connections
from multiflow_alibaba import AlibabaProvider
from multiflow_alibaba.accounts import AlibabaAccountSource
from multiflow_alibaba_emulator import AlibabaEmulator, ManualClock

REGIONS = ("cn-hangzhou", "cn-shanghai", "cn-beijing")
KEY_ID = "LTAI5tManagementKey00001"
#: A sentinel secret: it must never show in a repr, a log line, an error or a file.
SECRET = "SENTINEL-mgmt-0c1d-never-print-me"
MANAGEMENT = "1000000000000000"
PAYMENTS, WEB_EU, DEV, LEGACY, LEAVING = (f"100000000000000{n}" for n in range(1, 6))
OUTSIDER_KEY = "LTAI5tOutsiderKey0000001"
OUTSIDER = "9000000000000000"


@dataclass
class Org:
    """The running emulator, its folders, and helpers to list and connect as the management account."""

    emu: AlibabaEmulator
    clock: ManualClock
    folders: dict[str, str]
    connections: list[Connections] = field(default_factory=list)

    def options(self, key_id: str = KEY_ID, secret: str = SECRET, **overrides: Any) -> dict[str, Any]:
        """Connect options of the calling identity (no rate limit, quick retries)."""
        options: dict[str, Any] = {
            "access_key_id": key_id,
            "access_key_secret": secret,
            "endpoint": self.emu.endpoint,
            "protocol": "http",
            "rate_limit": None,
            "retry_timeout": 5.0,
            "max_attempts": 2,
        }
        options.update(overrides)
        return options

    def listing(self, *items: dict[str, Any], **options: Any) -> Any:
        """``AlibabaProvider().list_accounts`` of these fleet items, as the management account."""
        sources = [AlibabaAccountSource.model_validate(item) for item in items]
        return AlibabaProvider().list_accounts(sources, **self.options(**options))

    def pool(self, **overrides: Any) -> Connections:
        """A client pool whose run options are the management account's (closed after the test)."""
        options = self.options(**overrides)
        pool = Connections(lambda provider, region: dict(options))
        self.connections.append(pool)
        return pool

    def member(self, account_id: str, role: str = "resourcedirectoryaccountaccessrole") -> Account:
        """The Account a listing would give for a member."""
        options = {"role_arn": f"acs:ram::{account_id}:role/{role}", "role_session_name": "multiflow"}
        return Account("alibaba", account_id, None, options)


@contextmanager
def running_org(**emulator: Any) -> Iterator[Org]:
    """The emulator with the directory above, a management key and an outsider's key; always stopped."""
    clock = ManualClock()
    emu = AlibabaEmulator(clock=clock, **emulator)
    emu.add_account(KEY_ID, SECRET, account_id=MANAGEMENT)
    emu.add_account(OUTSIDER_KEY, SECRET + "-outsider", account_id=OUTSIDER)
    with emu:
        emu.create_directory(MANAGEMENT)
        prod = emu.add_folder("prod")
        prod_eu = emu.add_folder("prod-eu", prod)
        dev = emu.add_folder("dev")
        emu.add_member(PAYMENTS, "payments", folder_id=prod, tags={"env": "prod", "team": "payments"})
        emu.add_member(WEB_EU, "web-eu", folder_id=prod_eu, tags={"env": "prod", "team": "web"})
        emu.add_member(DEV, "dev", folder_id=dev, tags={"env": "dev", "team": "web"})
        emu.add_member(LEGACY, "legacy", folder_id=dev, tags={"env": "dev"}, access_role=False)
        emu.add_member(LEAVING, "leaving", folder_id=dev, tags={"env": "dev"}, status="Removing")
        org = Org(emu, clock, {"prod": prod, "prod-eu": prod_eu, "dev": dev})
        try:
            yield org
        finally:
            for pool in org.connections:
                pool.close()
