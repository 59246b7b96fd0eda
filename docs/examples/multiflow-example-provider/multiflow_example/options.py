"""The ``options: {example: {...}}`` block of a spec: options only ExampleCloud reads, as a typed model.

Third-party providers keep their own options in ``FlowLogSpec.options[<provider name>]``; the provider checks
the block in ``validate`` (a bad one is a SpecError before any call) and reads it in its mapping.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from multiflow.errors import SpecError
from multiflow.spec import FlowLogSpec, spec_error_from_validation

__all__ = ["ExampleOptions", "options_of"]


class ExampleOptions(BaseModel):
    """Options only ExampleCloud reads."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    sampling: float = Field(default=1.0, gt=0, le=1, description="The share of flows recorded (0 < sampling ≤ 1)")


def options_of(spec: FlowLogSpec) -> ExampleOptions:
    """The spec's ``options.example`` block, checked; defaults where there is none."""
    try:
        return ExampleOptions(**spec.options.get("example", {}))
    except ValidationError as exc:
        error = spec_error_from_validation(exc, prefix="options.example")
        raise SpecError(error.field, error.value, error.allowed, provider="example") from None
