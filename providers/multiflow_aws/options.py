"""The ``aws:`` options block of a spec (``options: {aws: ...}``): what only AWS reads, as a typed model."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from multiflow.spec import FlowLogSpec, ProviderOptions, SpecModel

__all__ = ["AwsOptions", "AwsTagField", "options_of"]


class AwsTagField(SpecModel):
    """Resource tags whose values AWS writes into each record (``TagFieldSpecifications``)."""

    resource_type: Literal["network-interface", "instance", "auto-scaling-group"]
    keys: list[Annotated[str, Field(min_length=1, max_length=127)]] = Field(min_length=1)


class AwsOptions(ProviderOptions):
    """Options only AWS reads (the ``aws:`` block of a spec)."""

    cross_account_role: str | None = Field(
        default=None, description="DeliverCrossAccountRole: a role to publish into another account"
    )
    tag_fields: list[AwsTagField] = Field(default_factory=list)


def options_of(spec: FlowLogSpec) -> AwsOptions | None:
    """The spec's ``aws`` block, typed; ``None`` where it gives none."""
    block = spec.options_for("aws")
    return block if isinstance(block, AwsOptions) else None
