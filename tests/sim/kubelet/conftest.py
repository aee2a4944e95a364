"""The kubelet's tests run on a one-worker cluster of their own."""

from __future__ import annotations

import pytest

from kclusterkit.sim.cluster import Cluster, ClusterSpec


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(ClusterSpec(worker_nodes=1), seed=2)
