"""A fleet file: many flow logs, on several clouds and regions, in one YAML document.

```yaml
name: netops                      # optional; the file's stem otherwise. Scopes what plan may delete.
accounts:                         # optional: the accounts covered, per provider (the SDK's default otherwise)
  aws:
    - organization: {role_name: OrganizationAccountAccessRole, units: [ou-ab12-34cd5678]}
defaults:                         # merged under every entry (tags are merged key by key)
  traffic: all
  interval: 60
  tags: {team: netops}
flow_logs:
  - name: prod-vpcs               # unique; becomes the flow logs' name
    provider: aws
    regions: [us-east-1, eu-west-1]   # or: all (every region each account can use)
    resources: {kind: vpc, where: {"tag:env": prod}}      # or ids: [vpc-0abc, ...]
    destination: {kind: s3, bucket: arn:aws:s3:::central-flowlogs, prefix: prod/}
```

Errors point at the file, the line, the column and the field: ``fleet.yaml:12:15: flow_logs[0].interval=61 is not
allowed ...``; every problem of a file is reported at once (:attr:`FleetError.problems`).

The file is read once, bounded (:data:`MAX_FLEET_BYTES`, regular files only: never a FIFO or a device), decoded
as UTF-8 and parsed once as YAML 1.2 (``yes`` is a string; ``0x3C`` and ``1:00`` are not numbers). Duplicate
keys, aliases (``*name``, ``<<:``) and explicit tags (``!!set``, ``!!python/...``) are refused: each is a located
error, and none can make a small file expand into a large value. A file with nothing to refuse is read by
libyaml (:mod:`multiflow.fleet_fast`); any other by ruamel.yaml, which locates each problem (:class:`_Document`).
"""

from __future__ import annotations

import difflib
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.composer import Composer
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent, CollectionStartEvent, ScalarEvent
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from multiflow.accounts import DEFAULT_ACCOUNT, AccountSource
from multiflow.errors import SpecError
from multiflow.fleet_fast import (
    FLOAT,
    INT,
    MAPPING_NODES,
    MAX_DEPTH,
    SCALAR_NODES,
    SEQUENCE_NODES,
    UNCLEAN,
    clean_values,
    collection_paused,
    located_nodes,
)
from multiflow.spec import (
    DestinationField,
    FlowLogSpec,
    OptionsField,
    ResourceKind,
    Resources,
    Traffic,
    lift_option_blocks,
    located_error,
    nested_validation,
)

__all__ = [
    "ALL_REGIONS",
    "MAX_FLEET_BYTES",
    "SELECTED",
    "Fleet",
    "FleetEntry",
    "FleetError",
    "ResourceSelector",
    "Target",
    "load",
    "load_accounts",
    "loads",
]

#: The one resource id a selector entry's spec carries until plan lists the resources its selector matches,
#: so that the entry's settings are validated, once, before any call.
SELECTED = "selected-by-where"

_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

#: The largest fleet file read (16 MiB: some 150,000 entries written one a line); a larger one is refused unread.
MAX_FLEET_BYTES = 16 * 1024 * 1024
#: How many problems a FleetError's message lists (all are kept in ``problems``).
_LISTED = 50


class FleetError(SpecError):
    """A fleet file that cannot be used, located: file, line, column, field, value and what is allowed.

    ``problems`` holds every problem found in the file (this one first), in file order; the message's first line
    is the first problem, and the others follow (the first 50), each on its own line.
    """

    def __init__(
        self,
        source: str,
        line: int | None,
        field: str,
        value: Any,
        allowed: object,
        *,
        column: int | None = None,
        problems: Iterable[FleetError] = (),
        **kw: Any,
    ) -> None:
        self.source = source
        self.line = line
        self.column = column
        self.problems: list[FleetError] = [self, *problems]
        super().__init__(field, value, allowed, **kw)

    @classmethod
    def of(cls, problems: list[FleetError]) -> FleetError:
        """One error carrying every problem of ``problems`` (at least one), in file order."""
        ordered = sorted(problems, key=lambda p: (p.line or 0, p.column or 0))
        first = ordered[0]
        return cls(
            first.source,
            first.line,
            first.field,
            first.value,
            first.allowed,
            column=first.column,
            problems=ordered[1:],
            provider=first.provider,
            reason=first.reason,
        )

    def location(self) -> str:
        """``file:line:column``, as far as it is known."""
        parts = [self.source] + [str(n) for n in (self.line, self.column) if n]
        return ":".join(parts[: 2 if self.line and not self.column else 3])

    def _message(self) -> str:
        own = f"{self.location()}: {super()._message()}"
        others = [p for p in getattr(self, "problems", []) if p is not self]
        if not others:
            return own
        listed = [p._own_message() for p in others[: _LISTED - 1]]
        more = len(others) - len(listed)
        tail = [f"... and {more} more"] if more > 0 else []
        return "\n  ".join([f"{own}; and {len(others)} more problem(s) found in this pass:", *listed, *tail])

    def _own_message(self) -> str:
        return f"{self.location()}: {SpecError._message(self)}"


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
        if self.where == {}:
            raise ValueError("where: {} would select every resource of the region (the default VPC too); give tag:KEY")
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


