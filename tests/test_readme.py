"""The README's promises about itself: its Python example passes `mypy --strict`; its test command keeps to its
own virtual environment and CI runs exactly it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


@pytest.mark.slow
def test_the_readme_python_example_passes_mypy_strict(tmp_path: Path) -> None:
    [example] = re.findall(r"```python\n(.*?)```", README, re.S)
    source = tmp_path / "readme_example.py"
    source.write_text(example)
    # The library is installed editable (an import hook mypy cannot follow): point mypy at the sources, and
    # report only the example's errors (the library's own are the project's mypy run's).
    config = tmp_path / "mypy.ini"
    config.write_text(
        "[mypy]\nstrict = True\nignore_missing_imports = True\n"
        "[mypy-multiflow.*,multiflow_aws.*,multiflow_alibaba.*,multiflow_alibaba_emulator.*]\nignore_errors = True\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--no-incremental", str(source)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env={"MYPYPATH": f"{ROOT}:{ROOT / 'providers'}", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_the_test_command_uses_its_own_venv_and_says_how_long_it_takes() -> None:
    commands = re.findall(r"```bash\n(python3 -m venv .+)\n```", README)
    [tests] = [c for c in commands if "pytest" in c]
    [main] = [c for c in commands if "pytest" not in c]
    assert tests.startswith("python3 -m venv .venv-test ") and "multiflow-example-provider" in tests
    assert ".venv-test" not in main and "example-provider" not in main
    assert "about 16 minutes" in README and '-m "not slow"' in README
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci.splitlines() and '"$status" -eq 5' in ci
