"""Python API reference from the code itself: hook specifications, protocols and classes, with exact signatures."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from types import ModuleType
from typing import Any

from .markdown import code, rst

__all__ = ["class_reference", "docstring", "hook_reference", "hookspecs", "members_reference", "signature"]

_PARAM = re.compile(r"^:param (\w+):\s*", re.M)


def signature(function: Callable[..., Any], name: str | None = None) -> str:
    """``name(arg: type, *, other: type = default) -> result``, annotations as written in the source."""
    sig = inspect.signature(function)
    parts: list[str] = []
    star_done = False
    for parameter in sig.parameters.values():
        if parameter.name == "self":
            continue
        text = parameter.name
        if parameter.kind is parameter.VAR_POSITIONAL:
            text, star_done = f"*{text}", True
        elif parameter.kind is parameter.VAR_KEYWORD:
            text = f"**{text}"
        elif parameter.kind is parameter.KEYWORD_ONLY and not star_done:
            parts.append("*")
            star_done = True
        if parameter.annotation is not parameter.empty:
            text += f": {_annotation(parameter.annotation)}"
        if parameter.default is not parameter.empty:
            text += f" = {parameter.default!r}"
        parts.append(text)
    result = "" if sig.return_annotation is sig.empty else f" -> {_annotation(sig.return_annotation)}"
    return f"{name or function.__name__}({', '.join(parts)}){result}"


def _annotation(annotation: object) -> str:
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _fence_doctests(text: str) -> str:
    """Paragraphs of ``>>>`` examples as fenced Python, without doctest directives."""
    paragraphs = text.split("\n\n")
    for index, paragraph in enumerate(paragraphs):
        if paragraph.lstrip().startswith(">>>"):
            cleaned = re.sub(r"\s*# doctest:.*$", "", paragraph, flags=re.M)
            paragraphs[index] = f"```pycon\n{cleaned}\n```"
    return "\n\n".join(paragraphs)


def docstring(obj: object) -> str:
    """The docstring as Markdown: ``:param x:`` lines as a list, double backticks as single ones, doctests fenced."""
    text = _fence_doctests(rst(inspect.getdoc(obj) or ""))
    return _PARAM.sub(lambda m: f"- `{m.group(1)}`: ", text)


def hookspecs(module: ModuleType, project: str = "multiflow") -> list[Callable[..., Any]]:
    """The hook specifications a module declares (functions marked with the project's ``hookspec``)."""
    marker = f"{project}_spec"
    return [value for _, value in inspect.getmembers(module, inspect.isfunction) if hasattr(value, marker)]


def hook_reference(module: ModuleType, project: str = "multiflow") -> str:
    """Every hook of ``module``: a heading, its exact signature, how it is called, and its docstring."""
    sections = []
    for hook in hookspecs(module, project):
        options = getattr(hook, f"{project}_spec") or {}
        flags = (("firstresult", "first result"), ("historic", "historic"))
        calling = [label for key, label in flags if options.get(key)]
        sections.append(
            f"### {hook.__name__}\n\n```python\n{signature(hook)}\n```\n\n"
            f"Called {'with ' + ' and '.join(calling) if calling else 'on every plugin that implements it'}.\n\n"
            f"{docstring(hook)}"
        )
    return "\n\n".join(sections)


def members_reference(cls: type, *, required: Callable[[str, Any], bool] | None = None) -> str:
    """The attributes and methods ``cls`` declares (its bases' too, ``object``'s not), each with its docstring."""
    lines: list[str] = []
    seen: set[str] = set()
    package = cls.__module__.split(".")[0]
    for owner in cls.__mro__:
        if owner.__module__.split(".")[0] != package:  # object, typing.Protocol, pydantic.BaseModel...
            continue
        for name, annotation in getattr(owner, "__annotations__", {}).items():
            if name.startswith("_") or name in seen:
                continue
            seen.add(name)
            default = getattr(cls, name, inspect.Parameter.empty)
            shown = f" = {default!r}" if default is not inspect.Parameter.empty else ""
            note = _attribute_doc(owner, name)
            lines.append(f"- {code(f'{name}: {_annotation(annotation)}{shown}')}" + (f": {note}" if note else ""))
        for name, member in vars(owner).items():
            if name.startswith("_") or name in seen or not callable(member):
                continue
            seen.add(name)
            flag = " *(required)*" if required and required(name, member) else ""
            summary = docstring(member).split("\n\n")[0].replace("\n", " ")
            lines.append(f"- {code(signature(member, name))}{flag}: {summary}")
    return "\n".join(lines)


def _attribute_doc(owner: type, name: str) -> str:
    """The ``#:`` comment above an attribute in the class source, if any."""
    try:
        source = inspect.getsource(owner)
    except (OSError, TypeError):
        return ""
    match = re.search(rf"((?:^[ \t]*#:.*\n)+)^[ \t]*{re.escape(name)}\s*:", source, re.M)
    if not match:
        return ""
    return rst(" ".join(line.strip()[2:].strip() for line in match.group(1).splitlines()))


def class_reference(cls: type, *, required: Callable[[str, Any], bool] | None = None) -> str:
    """A heading, the class docstring, and its members."""
    return f"### {cls.__name__}\n\n{docstring(cls)}\n\n{members_reference(cls, required=required)}"
