"""The conformance suite can fail: run against a provider that lies about its capabilities, it says where.

The liar is the example provider re-registered in-process as ``liar`` with two lies (an interval and a name length
ExampleCloud refuses); the suite runs in a pytest subprocess and its per-test outcomes are read from JUnit XML.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

LIAR_TESTS = textwrap.dedent(
    """
    from collections.abc import Iterator

    import pytest

    import multiflow
    from multiflow.spec import ResourceKind
    from multiflow.testing import ConformanceTarget, ProviderConformance
    from multiflow_example.capabilities import CAPABILITIES, RESOURCE_TYPES
    from multiflow_example.cloud import ExampleCloud
    from multiflow_example.provider import ExampleProvider

    KINDS = CAPABILITIES.resource_kinds


    class LyingProvider(ExampleProvider):
        name = "liar"
        capabilities = CAPABILITIES.model_copy(
            update={
                "provider": "liar",
                "intervals": dict.fromkeys(KINDS, (30, 60, 120, 300)),  # ExampleCloud refuses 120
                "name_max_length": 100,  # ExampleCloud keeps 63 at most
            }
        )


    class Liar:
        @multiflow.hookimpl
        def register_providers(self, register):
            register(LyingProvider())


    class LiarTarget(ConformanceTarget):
        provider = "liar"
        region = "local-1"

        def __init__(self, cloud):
            self.cloud = cloud
            cloud.add_bucket("liar-logs")

        def connect_options(self):
            return {"endpoint": self.cloud.endpoint, "api_key": "liar-key", "max_attempts": 1}

        def resources(self, kind, count, tags=None):
            return [self.cloud.add_resource(self.region, RESOURCE_TYPES[kind], labels=tags) for _ in range(count)]

        def destination(self, kind):
            return {"kind": "example_bucket", "bucket": "liar-logs"}


    @pytest.fixture(autouse=True)
    def _registered(multiflow_register):
        multiflow_register(Liar(), name="liar")


    @pytest.fixture(scope="module")
    def conformance_target() -> Iterator[LiarTarget]:
        with ExampleCloud(activation_delay=0, deletion_delay=0) as cloud:
            cloud.add_api_key("liar-key")
            yield LiarTarget(cloud)


    class TestLiarConformance(ProviderConformance):
        pass
    """
)


def test_the_suite_names_each_lie(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["multiflow.testing"]\n')
    (tmp_path / "test_liar.py").write_text(LIAR_TESTS)
    report = tmp_path / "report.xml"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("MULTIFLOW_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            f"--junitxml={report}",
            "-k",
            "consistent or interval or limits or traffic or satisfies_the_protocol",
            str(tmp_path / "test_liar.py"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=180,
    )
    assert report.exists(), done.stdout + done.stderr
    outcomes: dict[str, str] = {}
    messages: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        failure = case.find("failure")
        if failure is None:
            failure = case.find("error")
        outcomes[case.attrib["name"]] = "passed" if failure is None else "failed"
        messages[case.attrib["name"]] = "" if failure is None else failure.attrib.get("message", "")
    assert outcomes == {
        "test_provider_satisfies_the_protocol": "failed",  # registered in-process, by no distribution
        "test_capabilities_are_consistent": "passed",
        "test_every_declared_traffic_is_accepted": "passed",
        "test_every_declared_interval_is_accepted": "failed",
        "test_declared_limits_are_accepted": "failed",
    }, done.stdout
    assert "not registered by an installed distribution" in messages["test_provider_satisfies_the_protocol"]
    assert "interval=120" in messages["test_every_declared_interval_is_accepted"]
    assert "name" in messages["test_declared_limits_are_accepted"]
