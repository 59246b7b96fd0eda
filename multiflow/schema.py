"""The JSON Schema of fleet files, for editors (``multiflow schema``) and the YAML reference of the docs."""

from __future__ import annotations

from typing import Any

from multiflow.fleet import Fleet

__all__ = ["fleet_schema"]


def fleet_schema() -> dict[str, Any]:
    """The fleet file's JSON Schema (draft 2020-12): the :class:`~multiflow.fleet.Fleet` model as a file holds it
    (``name`` may be left out, the file's name stands in; ``source`` is not in the file)."""
    schema = Fleet.model_json_schema()
    schema["properties"].pop("source", None)
    schema["required"] = [r for r in schema.get("required", []) if r != "name"]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "multiflow fleet file"
    return schema
