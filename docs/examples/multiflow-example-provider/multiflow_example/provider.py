"""The ExampleCloud provider object: capabilities, ExampleCloud's own spec rules, ``connect`` and ``sandbox``.

Constructing it is cheap and imports no client library: :meth:`ExampleProvider.connect` imports the session
module (and with it :mod:`multiflow_example.api`, the "SDK") only when a session is opened.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from multiflow.model import Capabilities
from multiflow.provider import Provider
from multiflow_example.capabilities import CAPABILITIES
from multiflow_example.options import ExampleBucketDestination, ExampleOptions

if TYPE_CHECKING:
    from multiflow_example.sandbox import ExampleSandbox
    from multiflow_example.session import ExampleSession

__all__ = ["ExampleProvider"]


class ExampleProvider(Provider):
    """ExampleCloud flow logs, a complete third-party multiflow provider in a few small modules.

    Its destination kind (``example_bucket``) and options block (``example:``) are typed models that multiflow
    validates, so it needs no ``validate`` of its own: the defaults of :class:`~multiflow.provider.Provider` serve.
    """

    name = "example"
    capabilities: ClassVar[Capabilities] = CAPABILITIES
    options = ExampleOptions
    destinations = (ExampleBucketDestination,)

    def connect(self, region: str, **options: Any) -> ExampleSession:
        """A session for ``region``; see :class:`multiflow_example.session.ExampleSession` for the options."""
        from multiflow_example.session import ExampleSession

        return ExampleSession(region, **options)

    def sandbox(self) -> ExampleSandbox:
        """ExampleCloud itself on loopback, with a demo key (for ``--sandbox`` runs and ``sandbox serve``)."""
        from multiflow_example.sandbox import ExampleSandbox

        return ExampleSandbox()
