"""``python -m kclusterkit.sim.server`` is ``kclusterkit sim serve``."""

from __future__ import annotations

import sys

from kclusterkit.sim.server.cli import main

sys.exit(main(sys.argv[1:]))
