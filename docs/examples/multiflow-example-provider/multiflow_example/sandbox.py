"""ExampleCloud on loopback as multiflow's ``Sandbox``: for ``multiflow ... --sandbox``, ``multiflow sandbox serve``,
and the provider's own tests. It holds an organization (:data:`MEMBERS`): the management account, whose key
``connect_options`` gives, and three members it may enter.

>>> with ExampleSandbox() as sandbox:                                          # doctest: +SKIP
...     client = multiflow.connect("example", region="local-1", **sandbox.connect_options("local-1"))
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

from multiflow.spec import ResourceKind
from multiflow_example.capabilities import RESOURCE_TYPES
from multiflow_example.cloud import MANAGEMENT_ACCOUNT, REGIONS, ExampleCloud
from multiflow_example.options import ExampleBucketDestination
from multiflow_example.session import API_KEY_VARIABLE, ENDPOINT_VARIABLE

__all__ = ["MEMBERS", "SANDBOX_API_KEY", "ExampleSandbox"]

#: The key the sandbox accepts, the management account's; a demo key, not a secret.
SANDBOX_API_KEY = "example-sandbox-key"

#: The sandbox organization's members: id → (name, unit, labels, enabled regions). ``prod`` has enabled the
#: opt-in region ``local-3``; the others have not.
MEMBERS: dict[str, tuple[str, str, dict[str, str], tuple[str, ...]]] = {
    "100000000001": ("prod", "ou-prod", {"env": "prod"}, REGIONS),
    "100000000002": ("staging", "ou-nonprod", {"env": "staging"}, ("local-1", "local-2")),
    "100000000003": ("dev", "ou-nonprod", {"env": "dev"}, ("local-1", "local-2")),
}


class ExampleSandbox:
    """An :class:`~multiflow_example.cloud.ExampleCloud` with the demo key of its management account and the
    members of :data:`MEMBERS`; flow logs activate in a moment."""

    provider = "example"

    def __init__(self, port: int = 0, activation_delay: float = 0.3, deletion_delay: float = 0.2) -> None:
        self.cloud = ExampleCloud(port=port, activation_delay=activation_delay, deletion_delay=deletion_delay)
        self.cloud.add_api_key(SANDBOX_API_KEY)
        for account_id, (name, unit, labels, regions) in MEMBERS.items():
            self.cloud.add_account(account_id, name, unit, labels, regions=regions)

    def __repr__(self) -> str:
        return f"<ExampleSandbox {self.cloud!r}>"

    def start(self) -> ExampleSandbox:
        """Start serving on 127.0.0.1 (a free port); returns self."""
        self.cloud.start()
        return self

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        self.cloud.stop()

    def __enter__(self) -> ExampleSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def connect_options(self, region: str | None = None) -> dict[str, Any]:
        """Keyword arguments for ``multiflow.connect("example", region=..., **options)`` (any region)."""
        return {"endpoint": self.cloud.endpoint, "api_key": SANDBOX_API_KEY}

    def environment(self) -> dict[str, str]:
        """Environment variables that point the example provider at this sandbox."""
        return {ENDPOINT_VARIABLE: self.cloud.endpoint, API_KEY_VARIABLE: SANDBOX_API_KEY}

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
        """Seed what a fleet entry needs in ``account`` (an id of the organization; default the management
        account): the resources it names (with those ids) or three matching its selector, and its bucket (one
        namespace for every account). Kinds ExampleCloud does not offer are left alone (the spec is refused)."""
        where = account or MANAGEMENT_ACCOUNT
        if isinstance(destination, ExampleBucketDestination):
            self.cloud.add_bucket(destination.bucket)
        if kind not in RESOURCE_TYPES:
            return
        if ids is not None:
            for resource_id in ids:
                with contextlib.suppress(ValueError):  # a second entry naming the same resource
                    self.cloud.add_resource(region, RESOURCE_TYPES[kind], resource_id, account=where)
        elif tags is not None:
            labels = {k: (v if v is not None else "any") for k, v in tags.items()}
            for _ in range(3):
                self.cloud.add_resource(region, RESOURCE_TYPES[kind], labels=labels, account=where)

    def seed_demo(self) -> dict[str, Any]:
        """Two prod networks and one dev network in ``local-1``, a subnetwork each, and a bucket."""
        region = "local-1"
        prod = [self.cloud.add_resource(region, "network", labels={"env": "prod"}) for _ in range(2)]
        dev = [self.cloud.add_resource(region, "network", labels={"env": "dev"})]
        subnets = [self.cloud.add_resource(region, "subnetwork", labels={"network": n}) for n in (*prod, *dev)]
        self.cloud.add_bucket("central-flowlogs")
        return {
            "region": region,
            "networks": {"prod": prod, "dev": dev},
            "subnetworks": subnets,
            "bucket": "central-flowlogs",
            "organization": {"management": MANAGEMENT_ACCOUNT, "members": {i: m[0] for i, m in MEMBERS.items()}},
        }
