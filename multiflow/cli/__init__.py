"""The ``multiflow`` command.

Exit codes: 0 success; 1 an error (bad file, a cloud's refusal, failed changes, a change not confirmed);
2 changes pending (``plan --detailed-exitcode``); 3 coverage below ``audit --fail-under``; 64 a usage error (a bad
flag or value); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM). docs/cli.md documents each.

:mod:`~multiflow.cli.parsing` holds the grammar, :mod:`~multiflow.cli.commands` a function per command,
:mod:`~multiflow.cli.rendering` what they print and :mod:`~multiflow.cli.progress` the progress on stderr.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

from multiflow.cli import rendering
from multiflow.cli.commands import COMMANDS, EXIT_ERROR, EXIT_INTERRUPTED
from multiflow.cli.logs import configured
from multiflow.cli.parsing import EXIT_USAGE, OUTPUTS, UsageError, build_parser
from multiflow.cli.rendering import write_json
from multiflow.errors import MultiflowError

__all__ = ["main"]

#: What a global option is when given neither before nor after the command.
_DEFAULTS = {"output": "table", "query": None, "verbose": False, "debug": False}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    for name, default in _DEFAULTS.items():
        if not hasattr(args, name):
            setattr(args, name, default)
    if args.output not in OUTPUTS and args.command_path != "audit":
        wrong = f"-o {args.output}: only audit writes it; {args.command_path} takes table or json"
        sys.stderr.write(f"multiflow: error: {wrong}\n")
        return EXIT_USAGE
    if args.query is not None:
        args.output = "json"
    with configured(args.verbose, args.debug):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    """The command of ``args``, with its errors, interruptions and ``--query`` as the command line shows them."""
    query = _compiled(args.query) if args.query is not None else None
    if query is False:
        return EXIT_USAGE
    out = sys.stdout
    rendering.configure(out)
    buffer = io.StringIO()
    answer = buffer if query else out
    try:
        code = int(COMMANDS[args.command_path](args, answer))
    except MultiflowError as exc:
        if args.output == "json":
            write_json(rendering.error_document(exc), out)
        sys.stderr.write(f"multiflow: error: {exc}\n")
        return EXIT_USAGE if isinstance(exc, UsageError) else EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("multiflow: interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (`| head`): nothing more to say; keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_ERROR
    if query:
        try:
            data = json.loads(buffer.getvalue())
        except json.JSONDecodeError:
            sys.stderr.write("multiflow: error: --query needs JSON output; this command printed none\n")
            return EXIT_USAGE
        write_json(query.search(data), out)
    return code


def _compiled(expression: str) -> Any:
    """``--query``'s JMESPath expression compiled (``False``, said on stderr, when it does not parse)."""
    import jmespath
    import jmespath.exceptions

    try:
        return jmespath.compile(expression)
    except jmespath.exceptions.JMESPathError as exc:
        sys.stderr.write(f"multiflow: error: --query {expression!r}: {exc}\n")
        return False
