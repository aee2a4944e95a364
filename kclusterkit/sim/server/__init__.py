"""The simulated cluster served over the Kubernetes REST API (``kclusterkit sim serve``).

kubectl, the kubernetes client and any other Kubernetes client can drive the simulator
through it as if it were a real cluster.
"""

from __future__ import annotations

from kclusterkit.sim.server.app import SimServer
from kclusterkit.sim.server.runner import ServerHandle, serve_in_thread, start

__all__ = ["ServerHandle", "SimServer", "serve_in_thread", "start"]
