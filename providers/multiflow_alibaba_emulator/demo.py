"""A ready-made demo account and inventory, for ``multiflow sandbox serve`` and for trying things by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .server import AlibabaEmulator

#: A fake key pair, accepted only by the emulator; it is printed by ``python -m multiflow_alibaba_emulator``.
DEMO_ACCESS_KEY_ID = "multiflow-demo-not-a-key"  # not LTAI...: secret scanners flag those
DEMO_ACCESS_KEY_SECRET = "multiflow-demo-secret-not-a-real-key"
DEMO_ACCOUNT_ID = "1234567890"
DEMO_REGION = "cn-hangzhou"
DEMO_PROJECT = "multiflow-demo"
DEMO_LOGSTORE = "vpc-flowlogs"


#: The demo Resource Directory (management: the demo account): folder id -> (name, parent folder id or None).
DEMO_FOLDERS: dict[str, tuple[str, str | None]] = {
    "fd-demoprod01": ("prod", None),
    "fd-demoprodeu": ("prod-eu", "fd-demoprod01"),
    "fd-demodev001": ("dev", None),
}
#: Its members: account id -> (name, folder, account tags, whether it has ResourceDirectoryAccountAccessRole).
DEMO_MEMBERS: dict[str, tuple[str, str, dict[str, str], bool]] = {
    "1234567890000001": ("prod-payments", "fd-demoprod01", {"env": "prod", "team": "payments"}, True),
    "1234567890000002": ("prod-eu", "fd-demoprodeu", {"env": "prod", "team": "web"}, True),
    "1234567890000003": ("dev-sandbox", "fd-demodev001", {"env": "dev", "team": "web"}, True),
    "1234567890000004": ("dev-legacy", "fd-demodev001", {"env": "dev"}, False),
}


def seed_organization(emu: AlibabaEmulator) -> dict[str, Any]:
    """Make the demo account the management account of a Resource Directory with the folders of
    :data:`DEMO_FOLDERS` and the members of :data:`DEMO_MEMBERS` (all but ``dev-legacy`` with the access role);
    returns :meth:`AlibabaEmulator.organization`. Ids are fixed, so examples and docs can name them."""
    try:
        emu.account_of(DEMO_ACCESS_KEY_ID)
    except KeyError:
        emu.add_account(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, account_id=DEMO_ACCOUNT_ID)
    if not emu.organization():
        emu.create_directory(DEMO_ACCOUNT_ID)
        for folder_id, (name, parent) in DEMO_FOLDERS.items():
            emu.add_folder(name, parent, folder_id=folder_id)
        for account_id, (name, folder, tags, role) in DEMO_MEMBERS.items():
            emu.add_member(account_id, name, folder_id=folder, tags=tags, access_role=role)
    return emu.organization()


@dataclass(frozen=True)
class DemoInventory:
    """What :func:`seed_demo` created."""

    region: str
    project: str
    logstore: str
    vpc_ids: list[str] = field(default_factory=list)
    vswitch_ids: list[str] = field(default_factory=list)
    eni_ids: list[str] = field(default_factory=list)


def seed_demo(emu: AlibabaEmulator, region: str = DEMO_REGION) -> DemoInventory:
    """Add the demo account (if absent) and, in ``region``: two VPCs (``env=prod``, ``env=dev``), two
    vSwitches in each, one ENI per vSwitch, and the SLS project ``multiflow-demo`` with logstore
    ``vpc-flowlogs``. Ids are fixed, so examples and docs can name them.
    """
    try:
        emu.account_of(DEMO_ACCESS_KEY_ID)
    except KeyError:
        emu.add_account(DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_SECRET, account_id=DEMO_ACCOUNT_ID)
    inventory = DemoInventory(region=region, project=DEMO_PROJECT, logstore=DEMO_LOGSTORE)
    emu.add_logstore(region, DEMO_PROJECT, DEMO_LOGSTORE, account_id=DEMO_ACCOUNT_ID)
    zones = (f"{region}-h", f"{region}-i")
    for v, env in enumerate(("prod", "dev"), start=1):
        vpc = emu.add_vpc(
            region, f"vpc-demo{env}{v:014d}", name=f"demo-{env}", tags={"env": env}, account_id=DEMO_ACCOUNT_ID
        )
        inventory.vpc_ids.append(vpc)
        for s, zone in enumerate(zones, start=1):
            vsw = emu.add_vswitch(
                region,
                vpc,
                f"vsw-demo{env}{v:07d}{s:07d}",
                zone_id=zone,
                name=f"demo-{env}-{s}",
                tags={"env": env},
                account_id=DEMO_ACCOUNT_ID,
            )
            inventory.vswitch_ids.append(vsw)
            eni = emu.add_network_interface(
                region, vsw, f"eni-demo{env}{v:06d}{s:06d}", tags={"env": env}, account_id=DEMO_ACCOUNT_ID
            )
            inventory.eni_ids.append(eni)
    return inventory
