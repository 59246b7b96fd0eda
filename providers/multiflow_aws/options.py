"""The ``aws:`` options block of a spec (``options: {aws: ...}``): what only AWS reads, as a typed model."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer

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
    extra: dict[str, Any] = Field(
        default_factory=dict,
        description="CreateFlowLogs parameters multiflow does not model yet, checked against botocore's model",
    )

    @model_serializer(mode="wrap")
    def _without_empty_extra(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # An empty `extra` is left out, so blocks that do not use it keep the digest they had before it existed.
        data: dict[str, Any] = handler(self)
        if not data.get("extra"):
            data.pop("extra", None)
        return data


def options_of(spec: FlowLogSpec) -> AwsOptions | None:
    """The spec's ``aws`` block, typed; ``None`` where it gives none."""
    block = spec.options_for("aws")
    return block if isinstance(block, AwsOptions) else None
