"""What the Alibaba Cloud provider adds to a spec: the SLS destination and the ``alibaba:`` options block."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from multiflow.spec import Destination, FlowLogSpec, ProviderOptions

__all__ = ["AlibabaOptions", "SlsDestination", "options_of"]


class SlsDestination(Destination):
    """An Alibaba Cloud Simple Log Service (SLS) project and logstore."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"kind": "sls", "project": "central-flowlogs", "logstore": "prod"}]}
    )

    kind: Literal["sls"] = "sls"
    project: str = Field(min_length=1, max_length=128)
    logstore: str = Field(min_length=1, max_length=128)

    def label(self) -> str:
        """``sls:project/logstore``."""
        return f"sls:{self.project}/{self.logstore}"


class AlibabaOptions(ProviderOptions):
    """Options only Alibaba Cloud reads (the ``alibaba:`` block of a spec)."""

    traffic_paths: list[str] | None = Field(
        default=None, min_length=1, description="TrafficPath values; needs the feature enabled by ticket"
    )
    ip_version: Literal["IPv4", "DualStack"] | None = None
    resource_group_id: str | None = Field(default=None, min_length=1, max_length=128)

    @field_validator("traffic_paths")
    @classmethod
    def _in_order(cls, paths: list[str] | None) -> list[str] | None:
        # A set in the cloud's eyes: kept sorted so a file's order and the cloud's compare equal in plans.
        return sorted(paths) if paths is not None else None


def options_of(spec: FlowLogSpec) -> AlibabaOptions | None:
    """The spec's ``alibaba`` block, typed; ``None`` where it gives none."""
    block = spec.options_for("alibaba")
    return block if isinstance(block, AlibabaOptions) else None
