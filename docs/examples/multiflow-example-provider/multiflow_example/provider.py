"""The ExampleCloud provider object: capabilities, ExampleCloud's own spec rules, ``connect`` and ``sandbox``.

Constructing it is cheap and imports no client library: :meth:`ExampleProvider.connect` imports the session
module (and with it :mod:`multiflow_example.api`, the "SDK") only when a session is opened.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from multiflow.errors import SpecError
from multiflow.model import Capabilities
from multiflow.spec import FlowLogSpec, S3Destination
from multiflow_example.capabilities import CAPABILITIES
from multiflow_example.options import options_of

if TYPE_CHECKING:
    from multiflow_example.sandbox import ExampleSandbox
    from multiflow_example.session import ExampleSession

__all__ = ["ExampleProvider"]

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$")


class ExampleProvider:
    """ExampleCloud flow logs, a complete third-party multiflow provider in a few small modules."""

    name = "example"
    capabilities: Capabilities = CAPABILITIES

    def __repr__(self) -> str:
        return "<ExampleProvider example>"

    def validate(self, spec: FlowLogSpec) -> None:
        """ExampleCloud's own rules beyond the capabilities: bucket names, plain-text delivery, its options."""
        destination = spec.destination
        if isinstance(destination, S3Destination):
            if not _BUCKET.match(destination.bucket):
                raise SpecError(
                    "destination.bucket",
                    destination.bucket,
                    "a bucket name: 3-63 lowercase letters, digits and hyphens (no ARN)",
                    provider="example",
                )
            if destination.file_format != "plain_text" or destination.hive_compatible_partitions:
                raise SpecError(
                    "destination",
                    destination.model_dump(exclude={"kind", "bucket", "prefix"}),
                    "plain_text files without partitions",
                    provider="example",
                    reason="ExampleCloud writes plain-text objects only",
                )
            if destination.per_hour_partition:
                raise SpecError("destination.per_hour_partition", True, [False], provider="example")
        options_of(spec)

    def connect(self, region: str, **options: Any) -> ExampleSession:
        """A session for ``region``; see :class:`multiflow_example.session.ExampleSession` for the options."""
        from multiflow_example.session import ExampleSession

        return ExampleSession(region, **options)

    def sandbox(self) -> ExampleSandbox:
        """ExampleCloud itself on loopback, with a demo key (for ``--sandbox`` runs and ``sandbox serve``)."""
        from multiflow_example.sandbox import ExampleSandbox

        return ExampleSandbox()