#: ``regions: all``: every region each account can use (the provider's ``RegionLister`` says which).
ALL_REGIONS = "all"


class FleetEntry(_Settings):
    """One entry: a set of flow logs on one provider, in one or more regions (or ``all``), of the fleet's
    accounts (or of those ``accounts`` names: ids, or names the organization gives)."""

    name: str = Field(pattern=_NAME)
    provider: str = Field(min_length=1)
    regions: list[str] | Literal["all"] = Field(min_length=1)
    accounts: list[str] | None = Field(default=None, min_length=1)
    resources: ResourceSelector

    @field_validator("regions", mode="before")
    @classmethod
    def _regions_or_all(cls, regions: Any) -> Any:
        if isinstance(regions, str) and regions != ALL_REGIONS:
            raise ValueError(f"a list of region names, or {ALL_REGIONS} (every region each account can use)")
        return regions

    @field_validator("regions", "accounts")
    @classmethod
    def _unique(cls, values: list[str] | str | None) -> list[str] | str | None:
        if isinstance(values, list) and len(set(values)) != len(values):
            raise ValueError("each value once")
        return values

    @property
    def all_regions(self) -> bool:
        """Whether the entry says ``regions: all``."""
        return self.regions == ALL_REGIONS

    @property
    def region_list(self) -> list[str]:
        """The regions the entry names (none for ``regions: all``: those come from each account)."""
        return [] if isinstance(self.regions, str) else list(self.regions)


def _resolve_accounts(
    value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo
) -> dict[str, list[AccountSource]]:
    if not isinstance(value, Mapping):
        raise ValueError("a mapping of provider name to a list of its account sources")
    from multiflow.plugins import account_models

    models = account_models()
    resolved: dict[str, list[AccountSource]] = {}
    problems: list[ValidationError] = []
    for name, items in value.items():
        model = models.get(name)
        if model is None:
            known = ", ".join(repr(k) for k in sorted(models)) or "none"
            raise ValueError(f"accounts for {name!r}: no loaded provider of that name covers many accounts ({known})")
        if not isinstance(items, list) or not items:
            raise ValueError(f"accounts.{name}: a non-empty list of account sources")
        listed: list[AccountSource] = []
        for n, item in enumerate(items):
            if isinstance(item, model):
                listed.append(item)
                continue
            try:
                if info.mode == "json":
                    listed.append(model.model_validate_json(json.dumps(item), strict=True))
                else:
                    listed.append(model.model_validate(item))
            except ValidationError as exc:
                problems.append(located_error(exc, name, n))  # every item's problems, not the first item's only
        resolved[name] = listed
    if problems:
        raise ValidationError.from_exception_data(
            problems[0].title,
            [
                {"type": e["type"], "loc": e["loc"], "input": e["input"], "ctx": e.get("ctx", {})}
                for problem in problems
                for e in problem.errors(include_url=False)
            ],
        )
    return resolved


AccountsField = Annotated[dict[str, list[SerializeAsAny[AccountSource]]], WrapValidator(_resolve_accounts)]
"""Account sources by provider name, each validated by that provider's ``accounts`` model."""


