"""The command line's reference from its argparse parser: every command, its synopsis and its options."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from .markdown import code, table

__all__ = ["cli_reference", "commands"]


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, tuple[argparse.ArgumentParser, str]]:
    """Sub-commands by name, with their parser and their one-line help."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            return {name: (sub, helps.get(name, "")) for name, sub in action.choices.items()}
    return {}


def commands(parser: argparse.ArgumentParser, prefix: str = "") -> Iterator[tuple[str, argparse.ArgumentParser, str]]:
    """Every leaf command as (``"plan"``, ``"sandbox serve"``...), its parser and help, in the parser's order."""
    for name, (sub, help_text) in _subparsers(parser).items():
        path = f"{prefix} {name}".strip()
        if _subparsers(sub):
            yield from commands(sub, path)
        else:
            yield path, sub, sub.description or help_text


def _options(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]


def _metavar(action: argparse.Action) -> str:
    if action.choices is not None:
        return "{" + ",".join(map(str, action.choices)) + "}"
    return str(action.metavar or action.dest).upper()


def synopsis(program: str, path: str, parser: argparse.ArgumentParser) -> str:
    """``multiflow plan FILE [--sandbox] [--output {table,json}]`` (deterministic: no terminal width involved)."""
    parts = [program, path]
    for action in _options(parser):
        if not action.option_strings:
            name = _metavar(action)
            repeated = {"+": f"{name} [{name} ...]", "*": f"[{name} ...]", "?": f"[{name}]"}
            parts.append(repeated.get(str(action.nargs), name))
            continue
        flag = next((o for o in action.option_strings if o.startswith("--")), action.option_strings[0])
        text = flag if action.nargs == 0 else f"{flag} {_metavar(action)}"
        parts.append(text if action.required else f"[{text}]")
    return " ".join(parts)


def _description(action: argparse.Action) -> str:
    text = action.help or ""
    default = action.default
    if action.option_strings and action.nargs != 0 and default not in (None, argparse.SUPPRESS):
        spelled = {str(default), f"{default:g}" if isinstance(default, float) else str(default)}
        if not any(f"({s})" in text or f"default {s}" in text for s in spelled):
            shown = f"default {default:g}" if isinstance(default, float) else f"default {default}"
            text = f"{text} ({shown})" if text else shown
    if action.required and action.option_strings:
        text = f"required; {text}" if text else "required"
    return text


def cli_reference(parser: argparse.ArgumentParser, program: str = "multiflow") -> str:
    """A section per command: a ``###`` heading, what it does, its synopsis, and a table of its arguments."""
    sections = []
    for path, sub, help_text in commands(parser):
        rows = [
            (", ".join(code(o) for o in a.option_strings) or code(_metavar(a)), _description(a)) for a in _options(sub)
        ]
        summary = help_text[:1].upper() + help_text[1:]
        usage = synopsis(program, path, sub)
        sections.append(
            f"### {program} {path}\n\n{summary}.\n\n```\n{usage}\n```\n\n" + table(["argument", "meaning"], rows)
        )
    return "\n\n".join(sections)
