"""The ``sim-api`` target: the simulator served over HTTP, driven like a real cluster.

It exists to prove the real-cluster path end to end without a cluster: the same
KubeDriver, the kubernetes client, watches and websockets, against a simulated cluster of
the environment's shape and seed, started for the run in a background thread. Faults a
real cluster would need an operator's hook for go straight to the simulator, on its own
event loop, because this process owns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kclusterkit.driver.errors import ApiError, ClusterError, NotSupported
from kclusterkit.driver.kube import KubeDriver
from kclusterkit.driver.kubetraffic import ServedSimTransport

if TYPE_CHECKING:
    from kclusterkit.sim.server.runner import ServerHandle

SERVE_OPTIONS = ("speed", "port")
# Cluster seconds per wall second when the environment file does not say: waits are in
# cluster time, so a suite costs 1/100 of the time its steps name.
DEFAULT_SPEED = 100.0


def _faults(handle: ServerHandle) -> Callable[[str, dict[str, Any]], None]:
    def fault(action: str, args: dict[str, Any]) -> None:
        from kclusterkit.sim.errors import StatusError

        def run(cluster: Any) -> None:
            nodes = cluster.nodes
            fn = getattr(nodes, action, None)
            if fn is None:
                raise NotSupported(f"{action.replace('_', ' ')}: not implemented by the "
                                   "simulator yet")
            if action == "crash_container":
                fn(args["namespace"], args["pod"], container=args.get("container"),
                   exit_code=args.get("exitCode", 1))
            else:
                fn(args["node"])

        try:
            handle.call(run)
        except StatusError as exc:
            raise ApiError(exc.code, exc.reason, exc.message, exc.status) from exc

    return fault


def start_sim_api(env: Any, seed: int, options: dict[str, Any], run_id: str | None = None,
                  cluster_factory: Any = None) -> KubeDriver:
    """Serve a simulated cluster for the run and return a KubeDriver pointed at it
    (``cluster_factory`` replaces the environment's cluster, for tests)."""
    from kclusterkit.driver.factory import cluster_spec
    from kclusterkit.sim.server import serve_in_thread

    options = dict(options)
    serve = dict(options.pop("serve", None) or {})
    unknown = sorted(set(serve) - set(SERVE_OPTIONS))
    if unknown:
        raise ClusterError(f"serve.{unknown[0]}: unknown option (known: "
                           f"{', '.join(SERVE_OPTIONS)})")
    for key in ("kubeconfig", "context"):
        if key in options:
            raise ClusterError(f"{key}: target sim-api serves its own cluster; remove {key}:")
    try:
        speed = float(serve.get("speed", DEFAULT_SPEED))
        if speed <= 0:
            raise ClusterError(f"serve.speed: expected a number > 0, got {speed:g}")
        handle = serve_in_thread(cluster_spec(env), seed=seed, speed=speed,
                                 port=int(serve.get("port", 0)),
                                 cluster_factory=cluster_factory)
    except RuntimeError as exc:
        raise ClusterError(str(exc)) from exc
    try:
        # Cluster time is the served cluster's own clock (read, never written, from here: a
        # float attribute), so "within 30 seconds" means 30 simulated seconds even when a
        # loaded machine lets the server's clock fall behind wall time × speed.
        clock = handle.call(lambda cluster: cluster.clock)
        driver = KubeDriver.from_config({**options, "kubeconfig": str(handle.kubeconfig_path)},
                                        run_id=run_id, target="sim-api",
                                        faults=_faults(handle), on_close=handle.stop,
                                        clock=lambda: clock.now, speed=speed,
                                        transport=lambda d: ServedSimTransport(d, handle))
    except BaseException:
        handle.stop()
        raise
    driver.capabilities = driver.capabilities | {"readiness-fault"}
    driver.seed = seed
    # the served cluster's clock, not the wall: restartedAt agrees with its other timestamps
    driver.timestamp = clock.timestamp  # type: ignore[method-assign]
    driver.server = handle  # type: ignore[attr-defined]  (benchmarks and tests reach in)
    return driver
