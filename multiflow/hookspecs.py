"""The hooks a multiflow plugin can implement.

Plugins are found through the ``multiflow`` entry-point group and registered with pluggy. Implementations use
:data:`hookimpl` and may take fewer arguments than the spec, so a hook can grow without breaking plugins::

    import multiflow

    @multiflow.hookimpl
    def register_providers(register):
        register(MyCloudProvider())
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from multiflow.provider import Provider

__all__ = ["hookimpl", "hookspec", "register_providers"]

hookspec = pluggy.HookspecMarker("multiflow")
hookimpl = pluggy.HookimplMarker("multiflow")


@hookspec
def register_providers(register: Callable[[Provider], None]) -> None:
    """Offer one or more clouds.

    :param register: call it once per provider with an object that satisfies
        :class:`multiflow.provider.Provider`; the host checks the object and refuses a second provider
        of the same name.
    """
