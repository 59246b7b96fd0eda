"""The provider-neutral description of a flow log: :class:`FlowLogSpec` and its parts.

A spec says *what* to log (a kind of resource and its ids, which traffic, how often, which fields) and *where*
(a destination). Providers map it onto their own API; what a provider cannot take is refused before any call,
by :func:`multiflow.validate.check_spec` against the provider's :class:`~multiflow.model.Capabilities`.

Intervals are always in seconds here, whatever the cloud's unit.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Iterator
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from multiflow.errors import SpecError

__all__ = [
    "AlibabaOptions",
    "AwsOptions",
    "AwsTagField",
    "CloudWatchLogsDestination",
    "Destination",
    "FirehoseDestination",
    "FlowLogSpec",
    "ResourceKind",
    "Resources",
    "S3Destination",
    "SlsDestination",
    "Traffic",
    "nested_validation",
    "spec_error_from_validation",
]


class ResourceKind(str, Enum):
    """What a flow log watches, by neutral name."""

    VPC = "vpc"
    SUBNET = "subnet"
    NETWORK_INTERFACE = "network_interface"
    TRANSIT_GATEWAY = "transit_gateway"
    TRANSIT_GATEWAY_ATTACHMENT = "transit_gateway_attachment"
    REGIONAL_NAT_GATEWAY = "regional_nat_gateway"


class Traffic(str, Enum):
    """Which traffic a flow log records."""

    ALL = "all"
    ACCEPT = "accept"
    REJECT = "reject"


def spec_error_from_validation(exc: ValidationError, prefix: str = "") -> SpecError:
    """Turn pydantic's first complaint into a :class:`SpecError` naming field, value and what is allowed.

    Every complaint stays available as ``error.errors`` (pydantic's list).
    """
    first = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in (*([prefix] if prefix else []), *first["loc"])) or "spec"
    return SpecError(field, first.get("input"), first["msg"], errors=exc.errors(include_url=False))


_constructing: contextvars.ContextVar[bool] = contextvars.ContextVar("multiflow_constructing", default=False)


@contextlib.contextmanager
def nested_validation() -> Iterator[None]:
    """Inside this block, spec models raise pydantic's ValidationError (with full locations), not SpecError.

    For containers that validate specs as parts of a larger document and locate errors themselves.
    """
    token = _constructing.set(True)
    try:
        yield
    finally:
        _constructing.reset(token)


class _Model(BaseModel):
    """Strict, immutable base: unknown keys are errors, and bad input is a :class:`SpecError`."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=False)

    def __init__(self, **data: Any) -> None:
        # Only the outermost model turns pydantic's error into a SpecError; nested ones let it through so that
        # the location of the offending field is kept whole.
        token = _constructing.set(True) if not _constructing.get() else None
        try:
            super().__init__(**data)
        except ValidationError as exc:
            if token is None:
                raise
            raise spec_error_from_validation(exc) from None
        finally:
            if token is not None:
                _constructing.reset(token)


_ID = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]


class Resources(_Model):
    """The resources to log: one kind, one or more ids (deduplicated, order kept)."""

    kind: ResourceKind
    ids: list[_ID] = Field(min_length=1)

    @field_validator("ids")
    @classmethod
    def _no_duplicates(cls, ids: list[str]) -> list[str]:
        seen: set[str] = set()
        dupes = [i for i in ids if i in seen or seen.add(i)]  # type: ignore[func-returns-value]
        if dupes:
            raise ValueError(f"ids must be unique; repeated: {', '.join(sorted(set(dupes)))}")
        return ids


class CloudWatchLogsDestination(_Model):
    """An AWS CloudWatch Logs group, written to by an IAM role the flow log service assumes."""

    kind: Literal["cloudwatch_logs"] = "cloudwatch_logs"
    log_group: str = Field(min_length=1, max_length=512, description="Log group name or ARN")
    role_arn: str | None = Field(default=None, description="IAM role that lets the service publish")


class S3Destination(_Model):
    """An S3 bucket (ARN or name), with an optional prefix and the delivery options AWS offers."""

    kind: Literal["s3"] = "s3"
    bucket: str = Field(min_length=3, max_length=1024, description="Bucket ARN (arn:aws:s3:::name) or name")
    prefix: str | None = Field(default=None, min_length=1, max_length=512)
    file_format: Literal["plain_text", "parquet"] = "plain_text"
    hive_compatible_partitions: bool = False
    per_hour_partition: bool = False


