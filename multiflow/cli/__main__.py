"""``python -m multiflow.cli``: the ``multiflow`` command."""

import sys

from multiflow.cli import main

sys.exit(main())
