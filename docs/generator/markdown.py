"""Small Markdown builders shared by the renderers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

__all__ = ["cell", "code", "codes", "rst", "table"]


def cell(value: object) -> str:
    """A table cell: pipes escaped, line breaks folded."""
    return " ".join(str(value).split()).replace("|", "\\|")


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def code(value: object) -> str:
    """``value`` as inline code."""
    return f"`{value}`"


def codes(values: Iterable[object], empty: str = "-") -> str:
    """Values as comma-separated inline code."""
    return ", ".join(code(v) for v in values) or empty


def rst(text: str) -> str:
    """reStructuredText inline markup as Markdown: double backticks and ``:role:`x``` references as code."""
    text = text.replace("``", "`")
    return re.sub(r":(?:class|func|meth|attr|data|mod):`~?([^`]+)`", r"`\1`", text)
