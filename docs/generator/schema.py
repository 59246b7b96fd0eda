"""A JSON Schema (the fleet file's, from ``multiflow schema``) as a Markdown reference: one table per object."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .markdown import code, codes, rst, table

__all__ = ["schema_reference"]


def _anchor(title: str) -> str:
    return "#" + "".join(ch for ch in title.lower().replace(" ", "-") if ch.isalnum() or ch in "-_")


class _Renderer:
    def __init__(self, schema: Mapping[str, Any], titles: Mapping[str, str]) -> None:
        self.definitions: Mapping[str, Any] = schema.get("$defs", {})
        self.titles = {name: titles.get(name, name) for name in self.definitions}

    def link(self, ref: str) -> str:
        name = ref.rsplit("/", 1)[-1]
        title = self.titles.get(name, name)
        return f"[{title}]({_anchor(title)})"

    def type_of(self, node: Mapping[str, Any]) -> str:
        """A short description of what a value may be."""
        if "$ref" in node:
            return self.link(node["$ref"])
        if "oneOf" in node:
            by = node.get("discriminator", {}).get("propertyName")
            parts = " or ".join(self.type_of(option) for option in node["oneOf"])
            return f"one of {parts}" + (f", by {code(by)}" if by else "")
        if "anyOf" in node:
            options = [option for option in node["anyOf"] if option.get("type") != "null"]
            return " or ".join(self.type_of(option) for option in options)
        if "enum" in node:
            return "one of " + codes(node["enum"])
        if "const" in node:
            return code(node["const"])
        kind = node.get("type")
        if kind == "array":
            text = "list of " + self.type_of(node.get("items", {}))
            return text + (f" (at least {node['minItems']})" if "minItems" in node else "")
        if kind == "object":
            values = node.get("additionalProperties")
            if isinstance(values, Mapping) and values:
                return "map of string to " + self.type_of(values)
            return "map" if values is not False else "object"
        return self._scalar(node)

    def _scalar(self, node: Mapping[str, Any]) -> str:
        kind = str(node.get("type", "any"))
        limits = []
        if "maxLength" in node:
            limits.append(f"{node.get('minLength', 0)} to {node['maxLength']} characters")
        elif "minLength" in node:
            limits.append(f"at least {node['minLength']} character{'s' if node['minLength'] != 1 else ''}")
        if "pattern" in node:
            limits.append(f"matching {code(node['pattern'])}")
        for key, sign in (("exclusiveMinimum", ">"), ("minimum", "≥"), ("exclusiveMaximum", "<"), ("maximum", "≤")):
            if key in node:
                limits.append(f"{sign} {node[key]}")
        return kind + (f" ({', '.join(limits)})" if limits else "")

    def limits_of(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        """The non-null branch of a nullable value, where its limits are."""
        options = [o for o in node.get("anyOf", []) if o.get("type") != "null"]
        return options[0] if len(options) == 1 else node

    def object_table(self, node: Mapping[str, Any], notes: Mapping[str, str]) -> str:
        required = set(node.get("required", []))
        rows = []
        for key, prop in node.get("properties", {}).items():
            default = json.dumps(prop["default"]) if "default" in prop else ""
            meaning = rst(prop.get("description") or self.limits_of(prop).get("description") or notes.get(key, ""))
            rows.append((code(key), self.type_of(prop), "yes" if key in required else "", default, meaning))
        return table(["key", "value", "required", "default", "meaning"], rows)

    def section(self, title: str, node: Mapping[str, Any], notes: Mapping[str, str]) -> str:
        text = f"### {title}\n\n"
        if node.get("description"):
            text += rst(" ".join(str(node["description"]).split())) + "\n\n"
        if node.get("type") == "object" or "properties" in node:
            return text + self.object_table(node, notes)
        return text + "Values: " + self.type_of(node) + "."


def schema_reference(
    schema: Mapping[str, Any],
    *,
    root_title: str = "The file",
    titles: Mapping[str, str] | None = None,
    notes: Mapping[str, str] | None = None,
) -> str:
    """The root object, then every definition, each as a section with a table of its keys.

    :param titles: section titles for definition names (``{"_Settings": "defaults"}``), in the order the sections
        come (before the other definitions, which come alphabetically); the names otherwise.
    :param notes: a meaning for keys whose schema has no description, by key name.
    """
    renderer = _Renderer(schema, titles or {})
    notes = notes or {}
    sections = [renderer.section(root_title, schema, notes)]
    first = [name for name in (titles or {}) if name in renderer.definitions]
    rest = sorted(set(renderer.definitions) - set(first), key=lambda n: renderer.titles[n].lower())
    for name in [*first, *rest]:
        sections.append(renderer.section(renderer.titles[name], renderer.definitions[name], notes))
    return "\n\n".join(sections)
