"""``python -m kclusterkit`` is the ``kclusterkit`` command (the sim-api target starts its
server this way, with the interpreter that runs the features)."""

from __future__ import annotations

import sys

from kclusterkit.cli import main

sys.exit(main())
