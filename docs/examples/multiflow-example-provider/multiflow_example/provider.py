"""The ExampleCloud provider object: capabilities, ExampleCloud's own spec rules, ``connect``, accounts and
``sandbox``.

Constructing it is cheap and imports no client library: :meth:`ExampleProvider.connect` and
:meth:`ExampleProvider.list_accounts` import the session module (and with it :mod:`multiflow_example.api`, the
"SDK") only when a session is opened or accounts are listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from multiflow.accounts import AccountListing, AccountSource
from multiflow.model import Capabilities
from multiflow.provider import Provider
from multiflow_example.capabilities import CAPABILITIES
from multiflow_example.options import ExampleBucketDestination, ExampleOptions
from multiflow_example.sources import ExampleAccountSource

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
    accounts = ExampleAccountSource

    def connect(self, region: str, *, account_id: str | None = None, **options: Any) -> ExampleSession:
        """A session for ``region``; see :class:`multiflow_example.session.ExampleSession` for the options.

        With ``account_id`` (what :meth:`list_accounts` puts in a member's ``connect_options``), the session works
        in that member account, with a short-lived key assumed with the caller's key: one ``AssumeAccount`` per
        account, shared by its regions (:func:`multiflow_example.organization.entered`). A member that refuses
        raises ``AccessDenied`` (an AuthError with the cloud's request id) here.
        """
        from multiflow_example.session import ExampleSession, caller

        if account_id is None:
            return ExampleSession(region, **options)
        from multiflow_example.organization import entered

        endpoint, key = caller(options.pop("endpoint", None), options.pop("api_key", None))
        member = entered(
            endpoint,
            key,
            account_id,
            max_attempts=int(options.get("max_attempts", 4)),
            timeout=float(options.get("timeout", 10.0)),
        )
        return ExampleSession(region, endpoint=endpoint, api_key=member, account_id=account_id, **options)

    def list_accounts(self, sources: Sequence[AccountSource], **options: Any) -> AccountListing:
        """The accounts ``sources`` cover (see :func:`multiflow_example.organization.list_accounts`)."""
        from multiflow_example.organization import list_accounts

        return list_accounts(sources, **options)

    def sandbox(self) -> ExampleSandbox:
        """ExampleCloud itself on loopback, with a demo key (for ``--sandbox`` runs and ``sandbox serve``)."""
        from multiflow_example.sandbox import ExampleSandbox

        return ExampleSandbox()
