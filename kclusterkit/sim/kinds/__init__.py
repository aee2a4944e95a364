"""Admission strategies per kind: defaults, validation, and deletion semantics.

Importing this package registers every strategy with the API layer.
"""

from __future__ import annotations

from kclusterkit.sim.kinds import (  # noqa: F401
    apps,
    autoscaling,
    batch,
    config,
    core,
    daemonset,
    pods,
    statefulsets,
    storage,
)
from kclusterkit.sim.network import services  # noqa: F401  (Service admission)
