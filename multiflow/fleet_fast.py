"""The fast way into a fleet file: libyaml's C parser (PyYAML's ``yaml._yaml.CParser``), values built in one walk.

ruamel.yaml's pure-Python scanner, parser and composer cost some 90 µs an entry of a fleet file (99 % of
``multiflow.loads`` at 3,000 entries); libyaml's parser reads the same events in C. This module walks those
events into plain values (dict, list, str, int, float, bool, None) for a document that is *clean*: one document,
no tab, exotic line break or control character (:data:`_DIVERGENT`), no block scalar (``|``, ``>``), no
directive, no anchor, alias or explicit tag, string keys each given once, no number YAML 1.2 would read but
:mod:`multiflow.fleet` refuses, nested at most :data:`MAX_DEPTH` deep. Plain scalars are resolved by ruamel's own
YAML 1.2 resolver, so ``yes`` stays a string and ``0x3C`` is refused exactly as on the located path.

Anything else (a libyaml error too) answers :data:`UNCLEAN`: the caller then reads the text the located way
(ruamel.yaml, every problem with its line and column), so every refusal and its message is that path's. A
clean document costs no ruamel parse at all; its nodes (for an error found later, by pydantic or a provider) come
from :func:`located_nodes`, libyaml's composer with the same line and column marks.

Without PyYAML's C extension (a platform with no wheel) every document is :data:`UNCLEAN`: slower, the same.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml.nodes
from ruamel.yaml import nodes as _ruamel_nodes
from ruamel.yaml.resolver import VersionedResolver

try:
    from yaml import YAMLError as _LibyamlError
    from yaml import events as _events
    from yaml._yaml import CParser as _CParser
    from yaml.resolver import BaseResolver as _BaseResolver
except ImportError:  # pragma: no cover - PyYAML built without libyaml: the located path reads everything
    _CParser = None

__all__ = [
    "FLOAT",
    "INT",
    "MAPPING_NODES",
    "MAX_DEPTH",
    "SCALAR_NODES",
    "SEQUENCE_NODES",
    "UNCLEAN",
    "clean_values",
    "collection_paused",
    "located_nodes",
]

#: How deep mappings and sequences may nest (a fleet file needs six levels); ruamel's ``max_depth``.
MAX_DEPTH = 32
#: A decimal integer, the only form of int a fleet file takes.
INT = re.compile(r"[-+]?[0-9]+")
#: A finite decimal number, the only form of float a fleet file takes.
FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


#: The node classes of either composer (ruamel's on the located path, libyaml's through PyYAML for a clean file).
MAPPING_NODES = (_ruamel_nodes.MappingNode, yaml.nodes.MappingNode)
SEQUENCE_NODES = (_ruamel_nodes.SequenceNode, yaml.nodes.SequenceNode)
SCALAR_NODES = (_ruamel_nodes.ScalarNode, yaml.nodes.ScalarNode)


class _Unclean:
    def __repr__(self) -> str:
        return "UNCLEAN"


#: What :func:`clean_values` answers for a document to be read the located way.
UNCLEAN: Any = _Unclean()

_Resolvers = list[tuple[str, "re.Pattern[str]"]]


def _implicit_resolvers() -> tuple[dict[str, _Resolvers], _Resolvers]:
    """ruamel's YAML 1.2 implicit resolvers (null, bool, int, float, timestamp, merge, value) by the first
    character of a plain scalar they may claim ("" for the empty scalar), as its ``resolve`` looks them up, and
    those for any first character (YAML 1.2 has none)."""
    table = VersionedResolver(version=(1, 2)).versioned_resolver
    anywhere = list(table.get(None, []))
    return {first: [*found, *anywhere] for first, found in table.items() if first is not None}, anywhere


_RESOLVERS, _ANYWHERE = _implicit_resolvers()


def _plain(text: str) -> Any:
    """A plain scalar's value as :class:`multiflow.fleet._Builder` makes it; UNCLEAN where it reports a problem."""
    resolvers = _RESOLVERS.get(text[:1], _ANYWHERE)
    if not resolvers:
        return text  # no resolver claims a plain scalar of this first character: a string
    tag = next((tag for tag, regexp in resolvers if regexp.match(text)), "str").rsplit(":", 1)[-1]
    if tag == "null":
        return None
    if tag == "bool":
        return text.lower() == "true"
    if tag == "int":
        return int(text) if INT.fullmatch(text) else UNCLEAN
    if tag == "float":
        return float(text) if FLOAT.fullmatch(text) else UNCLEAN
    return text


