"""What ExampleCloud adds to a spec, as typed models: its destination kind and its options block.

A third-party provider declares both on its :class:`~multiflow.provider.Provider` (``destinations`` and
``options``); multiflow then validates ``destination: {kind: example_bucket, ...}`` and ``options: {example:
{...}}`` (``example:`` in a fleet file) with these models, puts them in the fleet JSON Schema, and never needs a
line of its own core changed.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from multiflow.spec import Destination, FlowLogSpec, ProviderOptions

__all__ = ["ExampleBucketDestination", "ExampleOptions", "options_of"]


class ExampleBucketDestination(Destination):
    """An ExampleCloud bucket, by name, with an optional object prefix; records are written as plain text."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"kind": "example_bucket", "bucket": "central-flowlogs"}]}
    )

    kind: Literal["example_bucket"] = "example_bucket"
    bucket: str = Field(
        pattern=r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$",
        description="A bucket name: 3-63 lowercase letters, digits and hyphens",
    )
    prefix: str | None = Field(default=None, min_length=1, max_length=256)


class ExampleOptions(ProviderOptions):
    """Options only ExampleCloud reads."""

    sampling: float = Field(default=1.0, gt=0, le=1, description="The share of flows recorded (0 < sampling ≤ 1)")


def options_of(spec: FlowLogSpec) -> ExampleOptions:
    """The spec's ``example`` block (already validated by :class:`ExampleOptions`); defaults where there is none."""
    block = spec.options_for("example")
    return block if isinstance(block, ExampleOptions) else ExampleOptions()
