from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client, config

from kclusterkit.sim.server import ServerHandle, serve_in_thread
from tests.sim.server.fakes import FakeCluster


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    path = tmp_path_factory.mktemp("kube") / "config"
    handle = serve_in_thread(cluster_factory=FakeCluster, speed=1.0, kubeconfig_path=path)
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def api_client(served: ServerHandle) -> client.ApiClient:
    return config.new_client_from_config(str(served.kubeconfig_path))
