"""The JSON Schema of fleet files, for editors (``multiflow schema``) and the YAML reference of the docs.

It is built from the loaded providers' own models: the destination kinds they declare (a discriminated
``oneOf`` by ``kind``) and their options blocks (``options.NAME``, and ``NAME:`` as fleet files write it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Union

from pydantic import Field, create_model

from multiflow import plugins
from multiflow.fleet import Fleet

__all__ = ["fleet_schema"]


def fleet_schema(providers: Iterable[str] | None = None) -> dict[str, Any]:
    """The JSON Schema of fleet files, with the destination kinds and option blocks of the loaded providers
    (or of those named in ``providers``).

    ``multiflow schema`` prints it, for editors: a third-party provider's destination and options get
    completion and checks like the built-in ones, with no change to multiflow.
    """
    loaded = plugins.providers()
    chosen = [plugins.get_provider(name) for name in (sorted(loaded) if providers is None else providers)]
    models = plugins.destination_models()
    written = {kind for provider in chosen for kind in provider.capabilities.destinations}
    destinations = {kind: model for kind, model in models.items() if kind in written}
    options = {provider.name: provider.options for provider in chosen if provider.options is not None}
    schema = Fleet.model_json_schema()
    schema["properties"].pop("source", None)
    schema["required"] = [r for r in schema.get("required", []) if r != "name"]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "multiflow fleet file"
    fields: dict[str, Any] = {name: (model | None, None) for name, model in sorted(options.items())}
    if destinations:
        kinds = tuple(destinations[kind] for kind in sorted(destinations))
        union: Any = kinds[0] if len(kinds) == 1 else Annotated[Union[kinds], Field(discriminator="kind")]  # noqa: UP007
        fields["destination"] = (union, ...)
    parts = create_model("_ProviderParts", **fields).model_json_schema(ref_template="#/$defs/{model}")
    definitions = schema.setdefault("$defs", {})
    definitions.update(parts.pop("$defs", {}))
    provided = parts["properties"]
    definitions.pop("ProviderOptions", None)
    definitions["Destination"] = {
        key: value for key, value in provided.get("destination", {"not": {}}).items() if key != "title"
    }
    blocks = {name: {"$ref": f"#/$defs/{model.__name__}"} for name, model in sorted(options.items())}
    for name in ("_Settings", "FleetEntry"):
        properties = definitions[name]["properties"]
        properties["options"] = {"type": "object", "properties": blocks, "additionalProperties": False}
        for provider, ref in blocks.items():
            properties[provider] = {"anyOf": [ref, {"type": "null"}], "default": None}
    return schema
