"""The provider-neutral description of a flow log: :class:`FlowLogSpec` and its parts.

A spec says *what* to log (a kind of resource and its ids, which traffic, how often, which fields) and *where*
(a destination). Providers map it onto their own API; what a provider cannot take is refused before any call,
by :func:`multiflow.validate.check_spec`.

The core owns no cloud's vocabulary. Two parts of a spec belong to providers, and are validated by the models
the loaded providers declare (:attr:`multiflow.provider.Provider.destinations` and
:attr:`~multiflow.provider.Provider.options`):

- ``destination``: a :class:`Destination` subclass, chosen by its ``kind`` (``s3`` and ``cloudwatch_logs`` come
  with the AWS provider, ``sls`` with Alibaba's, and a plugin may add its own);
- ``options``: one block per provider, ``{provider name: block}``, each checked by that provider's
  :class:`ProviderOptions` model. A spec may also give a block under the provider's name (``aws={...}``), as fleet
  files do (``aws:``); it lands in ``options``.

Intervals are always in seconds here, whatever the cloud's unit.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from multiflow.errors import SpecError

__all__ = [
    "Destination",
    "DestinationField",
    "FlowLogSpec",
    "ProviderOptions",
    "ResourceKind",
    "Resources",
    "SpecModel",
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
    CORE_NETWORK = "core_network"
    CORE_NETWORK_ATTACHMENT = "core_network_attachment"


class Traffic(str, Enum):
    """Which traffic a flow log records."""

    ALL = "all"
    ACCEPT = "accept"
    REJECT = "reject"


def spec_error_from_validation(exc: ValidationError, prefix: str = "", provider: str | None = None) -> SpecError:
    """Turn pydantic's first complaint into a :class:`SpecError` naming field, value and what is allowed.

    Every complaint stays available as ``error.errors`` (pydantic's list).
    """
    complaints = exc.errors(include_url=False)
    first = complaints[0]
    field = ".".join(str(part) for part in (*([prefix] if prefix else []), *first["loc"])) or "spec"
    message = first["msg"].removeprefix("Value error, ")
    return SpecError(field, first.get("input"), message, provider=provider, errors=complaints)


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


class SpecModel(BaseModel):
    """Strict, immutable base of every part of a spec: unknown keys are errors, bad input is a SpecError.

    Providers' destination and options models derive from it (through :class:`Destination` and
    :class:`ProviderOptions`), so a mistake in them reads like a mistake anywhere else in a spec.
    """

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

    # Tells pydantic that this __init__ only wraps its own: validation (model_validate, nested models, strict JSON
    # for fleet files) then runs pydantic's validator directly instead of calling this __init__ in lax Python
    # mode, which would lose strictness. tests/core/test_hostile_input.py fails if pydantic stops honouring it.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]


class Destination(SpecModel):
    """Where records go. Providers declare subclasses, each with a ``kind: Literal[...]`` of its own.

    >>> class Bucket(Destination):
    ...     kind: Literal["bucket"] = "bucket"
    ...     name: str
    """

    kind: str

    def label(self) -> str:
        """Where records go, as a person names it, for tables (``multiflow list``): the kind and the first field
        that says where. Providers override it with their cloud's own notation (``s3://bucket/prefix``)."""
        where = next((str(v) for k, v in self.model_dump(mode="json").items() if k != "kind" and v), "")
        return f"{self.kind}:{where}" if where else self.kind


class ProviderOptions(SpecModel):
    """Base of a provider's options block (``options: {provider: {...}}``, or ``aws:`` in a fleet file)."""


def _loaded_models() -> tuple[Mapping[str, type[Destination]], Mapping[str, type[ProviderOptions]]]:
    # The one place the neutral spec asks the loaded providers for their models. Imported here, not at the top:
    # the plugin layer is built on this module (providers subclass Destination), so the module-level import graph
    # stays acyclic, and `import multiflow.spec` loads no plugin until a spec actually names a destination.
    # Looked up once: a `from ... import` on every model validated was a third of a 20,000-entry fleet's specs.
    global _plugins
    if _plugins is None:
        from multiflow import plugins

        _plugins = plugins
    return _plugins.loaded_models()


_plugins: Any = None


_M = TypeVar("_M", bound=BaseModel)


def _validated(model: type[_M], value: Any, info: ValidationInfo) -> _M:
    """``value`` validated by a provider's ``model``: strictly (as JSON: no ``"60"`` for a number, no ``"yes"``
    for a boolean) where the whole document is being validated so, as fleet files are; else as given."""
    if info.mode == "json":
        return model.model_validate_json(json.dumps(value), strict=True)
    return model.model_validate(value)


