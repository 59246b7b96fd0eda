"""The provider conformance suite: :class:`ProviderConformance`, a test class a provider plugin subclasses.

It drives the provider exactly as users do (``multiflow.connect`` through the ``multiflow`` entry point, the
provider's real SDK, the provider's sandbox on loopback) and checks the contract:

- the provider and its sessions satisfy the protocols, and ``import multiflow`` imports neither the provider nor
  its SDK (:class:`~multiflow.testing.checks_contract.ContractChecks`);
- capabilities are truthful: every declared kind, traffic type, interval, destination, field and limit is accepted
  by a real create and read back as it was asked for; every undeclared one is refused before any call
  (:class:`~multiflow.testing.checks_capabilities.CapabilityChecks`);
- create → describe → delete round-trips with every field mapped back; waits are bounded: a flow log that does not
  reach the wanted state is a ``WaitTimeout`` by the deadline
  (:class:`~multiflow.testing.checks_lifecycle.LifecycleChecks`);
- errors are neutral classes that keep the provider, code, message and request id; secrets never show in a repr,
  an error or a log line (:class:`~multiflow.testing.checks_errors.ErrorChecks`).

Usage, in the provider's tests::

    @pytest.fixture(scope="module")
    def conformance_target() -> Iterator[ConformanceTarget]:
        with MyCloudSandbox() as sandbox:
            yield MyCloudTarget(sandbox)

    class TestMyCloudConformance(ProviderConformance):
        pass

Every test carries the ``multiflow_conformance`` marker. A test is skipped only when the provider declares it
does not offer what it checks, or the target lacks the optional part it needs (the skip says which).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import multiflow
from multiflow.provider import Provider
from multiflow.testing.checks_capabilities import CapabilityChecks
from multiflow.testing.checks_contract import ContractChecks
from multiflow.testing.checks_errors import ErrorChecks
from multiflow.testing.checks_lifecycle import LifecycleChecks
from multiflow.testing.harness import Harness
from multiflow.testing.target import ConformanceTarget

__all__ = ["ProviderConformance"]


@pytest.mark.multiflow_conformance
class ProviderConformance(ContractChecks, CapabilityChecks, LifecycleChecks, ErrorChecks):
    """The provider conformance suite. Subclass it (named ``Test...``) and supply a ``conformance_target`` fixture.

    ``conformance_target`` (any scope; in the test module, a conftest, or on the subclass as a ``classmethod``
    fixture) yields the provider's :class:`~multiflow.testing.ConformanceTarget`. ``provider_name`` defaults to the
    target's ``provider``; a subclass may override it.
    """

    # -- fixtures --------------------------------------------------------------------------------------------

    @pytest.fixture
    def provider_name(self, conformance_target: ConformanceTarget) -> str:
        """The provider under test, as it registers."""
        return conformance_target.provider

    @pytest.fixture
    def conformance_provider(self, provider_name: str) -> Provider:
        """The provider object, found through the ``multiflow`` entry points like any user would."""
        return multiflow.get_provider(provider_name)

    @pytest.fixture
    def conformance(
        self, conformance_target: ConformanceTarget, conformance_provider: Provider, provider_name: str
    ) -> Iterator[Harness]:
        """A client connected to the sandbox, and a harness that cleans up what the test created."""
        client = multiflow.connect(
            provider_name, region=conformance_target.region, **conformance_target.connect_options()
        )
        harness = Harness(conformance_target, conformance_provider, client)
        try:
            yield harness
        finally:
            try:
                harness.cleanup()
            finally:
                client.close()
