"""Node maintenance through KubeDriver: refused without allow_disruptive, undone after.

A real cluster's nodes are shared, so every cordon, label and taint a scenario makes must
be taken back when it ends — also when the run is interrupted — and none may be made
unless the environment allows disruptive actions.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kclusterkit.driver.errors import Refused
from kclusterkit.driver.kube import KubeDriver
from kclusterkit.sim.server import ServerHandle, serve_in_thread


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerHandle]:
    handle = serve_in_thread(seed=1, speed=20.0,
                             kubeconfig_path=tmp_path_factory.mktemp("nodes") / "config")
    yield handle
    handle.stop()


def _driver(served: ServerHandle, allow: bool, run_id: str) -> KubeDriver:
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path),
                                "allow_disruptive": allow}, run_id=run_id)
    d.open_scenario("nodes")
    return d


def test_node_changes_are_refused_without_allow_disruptive(served: ServerHandle) -> None:
    d = _driver(served, False, "refuse")
    try:
        with pytest.raises(Refused, match="allow_disruptive: true"):
            d.set_node_unschedulable("worker-1", True)
        with pytest.raises(Refused, match="allow_disruptive"):
            d.set_node_label("worker-1", "disk", "ssd")
        with pytest.raises(Refused, match="allow_disruptive"):
            d.set_node_taint("worker-1", {"key": "k", "value": "v", "effect": "NoSchedule"},
                             True)
        with pytest.raises(Refused, match="which this run did not create"):
            d.evict("anything", "kube-system")
        node = d.get("nodes", "worker-1")
        assert not node["spec"].get("unschedulable")
        assert "disk" not in node["metadata"]["labels"]
    finally:
        d.close_scenario(passed=True)
        d.close()


def test_every_change_is_undone_when_the_scenario_ends(served: ServerHandle) -> None:
    d = _driver(served, True, "undo")
    try:
        before = d.get("nodes", "worker-2")
        d.set_node_label("worker-2", "kubernetes.io/os", "plan9")  # an existing label
        d.set_node_label("worker-2", "disk", "ssd")
        d.set_node_label("worker-2", "disk", "nvme")  # twice: the first value is kept
        d.set_node_taint("worker-2", {"key": "dedicated", "value": "db",
                                      "effect": "NoSchedule"}, True)
        d.set_node_unschedulable("worker-2", True)
        changed = d.get("nodes", "worker-2")
        assert changed["metadata"]["labels"]["disk"] == "nvme"
        assert changed["spec"]["unschedulable"] is True
        assert {"key": "dedicated", "value": "db", "effect": "NoSchedule"} in \
            changed["spec"]["taints"]
    finally:
        d.close_scenario(passed=True)
    after = d.get("nodes", "worker-2")
    d.close()
    assert after["metadata"]["labels"] == before["metadata"]["labels"]
    assert not after["spec"].get("unschedulable")
    assert not any(t["key"] == "dedicated" for t in after["spec"].get("taints") or [])


HOOKS = {
    "remove_network_plugin":
        "kclusterkit sim fault remove-network-plugin --kubeconfig {kubeconfig}",
    "install_network_plugin":
        "kclusterkit sim fault install-network-plugin --kubeconfig {kubeconfig}",
}


def _ready(d: KubeDriver) -> list[str]:
    return sorted(c["status"] for n in d.list("nodes") for c in n["status"]["conditions"]
                  if c["type"] == "Ready")


def test_a_removed_network_plugin_is_installed_again_at_scenario_end(
        served: ServerHandle) -> None:
    refused = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path),
                                      "hooks": HOOKS}, run_id="noplugin")
    with pytest.raises(Refused, match="allow_disruptive"):
        refused.set_network_plugin(False)
    refused.close()
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path), "hooks": HOOKS,
                                "allow_disruptive": True}, run_id="plugin")
    d.open_scenario("plugin")
    d.set_network_plugin(False)
    assert set(_ready(d)) == {"False"}
    assert d.get("daemonsets", "kindnet", "kube-system") is None
    d.close_scenario(passed=False)
    # Installed again: the DaemonSet is back, and each node turns Ready once its pod runs.
    assert d.get("daemonsets", "kindnet", "kube-system") is not None
    deadline = time.monotonic() + 10
    while set(_ready(d)) != {"True"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(_ready(d)) == {"True"}
    d.close()


def test_the_environments_manifest_installs_the_plugin_through_the_api(
        served: ServerHandle) -> None:
    from kclusterkit.config import BUILTIN_DIR

    d = KubeDriver.from_config({
        "kubeconfig": str(served.kubeconfig_path), "allow_disruptive": True,
        "hooks": {"remove_network_plugin": HOOKS["remove_network_plugin"]},
        "network_plugin_manifest": str(BUILTIN_DIR / "manifests" / "kindnet.yaml")},
        run_id="manifest")
    d.open_scenario("manifest")
    d.set_network_plugin(False)
    assert d.get("daemonsets", "kindnet", "kube-system") is None
    d.set_network_plugin(True)  # no install hook: the manifest's objects, created
    ds = d.get("daemonsets", "kindnet", "kube-system")
    assert ds["spec"]["template"]["spec"]["serviceAccountName"] == "kindnet"
    assert d.get("serviceaccounts", "kindnet", "kube-system") is not None
    deadline = time.monotonic() + 10
    while set(_ready(d)) != {"True"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert set(_ready(d)) == {"True"}
    d.close_scenario(passed=True)
    d.close()


def test_a_manifest_that_is_not_kubernetes_objects_is_a_clear_error(tmp_path) -> None:
    from kclusterkit.driver.errors import ConfigurationError
    from kclusterkit.driver.kubeplugin import load_manifest

    bad = tmp_path / "plugin.yaml"
    bad.write_text("kind: DaemonSet\n---\n- a list\n")
    with pytest.raises(ConfigurationError, match=r"plugin.yaml: document 1 is not a Kubernetes"):
        load_manifest(str(bad))
    with pytest.raises(ConfigurationError, match="cannot read"):
        load_manifest(str(tmp_path / "absent.yaml"))
