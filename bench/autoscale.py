"""The scale-out scenario in process: wall time for its cluster time, and where it goes.

Runs features/autoscaling.feature's first scenario through the step functions on the
in-process simulator (as behave would, without behave's own overhead): a cluster of 1+2
nodes, two agnhost pods requesting 100m CPU, each request costing 18m CPU for 1 s, an
autoscaler between 2 and 10 at 50%, a load of --rate requests per second until 4 pods are
ready and for 4 minutes more, then the load stops, 4 minutes pass within the five-minute
stabilization window, and the scale-in leaves 2 pods. Prints the
cluster time covered, the wall time, the requests made and the wall time per request.
With --rate 200 --cost 1m the load of the issue's example (200 requests per second at a
lower cost) shows what per-request load events cost. Figures only, no assertions.

    PYTHONPATH=. python bench/autoscale.py [--rate 10] [--cost 18m] [--seed 1]
"""

from __future__ import annotations

import argparse
import time
from types import SimpleNamespace

from kclusterkit.driver.sim import SimDriver
from kclusterkit.kube.quantity import cpu_millis
from kclusterkit.steps import autoscaling, traffic
from kclusterkit.steps._support import ScenarioState
from kclusterkit.steps.cluster import a_cluster
from kclusterkit.steps.services import a_service_exposing
from kclusterkit.steps.workloads import (
    a_deployment_requesting_cpu,
    deployment_has_at_least,
    deployment_has_pods,
    deployment_is_available,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=10, help="requests per second")
    parser.add_argument("--cost", default="18m", help="CPU each request keeps busy for 1 s")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    wanted = max(2, min(10, -(-(args.rate * cpu_millis(args.cost)) // 50)))

    started = time.perf_counter()
    driver = SimDriver(seed=args.seed)  # the scenario's cluster is part of its cost
    driver.open_scenario("bench")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=args.seed))
    a_cluster(context, cp=1, workers=2)
    a_deployment_requesting_cpu(context, name="api", image="agnhost:2.53 netexec", n=2,
                                cpu="100m")
    a_service_exposing(context, name="api", deployment="api")
    deployment_is_available(context, name="api", d=60)
    autoscaling.request_costs(context, name="api", cpu=args.cost, d=1.0)
    autoscaling.autoscaled_cpu(context, name="api", low=2, high=10, cpu=50)
    traffic.service_receives(context, name="api", rate=args.rate)
    load = context.kk.memo["loads"]["api"].load
    deployment_has_at_least(context, name="api", n=min(wanted, 4), d=180)
    autoscaling.stays_between(context, name="api", low=min(wanted, 4), high=10, d=240)
    traffic.load_stops(context, name="api")
    requests = len(load.records)
    autoscaling.stays_between(context, name="api", low=_ready(driver), high=10, d=240)
    deployment_has_pods(context, name="api", n=2, d=180)
    wall = time.perf_counter() - started
    cluster = driver.now()  # the whole scenario, from the cluster's start
    print(f"scale-out scenario: {args.rate} requests/s at {args.cost} CPU for 1 s each, "
          f"seed {args.seed}")
    print(f"cluster time {cluster:.0f} s ({cluster / 60:.1f} min) in {wall:.3f} s of wall time "
          f"({wall / (cluster / 60):.3f} s per cluster minute)")
    print(f"{requests} requests under load ({wall / max(requests, 1) * 1e6:.0f} us of wall time "
          f"per request, if everything else cost nothing)")
    print(f"wall_s={wall:.3f} cluster_s={cluster:.0f} requests={requests}")
    return 0


def _ready(driver: SimDriver) -> int:
    pods = driver.list("pods", labels="app=api")
    return sum(1 for p in pods if any(c.get("type") == "Ready" and c.get("status") == "True"
                                      for c in (p.get("status") or {}).get("conditions") or []))


if __name__ == "__main__":
    raise SystemExit(main())
