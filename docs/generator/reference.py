"""A provider's own data as reference tables: its capabilities, its value mappings, its error-code table."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import Enum

from multiflow import errors
from multiflow.capability_view import facts
from multiflow.model import Capabilities

from .markdown import code, codes, table

__all__ = ["NEUTRAL_CLASSES", "capabilities", "error_table", "value_map"]

#: The neutral ProviderError classes, in the order the tables list them.
NEUTRAL_CLASSES: tuple[type[errors.ProviderError], ...] = (
    errors.AuthError,
    errors.NotFound,
    errors.AlreadyExists,
    errors.QuotaExceeded,
    errors.InvalidRequest,
    errors.Conflict,
    errors.Throttled,
    errors.ServiceError,
    errors.DryRunSucceeded,
)


def _value(value: object) -> str:
    return str(value.value) if isinstance(value, Enum) else str(value)


def capabilities(caps: Capabilities) -> str:
    """Two tables: per resource kind (traffic, intervals, record fields, ids per call), then everything else."""
    rows = []
    for kind in caps.resource_kinds:
        default_traffic = caps.default_traffic.get(kind)
        traffic = [f"{code(t.value)} (default)" if t == default_traffic else code(t.value) for t in caps.traffic[kind]]
        intervals = [
            f"{code(i)} (default)" if i == caps.default_interval[kind] else code(i) for i in caps.intervals[kind]
        ]
        fields = caps.fields.get(kind, ())
        rows.append(
            (
                code(kind.value),
                ", ".join(traffic) or "none (leave `traffic` unset)",
                ", ".join(intervals),
                f"{len(fields)} (see below)" if fields else "the default format only",
                caps.ids_per_call[kind],
            )
        )
    kinds = table(["resource kind", "traffic", "interval (seconds)", "record fields", "ids per call"], rows)
    return kinds + "\n\n" + table(["capability", "value"], facts(caps))


def value_map(rows: Iterable[tuple[object, object]], headers: Sequence[str] = ("neutral", "provider")) -> str:
    """A two-column table of neutral values and the provider's, both as inline code."""
    return table(headers, [(code(_value(neutral)), code(_value(theirs))) for neutral, theirs in rows])


def _retry_note(codes_of_class: Sequence[str], retryable: Callable[[str], bool]) -> str:
    retried = [c for c in codes_of_class if retryable(c)]
    if not retried:
        return "no"
    if len(retried) == len(codes_of_class):
        return "yes"
    if len(retried) <= len(codes_of_class) / 2:
        return "only " + codes(retried)
    return "yes, but not " + codes(c for c in codes_of_class if c not in retried)


def error_table(
    exact: Mapping[str, type[errors.ProviderError]],
    patterns: Sequence[tuple[re.Pattern[str], type[errors.ProviderError]]] = (),
    *,
    retryable: Callable[[str], bool] | None = None,
    notes: Mapping[str, str] | None = None,
) -> str:
    """Neutral class ← the provider's codes (exact codes, then patterns in the order they are tried).

    :param retryable: whether an error of a code is retryable (adds a column); ``None`` leaves the column out.
    :param notes: a few words after a code (``{"InvalidResourceId.NotFound": "despite its name: ..."}``).
    """
    notes = notes or {}
    rows = []
    for cls in (*NEUTRAL_CLASSES, *sorted(set(exact.values()) - set(NEUTRAL_CLASSES), key=lambda c: c.__name__)):
        listed = [c for c, target in exact.items() if target is cls]
        matched = [p.pattern for p, target in patterns if target is cls]
        if not listed and not matched:
            continue
        described = [f"{code(c)} ({notes[c]})" if c in notes else code(c) for c in listed]
        if matched:
            described.append("patterns " + codes(matched))
        row = [code(cls.__name__), ", ".join(described)]
        if retryable is not None:
            row.append(_retry_note(listed, retryable) if listed else ("yes" if cls.default_retryable else "no"))
        rows.append(row)
    last = [code("ProviderError"), "any other code"] + ([""] if retryable is not None else [])
    headers = ["neutral class", "codes"] + (["retryable"] if retryable is not None else [])
    return table(headers, [*rows, last])
