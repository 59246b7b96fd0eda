"""The ``multiflow`` command (its code in :mod:`multiflow.cli.commands` for now)."""

from __future__ import annotations

from multiflow.cli.commands import _parser, cmd_providers, cmd_schema, main

__all__ = ["_parser", "cmd_providers", "cmd_schema", "main"]
