"""The plugin contract itself: what the core refuses of a plugin, and what holds the layers apart."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import ClassVar

import pytest

import multiflow
from multiflow.errors import MultiflowError
from multiflow.model import Capabilities
from multiflow.plugins import PluginError
from multiflow_example.capabilities import CAPABILITIES as EXAMPLE_CAPABILITIES
from multiflow_example.provider import ExampleProvider
from multiflow_example.sandbox import ExampleSandbox

CORE = Path(multiflow.__file__).parent


def _fake_distribution(root: Path, module: str, body: str) -> dict[str, str]:
    """A plugin installed the way pip would (a module and its dist-info with a ``multiflow`` entry point)."""
    (root / f"{module}.py").write_text(textwrap.dedent(body))
    info = root / f"{module}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[multiflow]\n{module} = {module}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("MULTIFLOW_")}
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    return env


def test_an_installed_plugin_with_a_misspelt_hook_is_refused_at_load(tmp_path: Path) -> None:
    env = _fake_distribution(
        tmp_path,
        "misspelt_plugin",
        """
        import multiflow

        @multiflow.hookimpl
        def register_provider(register):  # the hook is register_providers
            pass
        """,
    )
    done = subprocess.run(
        [sys.executable, "-c", "import multiflow; multiflow.providers()"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1
    assert "PluginError" in done.stderr
    assert "register_provider" in done.stderr and "register_providers" in done.stderr


def test_an_in_process_plugin_with_a_misspelt_hook_is_refused_and_not_kept() -> None:
    class Misspelt:
        @multiflow.hookimpl
        def register_provider(self, register: Callable[[object], None]) -> None:
            raise AssertionError("never called")

    plugin = Misspelt()
    with pytest.raises(PluginError, match="register_provider"):
        multiflow.plugins.register(plugin, name="misspelt")
    assert not multiflow.plugins.get_plugin_manager().is_registered(plugin)


class _Lying(ExampleProvider):
    """Says it starts and stops flow logs, but its session has no start or stop."""

    name = "lying"
    capabilities: ClassVar[Capabilities] = EXAMPLE_CAPABILITIES.model_copy(
        update={"provider": "lying", "start_stop": True}
    )


class _LyingPlugin:
    @multiflow.hookimpl
    def register_providers(self, register: Callable[[object], None]) -> None:
        register(_Lying())


@pytest.fixture
def example_cloud() -> Iterator[ExampleSandbox]:
    with ExampleSandbox() as sandbox:
        yield sandbox


def test_capability_flags_that_the_session_contradicts_are_refused_at_connect(
    multiflow_register: Callable[..., None], example_cloud: ExampleSandbox
) -> None:
    multiflow_register(_LyingPlugin(), name="lying")
    with pytest.raises(PluginError, match=r"start_stop=True but its session lacks the StartStop methods"):
        multiflow.connect("lying", region="local-1", **example_cloud.connect_options("local-1"))


def test_a_destination_kind_two_providers_declare_differently_is_refused(
    multiflow_register: Callable[..., None],
) -> None:
    from typing import Literal

    from multiflow.spec import Destination

    class OtherS3(Destination):
        kind: Literal["s3"] = "s3"
        bucket: str

    class Clash(ExampleProvider):
        name = "clash"
        capabilities: ClassVar[Capabilities] = EXAMPLE_CAPABILITIES.model_copy(
            update={"provider": "clash", "destinations": ("s3",)}
        )
        destinations = (OtherS3,)

    class ClashPlugin:
        @multiflow.hookimpl
        def register_providers(self, register: Callable[[object], None]) -> None:
            register(Clash())

    multiflow_register(ClashPlugin(), name="clash")
    with pytest.raises(MultiflowError, match=r"declares destination kind 's3', which .*S3Destination already declares"):
        multiflow.providers()


def _module_imports(path: Path, known: set[str]) -> set[str]:
    """Every ``multiflow.*`` module ``path`` imports at module level, ``TYPE_CHECKING`` blocks included."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("multiflow"):
                # `from multiflow import errors` imports the module multiflow.errors; `from multiflow.spec import X`
                # the module multiflow.spec (the graph keeps only names that are modules).
                submodules = {f"{node.module}.{alias.name}" for alias in node.names}
                found.update(submodules if submodules <= known else {node.module})
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names if alias.name.startswith("multiflow"))
            elif isinstance(node, ast.If):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return found


def _core_graph() -> dict[str, set[str]]:
    modules = {
        ".".join(("multiflow", *path.relative_to(CORE).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in CORE.rglob("*.py")
    }
    known = set(modules)
    return {
        name: {m for m in _module_imports(path, known) if m in modules and m != name} for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_core_imports_no_module_in_a_cycle() -> None:
    graph = _core_graph()
    assert "multiflow.planning" in graph and "multiflow.applying" not in graph["multiflow.planning"]
    assert _cycle(graph) is None, " → ".join(_cycle(graph) or [])


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_the_core_never_imports_a_provider_package() -> None:
    for path in CORE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = [
            n.module if isinstance(n, ast.ImportFrom) else alias.name
            for n in ast.walk(tree)
            if isinstance(n, ast.Import | ast.ImportFrom)
            for alias in (n.names if isinstance(n, ast.Import) else [None])  # type: ignore[list-item]
        ]
        assert not [n for n in names if n and n.split(".")[0] in {"multiflow_aws", "multiflow_alibaba", "boto3"}], path