class Fleet(_Strict):
    """A whole fleet file: its name, defaults and entries."""

    name: str = Field(pattern=_NAME)
    accounts: AccountsField = Field(default_factory=dict)
    sweep: Literal["all", "named"] | None = None
    defaults: _Settings = Field(default_factory=_Settings)
    flow_logs: list[FleetEntry] = Field(min_length=1)
    source: str = Field(default="<fleet>", exclude=True)
    _text: str | None = PrivateAttr(default=None)
    _clean: bool = PrivateAttr(default=False)
    _located: Any = PrivateAttr(default=None)
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
        problems = []
        for index, entry in enumerate(self.flow_logs):
            try:
                spec = self.spec_for(entry, list(entry.resources.ids or [SELECTED]))
            except SpecError as exc:
                problems.append(self.error_at(index, exc))
                continue
            regions = [ALL_REGIONS] if entry.all_regions else entry.region_list
            targets += [Target(entry=entry, region=region, spec=spec, index=index) for region in regions]
        if problems:
            raise FleetError.of(problems)
        return tuple(targets)

    def line_of(self, *path: str | int) -> int | None:
        """The line in the file of ``path`` (e.g. ``"flow_logs", 0, "interval"``), or of its nearest parent."""
        return _position(self._nodes(), list(path))[0]

    def error_at(self, index: int, exc: SpecError) -> FleetError:
        """``exc`` about entry ``index``, located in the file."""
        entry = self.flow_logs[index]
        path: list[str | int] = ["flow_logs", index]
        first = exc.field.split(".")[0].split("[")[0]
        if first in entry.model_fields_set:
            path.append(first)
        elif first in self.defaults.model_fields_set:
            path = ["defaults", first]
        index_in = re.match(r"(resources\.ids|regions)\[(\d+)\]", exc.field)
        if index_in and first in entry.model_fields_set:
            path += [*index_in.group(1).split(".")[1:], int(index_in.group(2))]
        line, column = _position(self._nodes(), path)
        return FleetError(
            self.source,
            line,
            f"flow_logs[{index}].{exc.field}",
            exc.value,
            exc.allowed,
            column=column,
            provider=exc.provider,
            reason=exc.reason,
        )

    def _nodes(self) -> Node | None:
        """The document's nodes, to locate an error: composed again from the text only when an error needs them.

        The file is parsed once on the way in; keeping its nodes (two marks each) would cost some 10 kB an entry,
        so they are made again, once, on the way to an error.
        """
        if self._located is None and self._text is not None:
            self._located = _Document(self._text, self.source, clean=self._clean).nodes()
        return self._located

    def targets(self) -> tuple[Target, ...]:
        """Every (entry, region) pair, in file order, each with the entry's spec: resolved once, then shared.

        An entry with ``regions: all`` has one target whose region is :data:`ALL_REGIONS`, and every target is
        in the default account: :func:`multiflow.scope.resolve` expands both, per account, with calls.

        A FleetError (located) where an entry's merged settings are not a valid spec.
        """
        return self._targets


@dataclass(frozen=True)
class Target:
    """One entry in one region of one account, with the entry's spec (defaults merged, validated as a model).

    ``spec`` carries the entry's explicit ids, or :data:`SELECTED` for a selector entry until plan resolves it
    (:meth:`with_ids`). ``index`` is the entry's position in the file, to locate errors. ``account`` is an
    account id (:data:`~multiflow.accounts.DEFAULT_ACCOUNT` where the fleet names no accounts).
    """

    entry: FleetEntry
    region: str
    spec: FlowLogSpec
    index: int
    account: str = DEFAULT_ACCOUNT

    @property
    def provider(self) -> str:
        """The entry's provider name."""
        return self.entry.provider

    def with_ids(self, ids: list[str]) -> FlowLogSpec:
        """The entry's spec for ``ids`` (the resources resolved in this region)."""
        return self.spec.for_ids(ids)


def loads(text: str, source: str = "<fleet>", default_name: str = "fleet") -> Fleet:
    """Parse a fleet document; a FleetError names the line and column of everything that is wrong."""
    with collection_paused():
        return _loads(text, source, default_name)


