"""ExampleCloud VPC flow logs for multiflow: a complete third-party provider plugin, as a template.

Registered through the ``multiflow`` entry-point group (``example = "multiflow_example"`` in this distribution's
pyproject.toml), exactly like the built-in ``aws`` and ``alibaba`` providers. Importing this package is cheap: the
client library (:mod:`multiflow_example.api`) is imported only when a session is opened.
"""

from __future__ import annotations

from collections.abc import Callable

import multiflow
from multiflow.provider import Provider
from multiflow_example.provider import ExampleProvider

__all__ = ["ExampleProvider", "register_providers"]
__version__ = "0.1.0"


@multiflow.hookimpl
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer the ``example`` provider."""
    register(ExampleProvider())
