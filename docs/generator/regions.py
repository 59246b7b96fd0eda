"""Generated regions of a Markdown page: find them, fill them, and say which pages drifted."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

__all__ = ["REGION", "RegionError", "fill", "names"]

#: ``<!-- generated:NAME -->`` … ``<!-- /generated:NAME -->``, the body between them replaced on every run.
REGION = re.compile(r"(<!-- generated:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /generated:(?P=name) -->)", re.S)

Renderer = Callable[[], str]


class RegionError(ValueError):
    """A page names a region no renderer makes, or a renderer's region is missing from the page."""


def names(text: str) -> list[str]:
    """The names of the generated regions of ``text``, in order."""
    return [match["name"] for match in REGION.finditer(text)]


def fill(text: str, renderers: Mapping[str, Renderer]) -> str:
    """``text`` with every generated region rendered afresh; every region needs a renderer and vice versa."""
    found = names(text)
    unknown = sorted(set(found) - set(renderers))
    missing = sorted(set(renderers) - set(found))
    if unknown or missing or len(found) != len(set(found)):
        raise RegionError(f"regions without a renderer: {unknown}; renderers without a region: {missing}")

    def render(match: re.Match[str]) -> str:
        body = renderers[match["name"]]().strip("\n")
        return f"{match.group(1)}{body}\n{match.group(4)}"

    return REGION.sub(render, text)