#: Characters where libyaml and ruamel.yaml read a document differently (found by fuzzing both,
#: tests/core/test_fleet_fast.py): tabs (ruamel refuses some that libyaml takes), the Unicode line and paragraph
#: separators and NEL (line breaks to ruamel, not always to libyaml), a byte-order mark past the start, a carriage
#: return not before a line feed, and control characters. A text with any of them goes the located way.
_DIVERGENT = re.compile("[\t\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]|\r(?!\n)|(?<!^)\ufeff")
#: A first look for the same (one character class: some 30x faster over a large file than the whole pattern).
_SUSPECT = re.compile("[\t\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\ufeff]")


def clean_values(text: str) -> Any:
    """The values of ``text`` if it is a clean mapping document (module docstring); UNCLEAN otherwise."""
    if _CParser is None or (_SUSPECT.search(text) and _DIVERGENT.search(text)):
        return UNCLEAN
    parser = _CParser(text)
    try:
        return _walk(parser)
    except _LibyamlError:
        return UNCLEAN
    finally:
        parser.dispose()


def _walk(parser: Any) -> Any:
    get = parser.get_event
    scalar, mapping, sequence = _events.ScalarEvent, _events.MappingStartEvent, _events.SequenceStartEvent
    mapping_end, sequence_end = _events.MappingEndEvent, _events.SequenceEndEvent
    if type(get()) is not _events.StreamStartEvent:
        return UNCLEAN
    start = get()
    if type(start) is not _events.DocumentStartEvent or start.version is not None or start.tags:
        return UNCLEAN
    first = get()
    if type(first) is not mapping or first.anchor is not None or first.tag is not None:
        return UNCLEAN
    root: dict[str, Any] = {}
    # The open collections, innermost last; for each mapping the key waiting for its value (None: a key next).
    stack: list[Any] = [root]
    keys: list[Any] = [None]
    while True:
        event = get()
        kind = type(event)
        if kind is scalar:
            if event.anchor is not None or event.tag is not None:
                return UNCLEAN
            value, style = event.value, event.style
            if style == "":
                value = _plain(value)
                if value is UNCLEAN:
                    return UNCLEAN
            elif style != "'" and style != '"':
                return UNCLEAN  # a block scalar (| or >): ruamel refuses some headers and indents libyaml takes
        elif kind is mapping or kind is sequence:
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH - 1:
                return UNCLEAN
            value = {} if kind is mapping else []
        elif kind is mapping_end or kind is sequence_end:
            stack.pop()
            keys.pop()
            if not stack:
                break
            continue
        else:  # an alias, or anything libyaml reads that a fleet file has no use for
            return UNCLEAN
        into = stack[-1]
        if type(into) is list:
            into.append(value)
        else:
            key = keys[-1]
            if key is None:
                if type(value) is not str or value in into:
                    return UNCLEAN  # a key that is no string (1:, a [list]:), or given twice
                keys[-1] = value
                continue
            into[key] = value
            keys[-1] = None
        if kind is not scalar:
            stack.append(value)
            keys.append(None)
    if type(get()) is not _events.DocumentEndEvent or type(get()) is not _events.StreamEndEvent:
        return UNCLEAN  # a second document
    return root


def located_nodes(text: str) -> Any:
    """The nodes of a document :func:`clean_values` read (each with ``start_mark.line`` and ``.column``, 0-based,
    as ruamel's), composed by libyaml, with no tags resolved: for their marks and structure only; None without
    PyYAML's C extension. Safe on a clean document only (libyaml's composer recurses in C, and follows aliases)."""
    if _CParser is None:
        return None
    loader = _Locator(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


if _CParser is not None:

    class _Locator(_CParser, _BaseResolver):  # type: ignore[misc, valid-type]
        def __init__(self, text: str) -> None:
            _CParser.__init__(self, text)
            _BaseResolver.__init__(self)

        def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
            return "tag:yaml.org,2002:str"


@contextmanager
def collection_paused() -> Iterator[None]:
    """The cyclic garbage collector off while a fleet's values, models and specs are made (on again after, if it
    was): they hold no reference cycles, and its passes over the growing heap were some 40 % of the CPU of
    loading and validating 100,000 entries (11.6 s against 6.7 s), and 6x the composing of their nodes."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
