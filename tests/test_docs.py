"""The docs and CI say the same thing as the code."""

from __future__ import annotations

import difflib
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]

# The docs generator (docs/generator) is no part of the installed package: import it from the repository.
if str(ROOT / "docs") not in sys.path:
    sys.path.insert(0, str(ROOT / "docs"))


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


# -- generated regions: the docs are regenerated from the code and must not differ -------------------------------


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_generate", ROOT / "docs" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_match_the_code() -> None:
    drifted = [
        f"{path.relative_to(ROOT)}:\n"
        + "".join(list(difflib.unified_diff(current.splitlines(True), wanted.splitlines(True)))[:20])
        for path, (current, wanted) in _generator().render().items()
        if current != wanted
    ]
    assert not drifted, "the docs differ from the code; run: .venv/bin/python docs/generate.py\n" + "\n".join(drifted)


def test_the_generator_runs_as_a_script_from_the_repository_root() -> None:
    done = subprocess.run(
        [sys.executable, "docs/generate.py", "--check"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    helped = subprocess.run(
        [sys.executable, "docs/generate.py", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert helped.returncode == 0 and "--check" in helped.stdout


def test_the_drift_check_sees_a_changed_table_and_a_missing_region() -> None:
    from generator.regions import RegionError, fill

    generator = _generator()
    page = ROOT / "docs" / "providers" / "aws.md"
    renderers = generator.pages()[page]
    current = page.read_text()
    region = re.search(r"<!-- generated:aws-errors -->.*?<!-- /generated:aws-errors -->", current, flags=re.S)
    assert region is not None
    tampered = current.replace(region.group(0), region.group(0).replace("`FlowLogAlreadyExists`", "`Other`"))
    assert tampered != current and fill(tampered, renderers) == current
    without = re.sub(r"<!-- generated:aws-errors -->.*?<!-- /generated:aws-errors -->\n", "", current, flags=re.S)
    with pytest.raises(RegionError, match="aws-errors"):
        fill(without, renderers)


# -- every hook, protocol, command and key is documented ------------------------------------------------------------


def test_every_hook_is_documented_under_its_exact_signature_with_an_example() -> None:
    from generator.python_api import hookspecs as specs_of
    from generator.python_api import signature
    from multiflow import hookspecs

    doc = (ROOT / "docs" / "plugins.md").read_text()
    prose = re.sub(r"<!-- generated:(\S+) -->.*?<!-- /generated:\1 -->", "", doc, flags=re.S)
    hooks = specs_of(hookspecs)
    assert hooks, "no hook specifications found"
    for hook in hooks:
        assert f"### {hook.__name__}\n\n```python\n{signature(hook)}\n```" in doc, f"{hook.__name__} is undocumented"
        assert f"@multiflow.hookimpl\ndef {hook.__name__}(" in prose, f"no example implements {hook.__name__}"


def test_every_hook_is_exercised_by_a_test() -> None:
    from generator.python_api import hookspecs as specs_of
    from multiflow import hookspecs

    tests = "".join(path.read_text() for path in (ROOT / "tests").rglob("test_*.py"))
    for hook in specs_of(hookspecs):
        assert f"def {hook.__name__}(" in tests, f"no test implements the {hook.__name__} hook"


def test_every_protocol_is_in_the_plugin_guide() -> None:
    from multiflow import provider

    doc = (ROOT / "docs" / "plugins.md").read_text()
    protocols = [
        cls
        for cls in vars(provider).values()
        if isinstance(cls, type) and cls.__module__ == provider.__name__ and getattr(cls, "_is_protocol", False)
    ]
    assert len(protocols) >= 4
    for cls in protocols:
        assert f"### {cls.__name__}\n" in doc, cls.__name__


def test_every_command_and_flag_is_in_the_cli_reference() -> None:
    from generator.cli import commands
    from multiflow.cli.parsing import build_parser

    doc = (ROOT / "docs" / "cli.md").read_text()
    listed = list(commands(build_parser()))
    assert {"plan", "apply", "providers", "sandbox serve"} <= {path for path, _, _ in listed}
    for path, parser, _ in listed:
        heading = f"### multiflow {path}\n"
        assert heading in doc, f"multiflow {path} is not in docs/cli.md"
        section = doc.split(heading, 1)[1].split("\n### ", 1)[0]
        for action in parser._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert f"`{flag}`" in section, f"multiflow {path} {flag} is not in docs/cli.md"


def test_every_fleet_key_is_in_the_yaml_reference() -> None:
    import multiflow

    doc = (ROOT / "docs" / "yaml-reference.md").read_text()
    models = [multiflow.Fleet, multiflow.fleet.FleetEntry, multiflow.fleet.ResourceSelector, multiflow.FlowLogSpec]
    for model in models:
        for key in model.model_fields:
            if key not in {"source", "resources"} or model is not multiflow.Fleet:
                assert f"| `{key}` |" in doc, f"{model.__name__}.{key} is not in docs/yaml-reference.md"


@pytest.mark.parametrize("provider", ["aws", "alibaba", "example"])
def test_every_error_code_of_a_provider_is_on_its_page(provider: str) -> None:
    from multiflow_alibaba.errors import EXACT_CODES as ALIBABA
    from multiflow_aws.errors import EXACT_CODES as AWS
    from multiflow_example.errors import CODES as EXAMPLE

    table, page = {
        "aws": (AWS, "docs/providers/aws.md"),
        "alibaba": (ALIBABA, "docs/providers/alibaba.md"),
        "example": (EXAMPLE, "docs/examples/multiflow-example-provider/README.md"),
    }[provider]
    doc = (ROOT / page).read_text()
    assert [code for code in table if f"`{code}`" not in doc] == []


def test_relative_links_in_the_docs_lead_to_files() -> None:
    pages = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#:\s]+)(?:#[^)]*)?\)", page.read_text()):
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} → {target}")
    assert not broken


def test_the_quickstart_python_runs() -> None:
    doc = (ROOT / "docs" / "quickstart.md").read_text()
    [code] = re.findall(r"```python\n(.*?)```", doc, flags=re.S)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("'active')") == 2


def test_every_command_and_the_organization_flags_are_in_the_cli_synopsis() -> None:
    """The hand-written synopsis at the top of docs/cli.md names every command and --accounts, --shard."""
    from generator.cli import commands
    from multiflow.cli.parsing import build_parser

    top = (ROOT / "docs" / "cli.md").read_text().split("```", 2)[1]
    for path, _, _ in commands(build_parser()):
        assert f"multiflow {path}" in top or f"|{path}" in top or f"{path}|" in top, f"{path} not in the synopsis"
    assert "--accounts FILE" in top and "--shard K/N" in top and "merge FILE..." in top


def test_the_generated_synopsis_shows_repeated_and_optional_arguments_and_help_its_only_format() -> None:
    from generator.cli import commands, synopsis
    from multiflow.cli.parsing import build_parser

    parsers = {path: parser for path, parser, _ in commands(build_parser())}
    assert " FILE [FILE ...] " in synopsis("multiflow", "merge", parsers["merge"])
    assert " [FILE] " in synopsis("multiflow", "apply", parsers["apply"])
    merge_help = parsers["merge"].format_help()
    assert "output format (json, the only one)" in merge_help and "(table)" not in merge_help