def _resolve_destination(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Destination:
    if isinstance(value, Destination):
        if type(value) is Destination:
            raise ValueError("a provider's destination model (a subclass of Destination), not Destination itself")
        return value
    if not isinstance(value, Mapping):
        raise ValueError("a mapping with a kind")
    destinations, _ = _loaded_models()
    kind = value.get("kind")
    model = destinations.get(kind) if isinstance(kind, str) else None
    if model is None:
        raise ValueError(f"a kind the loaded providers write to: {', '.join(repr(k) for k in sorted(destinations))}")
    return _validated(model, dict(value), info)


DestinationField = Annotated[SerializeAsAny[Destination], WrapValidator(_resolve_destination)]
"""A destination, validated by the model of its ``kind`` among those the loaded providers declare."""


def _resolve_options(
    value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> dict[str, ProviderOptions]:
    if not isinstance(value, Mapping):
        raise ValueError("a mapping of provider name to its options block")
    _, models = _loaded_models()
    resolved: dict[str, ProviderOptions] = {}
    for name, block in value.items():
        model = models.get(name)
        if model is None:
            known = ", ".join(repr(k) for k in sorted(models)) or "none"
            raise ValueError(
                f"options for {name!r}: no loaded provider of that name takes options (those that do: {known})"
            )
        if isinstance(block, model):
            resolved[name] = block
            continue
        try:
            resolved[name] = _validated(model, block if block is not None else {}, info)
        except ValidationError as exc:
            raise located_error(exc, name) from None
    return resolved


def located_error(exc: ValidationError, *prefix: str | int) -> ValidationError:
    """``exc`` with ``prefix`` before each location (pydantic adds none for a model validated by hand)."""
    return ValidationError.from_exception_data(
        exc.title,
        [
            {
                "type": error["type"],
                "loc": (*prefix, *error["loc"]),
                "input": error["input"],
                "ctx": error.get("ctx", {}),
            }
            for error in exc.errors(include_url=False)
        ],
    )


OptionsField = Annotated[dict[str, SerializeAsAny[ProviderOptions]], WrapValidator(_resolve_options)]
"""Option blocks by provider name, each validated by that provider's model."""


def lift_option_blocks(data: Any) -> Any:
    """Move top-level keys named after a provider that takes options (``aws:``) into ``options``.

    Both spellings of a block for the same provider at once is an error: which one was meant is not clear.
    """
    if not isinstance(data, Mapping):
        return data
    _, models = _loaded_models()
    named = [key for key in data if key in models]
    if not named:
        return data
    given = data.get("options")
    if given is not None and not isinstance(given, Mapping):
        return data  # not a mapping: the options field refuses it, with its location
    lifted = {key: value for key, value in data.items() if key not in models}
    options = dict(given or {})
    for key in named:
        if key in options:
            raise ValueError(f"options for {key!r} given twice, as {key}: and as options.{key}; keep one")
        options[key] = data[key]
    lifted["options"] = options
    return lifted


_ID = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]


class Resources(SpecModel):
    """The resources to log: one kind, one or more ids (deduplicated, order kept)."""

    kind: ResourceKind
    ids: list[_ID] = Field(min_length=1)

    @field_validator("ids")
    @classmethod
    def _no_duplicates(cls, ids: list[str]) -> list[str]:
        if len(set(ids)) != len(ids):
            repeated = sorted(item for item, count in Counter(ids).items() if count > 1)
            raise ValueError(f"ids must be unique; repeated: {', '.join(repeated)}")
        return ids


class FlowLogSpec(SpecModel):
    """What flow logs to have, in provider-neutral terms.

    >>> spec = FlowLogSpec(resources={"kind": "vpc", "ids": ["vpc-0abc"]},
    ...                    destination={"kind": "s3", "bucket": "arn:aws:s3:::central-logs"},
    ...                    interval=60, aws={"cross_account_role": None})
    >>> spec.interval, sorted(spec.options)
    (60, ['aws'])

    :param resources: the kind of resource and its ids; one flow log per id.
    :param destination: where records go, by ``kind``: one of the kinds the loaded providers declare
        (``cloudwatch_logs``, ``s3``, ``firehose`` with AWS; ``sls`` with Alibaba).
    :param traffic: ``all``, ``accept`` or ``reject``; ``None`` takes the provider's default for the kind
        (``all``, and nothing for transit gateways, which take no traffic type).
    :param interval: the aggregation interval in seconds; ``None`` takes the provider's default.
    :param interval_policy: ``exact`` refuses an interval the provider lacks; ``finer`` picks the nearest
        finer one it has (an explicit opt-in: multiflow never rounds on its own).
    :param fields: record fields by neutral name (``src_addr``, ``dst_port``...); ``None`` is the default format.
    :param name: a name (AWS: the ``Name`` tag; Alibaba: ``FlowLogName``).
    :param description: a description (Alibaba only).
    :param tags: tags to put on each flow log.
    :param options: option blocks by provider name, each checked by that provider's model and read by that
        provider only (``{"aws": {"cross_account_role": ...}}``); ``aws=...`` is the same as
        ``options={"aws": ...}``.
    """

    resources: Resources
    destination: DestinationField
    traffic: Traffic | None = None
    interval: int | None = Field(default=None, gt=0, le=86400)
    interval_policy: Literal["exact", "finer"] = "exact"
    fields: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] | None = Field(default=None, min_length=1)
    name: str | None = Field(default=None, min_length=1, max_length=256)
    description: str | None = Field(default=None, min_length=1, max_length=1024)
    tags: dict[Annotated[str, Field(min_length=1)], str] = Field(default_factory=dict)
    options: OptionsField = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lift_option_blocks(cls, data: Any) -> Any:
        return lift_option_blocks(data)

    @model_validator(mode="after")
    def _fields_unique(self) -> FlowLogSpec:
        if self.fields is not None and len(set(self.fields)) != len(self.fields):
            repeated = sorted(item for item, count in Counter(self.fields).items() if count > 1)
            raise ValueError(f"fields must be unique; repeated: {', '.join(repeated)}")
        return self

    def options_for(self, provider: str) -> ProviderOptions | None:
        """The options block of ``provider``, validated by its model; ``None`` where the spec gives none."""
        return self.options.get(provider)

    def settings_digest(self) -> str:
        """A stable digest of everything but the resource ids: equal settings, equal digest.

        Used to group resources with the same settings into batches.
        """
        data = self.model_dump(mode="json", exclude={"resources": {"ids"}})
        canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def for_ids(self, ids: list[str]) -> FlowLogSpec:
        """The same settings for other resource ids (of the same kind)."""
        return self.model_copy(update={"resources": Resources(kind=self.resources.kind, ids=ids)})
