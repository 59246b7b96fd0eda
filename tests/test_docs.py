"""The docs and CI say the same thing as the code."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(python3 -m venv .+)\n```", (ROOT / "README.md").read_text())


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = [c for c in _readme_commands() if "pytest" in c]
    assert len(test_command) == 1
    ci_lines = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_command[0] in ci_lines


def test_readme_main_command_points_at_files_that_exist() -> None:
    [main] = [c for c in _readme_commands() if "pytest" not in c]
    for path in re.findall(r"(docs/\S+\.(?:py|yaml))", main):
        assert (ROOT / path).is_file(), path


def test_every_aws_error_code_in_the_code_is_in_the_docs() -> None:
    from multiflow_aws.errors import EXACT_CODES

    doc = (ROOT / "docs" / "providers" / "aws.md").read_text()
    missing = [code for code in EXACT_CODES if f"`{code}`" not in doc]
    assert not missing
