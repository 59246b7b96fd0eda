"""Documentation generated from the code, so that the docs cannot drift from it unnoticed.

Pages keep hand-written prose around *generated regions*::

    <!-- generated:aws-errors -->
    ...replaced on every run...
    <!-- /generated:aws-errors -->

:func:`~generator.regions.fill` renders every region of a page from a mapping of region name → renderer;
a docs test regenerates every page and fails when one differs (``python docs/generate.py`` rewrites them).

The renderers know no cloud: they take a provider's own data (its :class:`~multiflow.model.Capabilities`, its
error-code table...), the hook specifications, the protocols, the fleet JSON Schema or the CLI's parser; the
example provider's README is rendered with them too.

This package lives in the repository's docs/ (run through ``docs/generate.py``), not in the installed
``multiflow``: nothing at runtime needs it.
"""

from __future__ import annotations

__all__ = ["cli", "markdown", "python_api", "reference", "regions", "schema"]
