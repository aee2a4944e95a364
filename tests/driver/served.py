"""A served simulator for the KubeDriver tests and a driver on it for one test's scenario:
the driver meets the cluster only through its kubeconfig, as it would a real one."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from kclusterkit.driver.kube import KubeDriver
from kclusterkit.sim.server import ServerHandle, serve_in_thread


def served_cluster(tmp_path_factory: pytest.TempPathFactory,
                   cluster_factory: Callable[[], Any]) -> Iterator[ServerHandle]:
    """A module fixture's body: serve the factory's cluster until the module ends."""
    handle = serve_in_thread(cluster_factory=cluster_factory,
                             kubeconfig_path=tmp_path_factory.mktemp("kube") / "config")
    yield handle
    handle.stop()


def scenario_driver(served: ServerHandle, request: pytest.FixtureRequest,
                    scenario: str) -> Iterator[KubeDriver]:
    """A fixture's body: a KubeDriver with a scenario (and its namespace) open for one test."""
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)},
                               run_id=request.node.name[5:30], target="sim-api")
    d.open_scenario(scenario)
    yield d
    d.close_scenario(passed=True)
    d.close()
