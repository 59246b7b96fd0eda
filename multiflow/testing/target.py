"""What the conformance suite needs from a provider's sandbox: :class:`ConformanceTarget`.

A provider author subclasses it once, next to their sandbox. The required parts say where to connect and give
the suite things to point flow logs at; every optional part turns on more checks (a test whose part is missing is
skipped, and its skip message names the part).

This module imports neither pytest nor any SDK, so a provider may ship its target in its own package.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any

from multiflow.errors import ProviderError
from multiflow.spec import Destination, ResourceKind

__all__ = ["ConformanceTarget", "error_samples"]


class ConformanceTarget(abc.ABC):
    """A provider's sandbox, as the conformance suite drives it.

    Required: :attr:`provider`, :attr:`region`, :meth:`connect_options`, :meth:`resources`, :meth:`destination`.
    Optional: everything else; the defaults turn the checks that need them off.
    """

    #: The provider's name, as it registers (``multiflow.connect(provider, ...)``).
    provider: str
    #: The region the suite works in.
    region: str
    #: Modules of the provider's cloud SDK, which neither ``import multiflow`` nor loading the plugin may import.
    sdk_modules: tuple[str, ...] = ()
    #: Whether the cloud's errors carry a request id (then every error the suite provokes must keep one).
    request_ids: bool = True
    #: Seconds the suite waits at most for the sandbox to activate or delete flow logs.
    wait_timeout: float = 60.0
    #: The most flow logs one describe page of the sandbox holds, so the suite can make one page more; ``None``
    #: skips the paging check (when a page is too large to fill quickly).
    page_size: int | None = None

    @abc.abstractmethod
    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``multiflow.connect(provider, region=region, **options)`` that reach the sandbox."""

    @abc.abstractmethod
    def resources(self, kind: ResourceKind, count: int, tags: Mapping[str, str] | None = None) -> list[str]:
        """Ids of ``count`` new resources of ``kind`` in :attr:`region`, carrying ``tags``, with no flow log yet.

        Called for every kind the provider declares. Where the sandbox cannot tag a kind, ignore ``tags``.
        """

    @abc.abstractmethod
    def destination(self, kind: str) -> Destination | Mapping[str, Any]:
        """A destination of ``kind`` (one the provider declares) that exists in the sandbox and may receive records.

        A model or its dict form (``{"kind": "s3", "bucket": "..."}``); the suite may ask more than once.
        """

    def missing_resource_id(self, kind: ResourceKind) -> str | None:
        """A well-formed id of a resource of ``kind`` that does not exist, to provoke the cloud's "not found";
        ``None`` skips that check."""
        return None

    def make_stuck(self, flow_log_id: str) -> Callable[[], None] | None:
        """Hold a flow log in a transitional state (e.g. activating) so that waiting on it must time out.

        Return a function that releases it (so it can be deleted), or ``None`` if the sandbox cannot (the default;
        the bounded-wait check then uses a flow log that never goes away instead).
        """
        return None

    def inject_error(self, code: str) -> AbstractContextManager[object] | None:
        """A context inside which the sandbox answers every create call with the cloud's error ``code`` (with its
        usual HTTP status and message, and a request id); ``None`` if the sandbox cannot (the default)."""
        return None

    def error_samples(self) -> Mapping[str, type[ProviderError]]:
        """Cloud error codes and the neutral class each must land on, for :meth:`inject_error` to send.

        :func:`error_samples` picks one code per class from a provider's code table.
        """
        return {}

    def bad_credentials_options(self) -> dict[str, Any] | None:
        """Connect options whose credentials the sandbox refuses (an ``AuthError`` expected); ``None`` skips."""
        return None

    def secrets(self) -> Sequence[str]:
        """Strings in :meth:`connect_options` (or :meth:`bad_credentials_options`) that must never show in a repr,
        an error or a log line."""
        return ()


def error_samples(table: Mapping[str, type[ProviderError]], per_class: int = 1) -> dict[str, type[ProviderError]]:
    """Up to ``per_class`` codes of each neutral class in a provider's code table, in the table's order."""
    picked: dict[str, type[ProviderError]] = {}
    counts: dict[type[ProviderError], int] = {}
    for code, cls in table.items():
        if counts.get(cls, 0) < per_class:
            picked[code] = cls
            counts[cls] = counts.get(cls, 0) + 1
    return picked