def _loads(text: str, source: str, default_name: str) -> Fleet:
    if len(text) > MAX_FLEET_BYTES:
        raise FleetError(source, None, "document", f"{len(text)} characters", f"at most {MAX_FLEET_BYTES} characters")
    document = _Document(text, source)
    problems: list[FleetError] = []
    data = document.values(problems)
    if not isinstance(data, dict):
        problems.append(
            FleetError(source, 1, "document", type(data).__name__, "a mapping with flow_logs (and defaults)")
        )
        raise FleetError.of(problems)
    data.setdefault("name", _safe_name(default_name))
    try:
        with nested_validation():
            # Strict, as JSON: "60" or true is no interval, "yes" no boolean; enum values are their strings.
            fleet = Fleet.model_validate_json(json.dumps({**data, "source": source}), strict=True)
    except ValidationError as exc:
        seen = {p.field for p in problems}  # a value the walk refused (and left out) is not reported twice
        found = [_problem(source, document.nodes(), error) for error in exc.errors(include_url=False)]
        raise FleetError.of(problems + [p for p in found if p.field not in seen]) from None
    except SpecError as exc:
        raise FleetError.of([*problems, FleetError(source, None, exc.field, exc.value, exc.allowed)]) from None
    if problems:
        raise FleetError.of(problems)
    fleet._text = text
    fleet._clean = document.clean
    return fleet


class _Document:
    """A fleet file's text, read the fast way where it is clean (:mod:`multiflow.fleet_fast`), else the located
    way (ruamel.yaml, :func:`_compose` and :class:`_Builder`), which reports every problem with its position."""

    def __init__(self, text: str, source: str, *, clean: bool = False) -> None:
        self.text = text
        self.source = source
        self.clean = clean  # whether the text is known clean (read by clean_values)
        self._nodes: Any = None

    def values(self, problems: list[FleetError]) -> Any:
        """The document's plain values; its problems (each located) are added to ``problems``."""
        data = clean_values(self.text)
        if data is not UNCLEAN:
            self.clean = True
            return data
        self._nodes = _compose(self.text, self.source)
        return _Builder(self.source, problems).value(self._nodes, [])

    def nodes(self) -> Any:
        """The document's nodes, to locate an error: libyaml's for a clean document, else ruamel's."""
        if self._nodes is None:
            if self.clean:
                with collection_paused():
                    self._nodes = located_nodes(self.text)
            if self._nodes is None:
                self._nodes = _compose(self.text, self.source)
        return self._nodes


class _AccountsOnly(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    accounts: AccountsField = Field(min_length=1)


def load_accounts(path: str | Path) -> dict[str, list[AccountSource]]:
    """The ``accounts:`` mapping of a YAML file (a fleet file, or a file with only ``accounts:``), read and checked
    as a fleet file's (bounded, strict, located errors): what ``list --accounts`` and ``audit --accounts`` use."""
    file = Path(path)
    text = _read_text(file)
    document = _Document(text, str(file))
    problems: list[FleetError] = []
    data = document.values(problems)
    if problems:
        raise FleetError.of(problems)
    if not isinstance(data, dict):
        raise FleetError(str(file), 1, "document", type(data).__name__, "a mapping with accounts:")
    try:
        with nested_validation():
            found = _AccountsOnly.model_validate_json(json.dumps({"accounts": data.get("accounts")}), strict=True)
    except ValidationError as exc:
        located = [_problem(str(file), document.nodes(), error) for error in exc.errors(include_url=False)]
        raise FleetError.of(located) from None
    return dict(found.accounts)


def load(path: str | Path) -> Fleet:
    """Read and parse a fleet file: a regular file of at most :data:`MAX_FLEET_BYTES`, in UTF-8."""
    file = Path(path)
    return loads(_read_text(file), source=str(file), default_name=file.stem)


def _read_text(file: Path) -> str:
    """The text of ``file``, read bounded (:func:`_read_bounded`) and decoded as UTF-8; a bad byte is a located
    FleetError."""
    raw = _read_bounded(file)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start : exc.start + 1].hex()
        raise FleetError(
            str(file), line, "encoding", f"byte 0x{bad} at offset {exc.start}", "UTF-8 text", reason=exc.reason
        ) from None


