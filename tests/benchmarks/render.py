"""docs/performance.md from the benchmark results (tests/benchmarks/results/*.json); filled in as scenarios land."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load(results: Path) -> dict[str, Any]:
    """Scenario name -> its figures, for the scenarios that have been run."""
    return {p.stem: json.loads(p.read_text()) for p in sorted(results.glob("*.json"))}


def render(results: Path) -> str:
    """The whole page."""
    figures = load(results)
    return "# Performance\n\n" + "\n".join(f"- {name}" for name in figures) + "\n"
