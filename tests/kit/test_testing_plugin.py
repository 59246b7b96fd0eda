"""multiflow's pytest plugin itself: registered for every pytest run, cheap to load, and clear when misused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path


def _python(code: str) -> str:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MULTIFLOW_")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_kit_is_opt_in_and_imports_nothing_heavy() -> None:
    assert [e for e in metadata.entry_points(group="pytest11") if e.value.startswith("multiflow")] == []
    loaded = json.loads(
        _python(
            "import json, sys\n"
            "import multiflow.testing, multiflow.testing.plugin\n"
            "assert multiflow.testing.pytest_plugins == ['multiflow.testing.plugin']\n"
            "heavy = ('pydantic', 'yaml', 'boto3', 'botocore', 'alibabacloud_vpc20160428', 'multiflow_aws',"
            " 'multiflow_alibaba', 'multiflow.spec', 'multiflow.testing.conformance')\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))"
        )
    )
    assert loaded == []


def test_a_project_that_does_not_opt_in_gets_none_of_the_kit(tmp_path: Path) -> None:
    (tmp_path / "test_plain.py").write_text(
        "def test_no_kit(request):\n    request.getfixturevalue('multiflow_sandbox')\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fixture 'multiflow_sandbox' not found" in done.stdout


def test_a_suite_without_a_target_says_what_to_do(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["multiflow.testing"]\n')
    (tmp_path / "test_no_target.py").write_text(
        textwrap.dedent(
            """
            from multiflow.testing import ProviderConformance


            class TestForgotTheTarget(ProviderConformance):
                pass
            """
        )
    )
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "consistent", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "define a conformance_target fixture" in done.stdout
