"""What field management costs per write: Api.update of a Deployment with and without a
field manager, and a server-side apply, in process. Prints figures, asserts nothing; the
last line is key=value pairs. Run: PYTHONPATH=. python bench/fieldmanager.py [--writes N]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.resources import for_kind

DEPLOY = for_kind("apps/v1", "Deployment")


def config(replicas: int) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {
                         "containers": [{"name": "nginx", "image": "nginx:1.25",
                                         "ports": [{"containerPort": 80}],
                                         "env": [{"name": f"E{i}", "value": str(i)}
                                                 for i in range(10)]}]}}}}


def per_write_us(writes: int, manager: str | None, apply: bool) -> float:
    api = Cluster(seed=1).api
    api.patch(DEPLOY, "default", "web", config(1), "application/apply-patch+yaml",
              manager="ci")
    start = time.perf_counter()
    for n in range(writes):
        if apply:
            api.patch(DEPLOY, "default", "web", config(n % 5 + 1),
                      "application/apply-patch+yaml", manager="ci", force=True)
        else:
            obj = api.get(DEPLOY, "default", "web")
            obj["spec"]["replicas"] = n % 5 + 1
            api.update(obj, manager=manager)
    return (time.perf_counter() - start) / writes * 1e6


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=2000)
    args = parser.parse_args()
    untracked = per_write_us(args.writes, None, False)
    tracked = per_write_us(args.writes, "kubectl-edit", False)
    applied = per_write_us(args.writes, None, True)
    print(f"update without a manager: {untracked:.0f} us/write")
    print(f"update with a manager:    {tracked:.0f} us/write")
    print(f"server-side apply:        {applied:.0f} us/write")
    print(f"writes={args.writes} untracked_us={untracked:.0f} tracked_us={tracked:.0f} "
          f"apply_us={applied:.0f}")


if __name__ == "__main__":
    main()
