"""multiflow's kit for provider plugin authors: the provider conformance suite and pytest fixtures.

A provider plugin proves it keeps the contract by running :class:`ProviderConformance` against its own sandbox::

    import pytest
    from multiflow.testing import ConformanceTarget, ProviderConformance

    class MyCloudTarget(ConformanceTarget):
        provider = "mycloud"
        region = "local-1"
        ...  # connect_options, resources, destination (see ConformanceTarget)

    @pytest.fixture(scope="module")
    def conformance_target():
        with MyCloudSandbox() as sandbox:
            yield MyCloudTarget(sandbox)

    class TestMyCloudConformance(ProviderConformance):
        pass

The kit is opt-in, as tox's ``tox.pytest`` is: a provider's top-level ``conftest.py`` says

    pytest_plugins = ["multiflow.testing"]

which brings the fixtures and the marker of :mod:`multiflow.testing.plugin`; nothing is injected into the pytest
runs of other projects that merely have multiflow installed. The suite itself is imported only by the test
modules that use it. Names here are imported on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["ConformanceTarget", "ProviderConformance", "error_samples"]

#: What ``pytest_plugins = ["multiflow.testing"]`` loads: the fixtures and the marker.
pytest_plugins = ["multiflow.testing.plugin"]

_EXPORTS = {
    "ConformanceTarget": "multiflow.testing.target",
    "error_samples": "multiflow.testing.target",
    "ProviderConformance": "multiflow.testing.conformance",
}

if TYPE_CHECKING:
    from multiflow.testing.conformance import ProviderConformance as ProviderConformance
    from multiflow.testing.target import ConformanceTarget as ConformanceTarget
    from multiflow.testing.target import error_samples as error_samples


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'multiflow.testing' has no attribute {name!r}")
