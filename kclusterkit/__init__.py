"""kclusterkit: say in Gherkin what a Kubernetes cluster must do, and check it.

The package is layered so the simulator can be trusted on its own: ``sim`` knows nothing of
behave or drivers, ``driver`` is the only thing steps talk to, and ``steps``/``hooks``/
``report``/``cli`` sit on top.
"""

from __future__ import annotations

__version__ = "0.1.0"
