"""Admission strategies per kind: defaults, validation, and deletion semantics.

Importing this package registers every strategy with the API layer.
"""

from __future__ import annotations

from kclusterkit.sim.apiextensions import apiservices, crd  # noqa: F401  (CRD, APIService)
from kclusterkit.sim.kinds import (  # noqa: F401
    apps,
    autoscaling,
    autoscaling_v1,
    batch,
    config,
    core,
    daemonset,
    pods,
    policy,
    scheduling,
    statefulsets,
    storage,
)
from kclusterkit.sim.network import policy as network_policy  # noqa: F401  (NetworkPolicy)
from kclusterkit.sim.network import services  # noqa: F401  (Service admission)
