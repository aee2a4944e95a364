"""The step library: importing this package registers every kclusterkit step with behave.

A project's ``steps/library.py`` does ``from kclusterkit.steps import *``. One module per
behaviour domain; ``_support`` holds what they share (catalog, waits, failure messages) and
``types`` the parameter types, registered before any step uses them.
"""

from __future__ import annotations

from kclusterkit.steps import (  # noqa: F401
    acceptance,
    access,
    apply,
    autoscaling,
    batch,
    cluster,
    control_plane,
    custom_resources,
    discovery,
    healing,
    namespaces,
    netpol,
    network,
    nodes,
    placement,
    pods_exec,
    preemption,
    rollout,
    scaling,
    services,
    storage,
    traffic,
    types,  # noqa: F401  (registers parameter types first)
    workloads,
)
from kclusterkit.steps._support import (  # noqa: F401  (for a project's own steps)
    CATALOG,
    StepDoc,
    check_now,
    hold_for,
    kk,
    step,
    wait_for,
)

DOMAINS = ("cluster", "workloads", "healing", "scaling", "services", "traffic", "discovery",
           "pods_exec", "rollout", "acceptance", "control_plane", "storage", "batch",
           "autoscaling", "access", "nodes", "placement", "network", "netpol", "apply",
           "preemption", "namespaces", "custom_resources")

# `from kclusterkit.steps import *` (steps/library.py) only registers the steps
__all__: list[str] = []


def catalog() -> list[StepDoc]:
    """Every library step, grouped by domain in DOMAINS order."""
    order = {name: i for i, name in enumerate(DOMAINS)}
    return sorted(CATALOG, key=lambda doc: order.get(doc.domain, len(order)))
