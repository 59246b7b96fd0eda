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


def test_the_plugin_is_registered_for_pytest_and_imports_nothing_heavy() -> None:
    [entry] = [e for e in metadata.entry_points(group="pytest11") if e.name == "multiflow"]
    assert entry.value == "multiflow.testing.plugin"
    loaded = json.loads(
        _python(
            "import json, sys\n"
            "import multiflow.testing.plugin\n"
            "heavy = ('pydantic', 'yaml', 'boto3', 'botocore', 'alibabacloud_vpc20160428', 'multiflow_aws',"
            " 'multiflow_alibaba', 'multiflow.spec', 'multiflow.testing.conformance')\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(heavy))))"
        )
    )
    assert loaded == []


def test_a_suite_without_a_target_says_what_to_do(tmp_path: Path) -> None:
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
