"""A fleet file: many flow logs, on several clouds and regions, in one YAML document.

```yaml
name: netops                      # optional; the file's stem otherwise. Scopes what plan may delete.
defaults:                         # merged under every entry (tags are merged key by key)
  traffic: all
  interval: 60
  tags: {team: netops}
flow_logs:
  - name: prod-vpcs               # unique; becomes the flow logs' name
    provider: aws
    regions: [us-east-1, eu-west-1]
    resources: {kind: vpc, where: {"tag:env": prod}}      # or ids: [vpc-0abc, ...]
    destination: {kind: s3, bucket: arn:aws:s3:::central-flowlogs, prefix: prod/}
```

Errors point at the file, the line and the field: ``fleet.yaml:12: flow_logs[0].interval=61 is not allowed ...``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator, model_validator

from multiflow.errors import SpecError
from multiflow.spec import (
    DestinationField,
    FlowLogSpec,
    OptionsField,
    ResourceKind,
    Resources,
    Traffic,
    lift_option_blocks,
    nested_validation,
)

__all__ = [
    "SELECTED",
    "Fleet",
    "FleetEntry",
    "FleetError",
    "ResourceSelector",
    "Target",
    "load",
    "loads",
]

#: The one resource id a selector entry's spec carries until plan lists the resources its selector matches,
#: so that the entry's settings are validated, once, before any call.
SELECTED = "selected-by-where"

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class FleetError(SpecError):
    """A fleet file that cannot be used, located: file, line, field, value and what is allowed."""

    def __init__(self, source: str, line: int | None, field: str, value: Any, allowed: object, **kw: Any) -> None:
        self.source = source
        self.line = line
        super().__init__(field, value, allowed, **kw)

    def _message(self) -> str:
        where = f"{self.source}:{self.line}: " if self.line else f"{self.source}: "
        return where + super()._message()


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ResourceSelector(_Strict):
    """Which resources: explicit ``ids``, or every resource of ``kind`` whose tags match ``where``.

    ``where`` keys are ``tag:KEY`` with a value, or ``"*"`` for any value.
    """

    kind: ResourceKind
    ids: list[str] | None = Field(default=None, min_length=1)
    where: dict[str, str] | None = None

    @model_validator(mode="after")
    def _one_of(self) -> ResourceSelector:
        if (self.ids is None) == (self.where is None):
            raise ValueError("give exactly one of ids or where")
        for key in self.where or {}:
            if not key.startswith("tag:") or len(key) < 5:
                raise ValueError(f"where keys are tag:KEY; got {key!r}")
        return self

    def tag_filter(self) -> dict[str, str | None]:
        """``where`` as tag key → value (``None`` for any value)."""
        return {k[4:]: (None if v == "*" else v) for k, v in (self.where or {}).items()}


class _Settings(_Strict):
    """What an entry and the defaults share."""

    traffic: Traffic | None = None
    interval: int | None = Field(default=None, gt=0)
    interval_policy: Literal["exact", "finer"] | None = None
    fields: list[str] | None = None
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    destination: DestinationField | None = None
    options: OptionsField = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _lift_option_blocks(cls, data: Any) -> Any:
        return lift_option_blocks(data)


class FleetEntry(_Settings):
    """One entry: a set of flow logs on one provider, in one or more regions."""

    name: str = Field(pattern=_NAME)
    provider: str = Field(min_length=1)
    regions: list[str] = Field(min_length=1)
    resources: ResourceSelector

    @field_validator("regions")
    @classmethod
    def _unique_regions(cls, regions: list[str]) -> list[str]:
        if len(set(regions)) != len(regions):
            raise ValueError("regions must be unique")
        return regions


class Fleet(_Strict):
    """A whole fleet file: its name, defaults and entries."""

    name: str = Field(pattern=_NAME)
    defaults: _Settings = Field(default_factory=_Settings)
    flow_logs: list[FleetEntry] = Field(min_length=1)
    source: str = Field(default="<fleet>", exclude=True)
    _node: Any = PrivateAttr(default=None)
    _validated: bool = PrivateAttr(default=False)

    @property
    def validated(self) -> bool:
        """Whether :func:`multiflow.validate.validate_fleet` has checked this fleet (it is immutable)."""
        return self._validated

    def mark_validated(self) -> None:
        """Record that every entry passed its provider's checks; for :func:`~multiflow.validate.validate_fleet`."""
        self._validated = True

    @model_validator(mode="after")
    def _unique_names(self) -> Fleet:
        counts = Counter(entry.name for entry in self.flow_logs)
        repeated = sorted(name for name, count in counts.items() if count > 1)
        if repeated:
            raise ValueError(f"entry names must be unique; repeated: {', '.join(repeated)}")
        return self

    def spec_for(self, entry: FleetEntry, ids: list[str]) -> FlowLogSpec:
        """The FlowLogSpec of ``entry`` (defaults merged in) for ``ids``.

        The entry's value of a setting wins over the defaults'; tags and option blocks merge key by key (the
        entry's tag or block wins for the same key).
        """
        merged: dict[str, Any] = {}
        for field in _Settings.model_fields:
            if field in entry.model_fields_set:
                merged[field] = getattr(entry, field)
            elif field in self.defaults.model_fields_set:
                merged[field] = getattr(self.defaults, field)
        merged["tags"] = {**self.defaults.tags, **entry.tags}
        merged["options"] = {**self.defaults.options, **entry.options}
        if merged.get("destination") is None:
            raise SpecError("destination", None, "a destination, in the entry or in defaults")
        merged = {k: v for k, v in merged.items() if v is not None}
        resources = Resources(kind=entry.resources.kind, ids=list(ids))
        return FlowLogSpec(resources=resources, name=entry.name, **merged)

    @cached_property
    def _targets(self) -> tuple[Target, ...]:
        targets = []
        for index, entry in enumerate(self.flow_logs):
            try:
                spec = self.spec_for(entry, list(entry.resources.ids or [SELECTED]))
            except SpecError as exc:
                raise self.error_at(index, exc) from None
            targets += [Target(entry=entry, region=region, spec=spec, index=index) for region in entry.regions]
        return tuple(targets)

    def line_of(self, *path: str | int) -> int | None:
        """The line in the file of ``path`` (e.g. ``"flow_logs", 0, "interval"``), or of its nearest parent."""
        return _line_of(self._node, list(path))

    def error_at(self, index: int, exc: SpecError) -> FleetError:
        """``exc`` about entry ``index``, located in the file."""
        entry = self.flow_logs[index]
        path: list[str | int] = ["flow_logs", index]
        first = exc.field.split(".")[0].split("[")[0]
        if first in entry.model_fields_set:
            path.append(first)
        elif first in self.defaults.model_fields_set:
            path = ["defaults", first]
        return FleetError(
            self.source,
            self.line_of(*path),
            f"flow_logs[{index}].{exc.field}",
            exc.value,
            exc.allowed,
            provider=exc.provider,
            reason=exc.reason,
        )

    def targets(self) -> tuple[Target, ...]:
        """Every (entry, region) pair, in file order, each with the entry's spec: resolved once, then shared.

        A FleetError (located) where an entry's merged settings are not a valid spec.
        """
        return self._targets