def _read_bounded(file: Path) -> bytes:
    """The bytes of ``file``, a regular file of at most MAX_FLEET_BYTES; never blocks on a FIFO or a device."""
    try:
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise FleetError(str(file), None, "path", str(file), f"a readable file ({exc.strerror})") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = "a directory" if stat.S_ISDIR(mode) else "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"
            raise FleetError(str(file), None, "path", str(file), "a regular file", reason=f"it is {kind}")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > MAX_FLEET_BYTES:
                raise FleetError(
                    str(file), None, "path", str(file), f"a file of at most {MAX_FLEET_BYTES} bytes", reason="too large"
                )
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


class _FleetComposer(Composer):  # type: ignore[misc]
    """ruamel's composer, refusing aliases and explicit tags where they appear (before any expansion)."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        if isinstance(event, AliasEvent):
            raise _Refused(event.start_mark, "alias", f"*{event.anchor}", "no aliases or merge keys in fleet files")
        if isinstance(event, ScalarEvent | CollectionStartEvent) and event.ctag is not None:
            raise _Refused(event.start_mark, "tag", str(event.ctag), "no explicit tags (!!set, !!python/...) here")
        return super().compose_node(parent, index)


class _Refused(MarkedYAMLError):  # type: ignore[misc]
    def __init__(self, mark: Any, what: str, value: str, allowed: str) -> None:
        super().__init__(problem=f"{what} {value}", problem_mark=mark)
        self.what, self.value, self.allowed = what, value, allowed


def _compose(text: str, source: str) -> Node | None:
    yaml = YAML(typ="safe", pure=True)
    yaml.version = (1, 2)
    yaml.Composer = _FleetComposer
    yaml.max_depth = MAX_DEPTH
    try:
        return yaml.compose(text)
    except _Refused as exc:
        mark = exc.problem_mark
        raise FleetError(source, mark.line + 1, exc.what, exc.value, exc.allowed, column=mark.column + 1) from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        problem = str(getattr(exc, "problem", None) or exc)
        raise FleetError(source, line, "yaml", problem, "a valid YAML document", column=column) from None


class _Builder:
    """Plain values (dict, list, str, int, float, bool, None) from composed nodes, strictly, in one walk.

    Problems (a repeated key, a key that is not a string, a number YAML 1.2 would read but a person might not
    mean) are collected with their position; the walk goes on, so that a file's every problem is reported.
    """

    def __init__(self, source: str, problems: list[FleetError]) -> None:
        self.source = source
        self.problems = problems

    def _fail(self, node: Node, path: list[Any], value: Any, allowed: str, reason: str | None = None) -> None:
        mark = node.start_mark
        self.problems.append(
            FleetError(self.source, mark.line + 1, _dotted(path), value, allowed, column=mark.column + 1, reason=reason)
        )

    def value(self, node: Node | None, path: list[Any]) -> Any:
        if node is None:
            return None
        if isinstance(node, MappingNode):
            out: dict[str, Any] = {}
            first: dict[str, Node] = {}
            for key_node, value_node in node.value:
                key = self.value(key_node, path)
                if not isinstance(key, str):
                    self._fail(key_node, path, key, "a string key")
                    continue
                if key in first:
                    line = first[key].start_mark.line + 1
                    self._fail(
                        key_node, [*path, key], key, "each key once", reason=f"the key is already given on line {line}"
                    )
                    continue
                first[key] = key_node
                out[key] = self.value(value_node, [*path, key])
            return out
        if isinstance(node, SequenceNode):
            return [self.value(item, [*path, n]) for n, item in enumerate(node.value)]
        assert isinstance(node, ScalarNode)
        return self._scalar(node, path)

    def _scalar(self, node: ScalarNode, path: list[Any]) -> Any:
        tag = str(node.tag).rsplit(":", 1)[-1]
        text = node.value
        if tag == "null":
            return None
        if tag == "bool":
            return text.lower() == "true"
        if tag == "int":
            if INT.fullmatch(text):
                return int(text)
            self._fail(node, path, text, "a decimal integer (write 60, not 0x3C or 0o74)")
            return None
        if tag == "float":
            if FLOAT.fullmatch(text):
                return float(text)
            self._fail(node, path, text, "a finite decimal number")
            return None
        return text


def _known_keys(path: list[Any]) -> tuple[str, ...]:
    """The keys a mapping at ``path`` takes, for "did you mean" (the fleet's own models; any field otherwise)."""
    names = [p for p in path if isinstance(p, str)]
    if not names:
        return tuple(f for f in Fleet.model_fields if f != "source")
    if names[0] == "accounts":
        return _account_keys(names[1:])
    if names[-1] == "resources":
        return tuple(ResourceSelector.model_fields)
    if names == ["defaults"]:
        return (*_Settings.model_fields, *_option_blocks())
    if names == ["flow_logs"]:
        return (*FleetEntry.model_fields, *_option_blocks())
    if names[-1] == "destination":
        return _destination_keys()
    return ()


def _account_keys(names: list[str]) -> tuple[str, ...]:
    """The keys of an account source (``accounts.aws[0]``) or of a model nested in one (``...organization``)."""
    from multiflow.plugins import account_models

    try:
        models = account_models()
    except Exception:  # a help only, as below
        return ()
    if not names:
        return tuple(models)
    model: Any = models.get(names[0])
    for name in names[1:]:
        field = getattr(model, "model_fields", {}).get(name)
        if field is None:
            return ()
        nested = [a for a in (field.annotation, *getattr(field.annotation, "__args__", ())) if isinstance(a, type)]
        model = next((a for a in nested if issubclass(a, BaseModel)), None)
    return tuple(getattr(model, "model_fields", {}))


def _option_blocks() -> tuple[str, ...]:
    from multiflow.plugins import providers

    try:
        return tuple(providers())
    except Exception:  # the suggestion is a help only: a plugin that cannot load leaves it out
        return ()


def _destination_keys() -> tuple[str, ...]:
    from multiflow.plugins import destination_models

    try:
        return tuple(sorted({f for model in destination_models().values() for f in model.model_fields}))
    except Exception:  # as above: a help only
        return ()


def _problem(source: str, node: Node | None, error: Any) -> FleetError:
    """A pydantic error as a located FleetError; an unknown key gets "did you mean" from the keys known there."""
    path = list(error["loc"])
    # pydantic adds the union member's tag ("function-after[...]", a kind) to the location: drop what is not data.
    path = [p for p in path if isinstance(p, int) or not ("[" in p or p in _UNION_TAGS)]
    line, column = _position(node, path, at_key=error["type"] == "extra_forbidden")
    value = error.get("input")
    allowed: object = error["msg"]
    if error["type"] == "value_error":
        allowed = str(allowed).removeprefix("Value error, ")  # pydantic's prefix says nothing to a reader
    reason = None
    if error["type"] == "missing":
        value, allowed = None, "a value: the key is required"
    if error["type"] == "extra_forbidden":
        unknown = str(path[-1])
        known = _known_keys(path[:-1])
        close = difflib.get_close_matches(unknown, known, n=1, cutoff=0.6)
        allowed = sorted(known) if known else "no other key here"
        reason = f"unknown key {unknown!r}; did you mean `{close[0]}`?" if close else f"unknown key {unknown!r}"
    return FleetError(source, line, _dotted(path), value, allowed, column=column, reason=reason)


#: Tags pydantic puts in a location for a union's member, which are not keys of the file.
_UNION_TAGS = frozenset({"str", "int", "list", "dict", "none", "bool", "float"})


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "-", name).strip("-._") or "fleet"
    return cleaned[:64]


def _dotted(path: list[Any]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "document"


def _position(node: Node | None, path: list[Any], *, at_key: bool = False) -> tuple[int | None, int | None]:
    """The 1-based line and column of the deepest node on ``path`` that exists in the document (a key's own
    position where the path ends at a key the document has, or names one it lacks)."""
    if node is None:
        return None, None
    mark = node.start_mark
    for part in path:
        if isinstance(node, MAPPING_NODES):
            pair = next(((k, v) for k, v in node.value if getattr(k, "value", None) == part), None)
            if pair is None:
                if part == "options":
                    continue  # a provider's block written at the top level (aws:), lifted into options
                return mark.line + 1, mark.column + 1
            key, node = pair
            last = part is path[-1]
            mark = key.start_mark if last and (at_key or isinstance(node, SCALAR_NODES)) else node.start_mark
        elif isinstance(node, SEQUENCE_NODES) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            mark = node.start_mark
        else:
            break
    return mark.line + 1, mark.column + 1
