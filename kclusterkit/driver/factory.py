"""Building the driver an environment file asks for.

The hooks know only an ``Environment`` and a seed; which class serves which target, and
how the environment's settings become its constructor arguments, is decided here. The
non-simulator targets live in ``kclusterkit.driver.kube``, imported only when asked for so
a simulator run never loads the kubernetes client.

Contract for other targets: ``BUILDERS[target]`` is ``"module:function"``; the function is
called as ``function(env, seed)`` and returns a ``Driver``. ``env.options`` holds the
target-specific settings (kubeconfig, context, namespace_prefix, cleanup,
allow_disruptive, hooks, serve) as validated by ``kclusterkit.config``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from kclusterkit.driver.base import Driver
from kclusterkit.driver.errors import ClusterError

if TYPE_CHECKING:
    from kclusterkit.config import Environment
    from kclusterkit.sim.cluster import ClusterSpec

BUILDERS: dict[str, str] = {
    "sim": "kclusterkit.driver.factory:build_sim_driver",
    "sim-api": "kclusterkit.driver.simapi:from_environment",
    "kubeconfig": "kclusterkit.driver.kube:from_environment",
}


def cluster_spec(env: Environment) -> ClusterSpec:
    """The simulator's ClusterSpec for an environment's ``cluster`` and ``timings``."""
    from kclusterkit.sim.cluster import ClusterSpec, NodeShape
    from kclusterkit.sim.timings import Timings

    shape = env.cluster
    return ClusterSpec(
        control_plane_nodes=shape.control_plane_nodes,
        worker_nodes=shape.worker_nodes,
        node=NodeShape(cpu=shape.node.cpu, memory=shape.node.memory, pods=shape.node.pods),
        network_plugin=shape.network_plugin,
        default_storage_class=shape.default_storage_class,
        network_storage_class=shape.network_storage_class,
        zones=tuple(shape.zones),
        timings=Timings().updated(env.timings),
    )


def build_sim_driver(env: Environment, seed: int) -> Driver:
    from kclusterkit.driver.sim import SimDriver

    return SimDriver(cluster_spec(env), seed=seed)


def build_driver(env: Environment, seed: int) -> Driver:
    """The driver for ``env.target``; a target whose driver is missing is a ClusterError."""
    try:
        spec = BUILDERS[env.target]
    except KeyError:
        raise ClusterError(f"{env.display}: target {env.target!r} has no driver") from None
    module_name, _, func_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
        builder = getattr(module, func_name)
    except (ImportError, AttributeError) as exc:
        raise ClusterError(
            f"{env.display}: target {env.target!r} needs {spec}, which is not available "
            f"({exc})") from exc
    return builder(env, seed)