@dataclass(frozen=True)
class Target:
    """One entry in one region, with the entry's spec (defaults merged, validated as a model).

    ``spec`` carries the entry's explicit ids, or :data:`SELECTED` for a selector entry until plan resolves it
    (:meth:`with_ids`). ``index`` is the entry's position in the file, to locate errors.
    """

    entry: FleetEntry
    region: str
    spec: FlowLogSpec
    index: int

    @property
    def provider(self) -> str:
        """The entry's provider name."""
        return self.entry.provider

    def with_ids(self, ids: list[str]) -> FlowLogSpec:
        """The entry's spec for ``ids`` (the resources resolved in this region)."""
        return self.spec.for_ids(ids)


def loads(text: str, source: str = "<fleet>", default_name: str = "fleet") -> Fleet:
    """Parse a fleet document; a FleetError names the line of whatever is wrong."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a safe loader: see _Loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        raise FleetError(source, line, "yaml", getattr(exc, "problem", str(exc)), "a valid YAML document") from None
    if not isinstance(data, dict):
        raise FleetError(source, 1, "document", type(data).__name__, "a mapping with flow_logs (and defaults)")
    data.setdefault("name", _safe_name(default_name))
    try:
        with nested_validation():
            fleet = Fleet.model_validate({**data, "source": source})
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = list(first["loc"])
        raise FleetError(source, _line_of(node, path), _dotted(path), first.get("input"), first["msg"]) from None
    except SpecError as exc:
        raise FleetError(source, None, exc.field, exc.value, exc.allowed) from None
    fleet._node = node
    return fleet


def load(path: str | Path) -> Fleet:
    """Read and parse a fleet file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise FleetError(str(file), None, "path", str(file), f"a readable file ({exc.strerror})") from None
    return loads(text, source=str(file), default_name=file.stem)


#: libyaml's safe loader where PyYAML was built with it (ten times faster on large files), else PyYAML's own.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name).strip("-._") or "fleet"
    return cleaned[:64]


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _line_of(node: yaml.Node | None, path: list[Any]) -> int | None:
    """The 1-based line of the deepest node on ``path`` that exists in the document."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in path:
        if isinstance(node, yaml.MappingNode):
            match = next((value for key, value in node.value if getattr(key, "value", None) == part), None)
            if match is None and part == "options":
                continue  # a provider's block written at the top level (aws:), lifted into options
            if match is None:
                key_node = next((key for key, _ in node.value if getattr(key, "value", None) == part), None)
                return key_node.start_mark.line + 1 if key_node is not None else line
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            return line
        line = node.start_mark.line + 1
    return line
