"""The one interface steps talk to, and its implementations.

``SimDriver`` runs the simulator in-process (waits advance virtual time); ``KubeDriver``
drives any API server through the official kubernetes client (waits follow watches).
Steps never import the simulator or the client: only this package.
"""

from __future__ import annotations

from kclusterkit.driver.base import (
    Check,
    Driver,
    ExecResult,
    Load,
    Observation,
    Request,
    WaitResult,
)
from kclusterkit.driver.errors import (
    ApiError,
    ClusterError,
    NotSupported,
    Unreachable,
)

__all__ = [
    "ApiError",
    "Check",
    "ClusterError",
    "Driver",
    "ExecResult",
    "Load",
    "NotSupported",
    "Observation",
    "Request",
    "Unreachable",
    "WaitResult",
]
