"""A provider's :class:`~multiflow.model.Capabilities` as rows and facts a person reads: for ``multiflow providers
--all`` and the generated provider pages of the docs, so both say the same thing."""

from __future__ import annotations

from multiflow.model import Capabilities

__all__ = ["KIND_HEADERS", "facts", "kind_rows"]

#: The columns of :func:`kind_rows`.
KIND_HEADERS = ("kind", "traffic", "intervals (s)", "fields", "ids per call")


def _marked(values: tuple[object, ...], default: object) -> str:
    """``values`` with the default starred; ``-`` when there are none."""
    return ", ".join(f"{v}*" if v == default else str(v) for v in values) or "-"


def kind_rows(caps: Capabilities) -> list[tuple[str, str, str, str, str]]:
    """One row per resource kind: traffic types and intervals (defaults starred), record fields, ids per call."""
    rows = []
    for kind in caps.resource_kinds:
        default_traffic = caps.default_traffic.get(kind)
        traffic = _marked(
            tuple(t.value for t in caps.traffic[kind]), default_traffic.value if default_traffic else None
        )
        fields = caps.fields.get(kind, ())
        rows.append(
            (
                kind.value,
                traffic,
                _marked(caps.intervals[kind], caps.default_interval[kind]),
                f"{len(fields)} custom" if fields else "default format only",
                str(caps.ids_per_call[kind]),
            )
        )
    return rows


def facts(caps: Capabilities) -> list[tuple[str, str]]:
    """Everything else the capabilities say, one (label, value) pair each."""
    reserved = ", ".join(caps.reserved_tag_prefixes) or "none"

    def limit(value: int | None) -> str:
        return f"1 to {value} characters" if value is not None else "not kept"

    return [
        ("destinations", ", ".join(caps.destinations)),
        (
            "tags",
            f"at most {caps.max_tags} (multiflow keeps 2), keys ≤ {caps.max_tag_key_length}, "
            f"values ≤ {caps.max_tag_value_length}, reserved prefixes: {reserved}",
        ),
        ("name", limit(caps.name_max_length)),
        ("description", limit(caps.description_max_length)),
        ("activation", "asynchronous (activating → active)" if caps.async_activation else "immediate"),
        ("start / stop", "yes" if caps.start_stop else "no"),
        ("changed in place", ", ".join(caps.modifiable) or "nothing (a change is a replacement)"),
        ("dry run", "yes" if caps.dry_run else "no"),
        ("flow logs per resource", "one" if caps.one_flow_log_per_resource else "one per destination"),
    ]
