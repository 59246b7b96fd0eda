"""Reading RPC request parameters the way the SDK flattens them (``Tag.1.Key``, ``TrafficPath.1``...)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TypeVar

from .errors import ApiError, invalid_parameter, missing_parameter

T = TypeVar("T")

_INDEXED = re.compile(r"^(?P<index>[1-9][0-9]*)(?:\.(?P<field>.+))?$")


def required(params: Mapping[str, str], name: str) -> str:
    """The value of ``name``; ``MissingParameter`` when absent or empty."""
    value = params.get(name, "")
    if value == "":
        raise missing_parameter(name)
    return value


def optional(params: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, or ``None`` when absent (an empty string is a value)."""
    return params.get(name)


def indexed_values(params: Mapping[str, str], prefix: str) -> list[str]:
    """``Prefix.1``, ``Prefix.2``... in index order (gaps allowed)."""
    found: dict[int, str] = {}
    head = prefix + "."
    for key, value in params.items():
        if key.startswith(head):
            match = _INDEXED.match(key[len(head) :])
            if match and match.group("field") is None:
                found[int(match.group("index"))] = value
    return [found[i] for i in sorted(found)]


def indexed_objects(params: Mapping[str, str], prefix: str) -> list[dict[str, str]]:
    """``Prefix.1.Key``/``Prefix.1.Value``... as ``[{"Key": ..., "Value": ...}, ...]`` in index order."""
    found: dict[int, dict[str, str]] = {}
    head = prefix + "."
    for key, value in params.items():
        if key.startswith(head):
            match = _INDEXED.match(key[len(head) :])
            if match and match.group("field") is not None:
                found.setdefault(int(match.group("index")), {})[match.group("field")] = value
    return [found[i] for i in sorted(found)]


def parse_bool(value: str | None) -> bool | None:
    """``"true"``/``"false"`` in any case (the Python SDK sends ``"True"``); ``None`` when absent."""
    if value is None:
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ApiError("InvalidParameter", f'The specified parameter value "{value}" is not a boolean.', 400)


def page(params: Mapping[str, str], default_size: int, max_size: int) -> tuple[int, int]:
    """``(PageNumber, PageSize)``, defaulting to ``(1, default_size)``; ``InvalidParameter`` when out of range."""
    number = _positive_int(params, "PageNumber", 1)
    size = _positive_int(params, "PageSize", default_size)
    if size > max_size:
        raise invalid_parameter("PageSize", f"The maximum value is {max_size}.")
    return number, size


def _positive_int(params: Mapping[str, str], name: str, default: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise invalid_parameter(name, "It must be an integer.") from None
    if value < 1:
        raise invalid_parameter(name, "It must be at least 1.")
    return value


def paginate(items: Sequence[T], number: int, size: int) -> list[T]:
    """Page ``number`` (1-based) of ``size`` items; empty past the end."""
    start = (number - 1) * size
    return list(items[start : start + size])