class FirehoseDestination(_Model):
    """A Kinesis Data Firehose delivery stream, by ARN."""

    kind: Literal["firehose"] = "firehose"
    stream_arn: str = Field(min_length=1, max_length=1024)
    role_arn: str | None = Field(default=None, description="Role to deliver across accounts")


class SlsDestination(_Model):
    """An Alibaba Cloud Simple Log Service (SLS) project and logstore."""

    kind: Literal["sls"] = "sls"
    project: str = Field(min_length=1, max_length=128)
    logstore: str = Field(min_length=1, max_length=128)


Destination = Annotated[
    CloudWatchLogsDestination | S3Destination | FirehoseDestination | SlsDestination,
    Field(discriminator="kind"),
]
"""Where records go: one of the destination models, chosen by its ``kind``."""


class AwsTagField(_Model):
    """Resource tags whose values AWS writes into each record (``TagFieldSpecifications``)."""

    resource_type: Literal["network-interface", "instance", "auto-scaling-group"]
    keys: list[Annotated[str, Field(min_length=1, max_length=127)]] = Field(min_length=1)


class AwsOptions(_Model):
    """Options only AWS reads (the ``aws:`` block of a spec)."""

    cross_account_role: str | None = Field(
        default=None, description="DeliverCrossAccountRole: a role to publish into another account"
    )
    tag_fields: list[AwsTagField] = Field(default_factory=list)


class AlibabaOptions(_Model):
    """Options only Alibaba Cloud reads (the ``alibaba:`` block of a spec)."""

    traffic_paths: list[str] | None = Field(
        default=None, min_length=1, description="TrafficPath values; needs the feature enabled by ticket"
    )
    ip_version: Literal["IPv4", "DualStack"] | None = None
    resource_group_id: str | None = Field(default=None, min_length=1, max_length=128)


class FlowLogSpec(_Model):
    """What flow logs to have, in provider-neutral terms.

    >>> FlowLogSpec(resources={"kind": "vpc", "ids": ["vpc-0abc"]},
    ...             destination={"kind": "s3", "bucket": "arn:aws:s3:::central-logs"},
    ...             interval=60).interval
    60

    :param resources: the kind of resource and its ids; one flow log per id.
    :param destination: where records go (``cloudwatch_logs``, ``s3``, ``firehose``, ``sls``).
    :param traffic: ``all``, ``accept`` or ``reject``; ``None`` takes the provider's default for the kind
        (``all``, and nothing for transit gateways, which take no traffic type).
    :param interval: the aggregation interval in seconds; ``None`` takes the provider's default.
    :param interval_policy: ``exact`` refuses an interval the provider lacks; ``finer`` picks the nearest
        finer one it has (an explicit opt-in: multiflow never rounds on its own).
    :param fields: record fields by neutral name (``src_addr``, ``dst_port``...); ``None`` is the default format.
    :param name: a name (AWS: the ``Name`` tag; Alibaba: ``FlowLogName``).
    :param description: a description (Alibaba only).
    :param tags: tags to put on each flow log.
    :param aws: options only AWS reads; ignored by other providers.
    :param alibaba: options only Alibaba Cloud reads; ignored by other providers.
    :param options: option blocks of third-party providers, by provider name, checked by that provider.
    """

    resources: Resources
    destination: Destination
    traffic: Traffic | None = None
    interval: int | None = Field(default=None, gt=0, le=86400)
    interval_policy: Literal["exact", "finer"] = "exact"
    fields: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1, max_length=256)
    description: str | None = Field(default=None, min_length=1, max_length=1024)
    tags: dict[Annotated[str, Field(min_length=1)], str] = Field(default_factory=dict)
    aws: AwsOptions | None = None
    alibaba: AlibabaOptions | None = None
    options: dict[str, dict[str, Any]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fields_unique(self) -> FlowLogSpec:
        if self.fields is not None and len(set(self.fields)) != len(self.fields):
            repeated = sorted({f for f in self.fields if self.fields.count(f) > 1})
            raise ValueError(f"fields must be unique; repeated: {', '.join(repeated)}")
        return self

    def settings_digest(self) -> str:
        """A stable digest of everything but the resource ids: equal settings, equal digest.

        Used to tag what multiflow creates (``multiflow:spec``) and to group resources into batches.
        """
        data = self.model_dump(mode="json", exclude={"resources": {"ids"}})
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def for_ids(self, ids: list[str]) -> FlowLogSpec:
        """The same settings for other resource ids (of the same kind)."""
        return self.model_copy(update={"resources": Resources(kind=self.resources.kind, ids=ids)})
