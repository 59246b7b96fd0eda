"""What clouds report, and what providers can do, in neutral terms.

:class:`FlowLog` is a flow log as a cloud reports it; :class:`Capabilities` is what a provider declares it can
take, as data, so that specs are checked before any call and users can compare providers (``multiflow
providers``).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, SerializeAsAny

from multiflow.spec import DestinationField, ProviderOptions, ResourceKind, Traffic

__all__ = ["Capabilities", "CloudResource", "DeliveryStatus", "FlowLog", "FlowLogStatus", "ResourceRef"]


class FlowLogStatus(str, Enum):
    """A flow log's lifecycle state, neutral.

    AWS flow logs are ``active`` at once. Alibaba's go ``activating`` → ``active``; ``inactive`` when stopped;
    ``deleting`` until gone.
    """

    ACTIVATING = "activating"
    ACTIVE = "active"
    INACTIVE = "inactive"
    DEACTIVATING = "deactivating"
    DELETING = "deleting"
    FAILED = "failed"
    UNKNOWN = "unknown"

    @property
    def transitional(self) -> bool:
        """Whether the cloud is still moving the flow log to another state."""
        return self in {FlowLogStatus.ACTIVATING, FlowLogStatus.DEACTIVATING, FlowLogStatus.DELETING}


class DeliveryStatus(str, Enum):
    """Whether records reach the destination (AWS ``DeliverLogsStatus``; Alibaba's delivery status)."""

    OK = "ok"
    FAILED = "failed"
    #: The cloud holds the flow log for the account's or the destination's state (Alibaba ``BusinessStatus``
    #: ``Abnormal``: an overdue account, a deleted logstore): nothing is delivered until that is put right.
    SUSPENDED = "suspended"
    UNKNOWN = "unknown"


class ResourceRef(BaseModel):
    """The resource a flow log watches."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ResourceKind | None
    id: str


class CloudResource(BaseModel):
    """A resource a flow log can watch, with where it sits: its VPC and (for an ENI) its subnet.

    What a provider's ``inventory`` lists, so that audits can count a VPC's flow log for its subnets and ENIs.
    ``vpc_id`` is ``None`` for a VPC itself; ``subnet_id`` is set for network interfaces only.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ResourceKind
    id: str
    vpc_id: str | None = None
    subnet_id: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class FlowLog(BaseModel):
    """A flow log as a cloud reports it, in neutral terms, with the cloud's own record in ``raw``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    provider: str
    region: str
    resource: ResourceRef
    status: FlowLogStatus
    traffic: Traffic | None = None
    destination: DestinationField | None = None
    interval: int | None = Field(default=None, description="Aggregation interval in seconds")
    fields: list[str] | None = Field(default=None, description="Record fields by neutral name; None = default")
    name: str | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    options: SerializeAsAny[ProviderOptions] | None = Field(
        default=None,
        description="The provider's options as the cloud reports them back (the fields read are those set)",
    )
    delivery_status: DeliveryStatus = DeliveryStatus.UNKNOWN
    delivery_error: str | None = None
    created_at: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict, repr=False, description="The provider's record, as sent")

    @classmethod
    def trusted(cls, **values: Any) -> FlowLog:
        """A FlowLog from values a provider's mapping code has already typed: no validation, every field given.

        ``model_construct`` with all fields spelt out, minus its per-field default handling: describing 100,000
        flow logs builds 100,000 of these, and this is ten times cheaper. Providers use it only for values they
        built themselves; ``tests/core/test_model.py`` checks the result equals a validated FlowLog.
        """
        if values.keys() != _FLOW_LOG_FIELDS:
            missing = ", ".join(sorted(_FLOW_LOG_FIELDS - values.keys())) or "none"
            raise TypeError(f"FlowLog.trusted needs exactly every field; missing: {missing}")
        return _trusted(cls, values, _FLOW_LOG_FIELDS_SET)


def _trusted(cls: type[_M], values: dict[str, Any], fields_set: set[str]) -> _M:
    """What ``model_construct`` makes when every field is given, without its per-field work.

    ``fields_set`` is one set shared by every instance: the models are frozen, so pydantic never changes it
    (``model_copy`` copies it first). Sharing it saves some 700 bytes per instance.
    """
    made = cls.__new__(cls)
    _set(made, "__dict__", values)
    _set(made, "__pydantic_fields_set__", fields_set)
    _set(made, "__pydantic_extra__", None)
    _set(made, "__pydantic_private__", None)
    return made


_M = TypeVar("_M", bound=BaseModel)
_set = object.__setattr__
_FLOW_LOG_FIELDS = frozenset(FlowLog.model_fields)
_FLOW_LOG_FIELDS_SET = set(_FLOW_LOG_FIELDS)
_RESOURCE_REF_FIELDS_SET = set(ResourceRef.model_fields)


def resource_ref(kind: ResourceKind | None, resource_id: str) -> ResourceRef:
    """A ResourceRef built as :meth:`FlowLog.trusted` builds flow logs: for provider mapping code's own values."""
    return _trusted(ResourceRef, {"kind": kind, "id": resource_id}, _RESOURCE_REF_FIELDS_SET)


class Capabilities(BaseModel):
    """What a provider can take, declared as data and checked before any API call.

    Mappings keyed by :class:`ResourceKind` cover every kind in ``resource_kinds``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    resource_kinds: tuple[ResourceKind, ...]
    traffic: dict[ResourceKind, tuple[Traffic, ...]] = Field(
        description="Traffic values per kind; empty where the kind takes no traffic type"
    )
    default_traffic: dict[ResourceKind, Traffic | None]
    intervals: dict[ResourceKind, tuple[int, ...]] = Field(description="Allowed intervals in seconds per kind")
    default_interval: dict[ResourceKind, int]
    destinations: tuple[str, ...] = Field(description="Destination kinds the provider writes to")
    fields: dict[ResourceKind, tuple[str, ...]] = Field(
        description="Record fields by neutral name per kind; empty where custom fields are not offered"
    )
    ids_per_call: dict[ResourceKind, int]
    max_tags: int
    max_tag_key_length: int
    max_tag_value_length: int
    reserved_tag_prefixes: tuple[str, ...] = ()
    name_max_length: int | None = Field(description="None where the provider keeps no name")
    description_max_length: int | None = Field(description="None where the provider keeps no description")
    start_stop: bool = False
    modifiable: tuple[str, ...] = Field(
        default=(),
        description="What changes in place: name, description, interval, tags, and options.FIELD for an option field",
    )
    selectable_kinds: tuple[ResourceKind, ...] = Field(
        default=(), description="Kinds a fleet selector (where:) may name: those the session lists"
    )
    readable_options: tuple[str, ...] = Field(
        default=(),
        description="Option fields the cloud reports back: compared attribute by attribute, not by the spec digest",
    )
    async_activation: bool = False
    dry_run: bool = False
    one_flow_log_per_resource: bool = Field(
        default=False, description="Whether the cloud refuses a second flow log on a resource whatever its destination"
    )
    regions: tuple[str, ...] = Field(
        default=(), description="The regions the provider knows; empty where it keeps no list (any safe name then)"
    )
    region_pattern: str | None = Field(
        default=None,
        description="A strict pattern (full match) of region names; a region newer than the list passes only "
        "when listed in MULTIFLOW_EXTRA_REGIONS and matching it",
    )
    id_patterns: dict[ResourceKind, str] = Field(
        default_factory=dict,
        description="The pattern (full match) of a resource id per kind; kinds absent here take any safe id",
    )

    def summary(self) -> dict[str, Any]:
        """A JSON-ready view, for ``multiflow providers`` and the docs."""
        return self.model_dump(mode="json")
