"""The ``multiflow`` command.

Exit codes: 0 success; 1 an error (bad file, a cloud's refusal, failed changes); 2 changes pending
(``plan --detailed-exitcode``); 3 coverage below ``audit --fail-under``; 130 interrupted.

:mod:`~multiflow.cli.parsing` holds the grammar, :mod:`~multiflow.cli.commands` a function per command,
:mod:`~multiflow.cli.rendering` what they print and :mod:`~multiflow.cli.progress` the progress on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from multiflow.cli.commands import COMMANDS, EXIT_ERROR, EXIT_INTERRUPTED
from multiflow.cli.parsing import build_parser
from multiflow.cli.rendering import write_json
from multiflow.errors import MultiflowError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = sys.stdout
    try:
        return int(COMMANDS[args.command_path](args, out))
    except MultiflowError as exc:
        if getattr(args, "output", "table") == "json":
            write_json({"ok": False, "error": str(exc), "error_class": type(exc).__name__}, out)
        sys.stderr.write(f"multiflow: error: {exc}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("multiflow: interrupted\n")
        return EXIT_INTERRUPTED
