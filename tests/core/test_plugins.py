"""Plugin loading through the entry-point group, its environment switches, and import cost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

import multiflow
from multiflow import plugins
from multiflow.errors import MultiflowError
from multiflow.provider import Provider


def run_python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (so nothing is imported yet) and return its stdout."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MULTIFLOW_")} | env
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


SDKS = "{'boto3', 'botocore', 'alibabacloud_vpc20160428', 'alibabacloud_tea_openapi', 'moto'}"
PLUGIN_LAYER = "{'multiflow_aws', 'multiflow_alibaba', 'multiflow_example', 'pluggy', 'pydantic'}"


def test_import_multiflow_imports_no_sdk_and_no_provider() -> None:
    out = run_python(
        "import sys, multiflow, json\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS} | {PLUGIN_LAYER})))"
    )
    assert json.loads(out) == []


def test_a_spec_loads_the_providers_that_declare_its_models_but_no_sdk() -> None:
    out = run_python(
        "import sys, multiflow, json\n"
        "spec = multiflow.FlowLogSpec(resources={'kind': 'vpc', 'ids': ['vpc-1']},"
        " destination={'kind': 's3', 'bucket': 'bucket-x'})\n"
        "print(type(spec.destination).__module__)\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {SDKS})))"
    )
    module, sdks = out.splitlines()
    assert module == "multiflow_aws.destinations"
    assert json.loads(sdks) == []


def test_providers_register_through_entry_points_and_stay_sdk_free_until_connect() -> None:
    out = run_python(
        "import sys, multiflow\n"
        "names = sorted(multiflow.providers())\n"
        "print(names, 'boto3' in sys.modules, 'alibabacloud_vpc20160428' in sys.modules)",
        MULTIFLOW_LOAD_PLUGINS="aws,alibaba",
    )
    assert out.strip() == "['alibaba', 'aws'] False False"
    # Third-party plugins installed beside them (the example provider, in CI) load the same way.
    names = json.loads(run_python("import json, multiflow; print(json.dumps(sorted(multiflow.providers())))"))
    assert {"alibaba", "aws"} <= set(names)


def test_load_plugins_allow_list() -> None:
    out = run_python("import multiflow; print(sorted(multiflow.providers()))", MULTIFLOW_LOAD_PLUGINS="aws")
    assert out.strip() == "['aws']"
    out = run_python("import multiflow; print(sorted(multiflow.providers()))", MULTIFLOW_LOAD_PLUGINS="")
    assert out.strip() == "[]"


def test_disable_plugins_block_list() -> None:
    out = run_python(
        "import multiflow; print(sorted(multiflow.providers()))",
        MULTIFLOW_LOAD_PLUGINS="aws,alibaba",
        MULTIFLOW_DISABLE_PLUGINS="aws",
    )
    assert out.strip() == "['alibaba']"


def test_unknown_provider_says_what_is_loaded_and_how_to_install() -> None:
    out = run_python(
        "import multiflow\n"
        "try:\n    multiflow.connect('aws', region='us-east-1')\n"
        "except multiflow.errors.MultiflowError as e:\n    print(e)",
        MULTIFLOW_LOAD_PLUGINS="alibaba",
    )
    assert "no provider named 'aws'; loaded providers: alibaba" in out
    assert "pip install 'multiflow-vpc[aws]'" in out


def test_builtin_providers_satisfy_the_protocol() -> None:
    for name, provider in multiflow.providers().items():
        assert isinstance(provider, Provider)
        assert provider.name == name == provider.capabilities.provider


def test_plugin_infos_name_distribution_hooks_and_providers() -> None:
    infos = {info.name: info for info in plugins.plugin_infos()}
    aws = infos["aws"]
    assert aws.distribution == "multiflow-vpc" and aws.version == multiflow.__version__
    assert aws.hooks == ("register_providers",) and aws.providers == ("aws",)
    assert aws.builtin and aws.status == "loaded" and aws.module == "multiflow_aws"


def test_plugin_infos_include_plugins_the_environment_kept_out() -> None:
    out = run_python(
        "import json; from multiflow.plugins import plugin_infos\n"
        "print(json.dumps({i.name: i.status for i in plugin_infos(include_unloaded=True)}))",
        MULTIFLOW_LOAD_PLUGINS="aws,alibaba",
        MULTIFLOW_DISABLE_PLUGINS="alibaba",
    )
    statuses = json.loads(out)
    assert statuses["aws"] == "loaded" and statuses["alibaba"] == "disabled"
    assert set(statuses.values()) <= {"loaded", "disabled", "not loaded"}


class _OffersNothing:
    """A plugin that implements the hook and registers no provider (a plugin may have other jobs)."""

    @multiflow.hookimpl
    def register_providers(self, register: Any) -> None:
        pass


def test_providers_all_lists_plugins_offering_no_provider(multiflow_register: Any) -> None:
    import argparse
    import io

    from multiflow.cli.commands import cmd_providers

    multiflow_register(_OffersNothing(), name="quiet")
    table, as_json = io.StringIO(), io.StringIO()
    cmd_providers(argparse.Namespace(output="table", all=False), table)
    assert "quiet" not in table.getvalue()
    table = io.StringIO()
    cmd_providers(argparse.Namespace(output="table", all=True), table)
    [row] = [line for line in table.getvalue().splitlines() if line.startswith("quiet ")]
    assert row.split()[:5] == ["quiet", "(in-process)", "third-party", "loaded", "register_providers"]
    assert "ids per call" in table.getvalue() and "changed in place:" in table.getvalue()
    cmd_providers(argparse.Namespace(output="json", all=True), as_json)
    [quiet] = [p for p in json.loads(as_json.getvalue())["plugins"] if p["name"] == "quiet"]
    assert quiet["providers"] == [] and quiet["builtin"] is False and quiet["distribution"] is None


class _Duplicate:
    @multiflow.hookimpl
    def register_providers(self, register: Any) -> None:
        from multiflow_aws import AwsProvider  # not get_provider: that would collect providers from inside a hook

        register(AwsProvider())


class _NotAProvider:
    @multiflow.hookimpl
    def register_providers(self, register: Any) -> None:
        register(object())


class _Misspelt:
    @multiflow.hookimpl
    def register_provider(self, register: Any) -> None:  # one letter short of the hook
        raise AssertionError("never called")


@pytest.mark.parametrize(
    ("plugin", "message"),
    [
        (_Duplicate(), "two plugins register a provider named 'aws'"),
        (_NotAProvider(), "is not a multiflow.provider.Provider"),
    ],
)
def test_a_plugin_that_breaks_the_contract_is_refused(plugin: object, message: str) -> None:
    manager = plugins.get_plugin_manager()
    manager.register(plugin)
    try:
        with pytest.raises(MultiflowError, match=message):
            plugins._collect(manager)
    finally:
        manager.unregister(plugin)


def test_a_misspelt_hook_fails_at_once() -> None:
    import pluggy

    manager = plugins.get_plugin_manager()
    manager.register(_Misspelt())
    try:
        with pytest.raises(pluggy.PluginValidationError, match="unknown hook 'register_provider'"):
            manager.check_pending()
    finally:
        manager.unregister(name=manager.get_name(next(p for p in manager.get_plugins() if isinstance(p, _Misspelt))))
