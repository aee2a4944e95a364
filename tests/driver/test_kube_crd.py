"""CustomResourceDefinitions through KubeDriver against a served simulator: a new kind is
found by discovery, and the scenario's CRD (cluster-scoped) is labelled with the run and
removed when the scenario ends, or on abandon; a CRD the run did not create is left."""

from __future__ import annotations

import copy

import pytest
import requests

from kclusterkit.driver.kube import KubeDriver
from kclusterkit.sim.cluster import Cluster, ClusterSpec
from kclusterkit.sim.server import serve_in_thread
from tests.sim.apiextensions.test_crd import CRD

CRDS = "customresourcedefinitions.apiextensions.k8s.io"


def crd(plural: str) -> dict:
    made = copy.deepcopy(CRD)
    made["metadata"]["name"] = f"{plural}.stable.example.com"
    made["spec"]["names"] = {"plural": plural, "kind": plural.capitalize()[:-1]}
    return made


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    handle = serve_in_thread(cluster_factory=lambda: Cluster(ClusterSpec(worker_nodes=1), 3),
                             kubeconfig_path=tmp_path_factory.mktemp("kube") / "config",
                             speed=50.0)
    yield handle
    handle.stop()


def established(d: KubeDriver, name: str) -> None:
    def check():
        from kclusterkit.driver import Observation

        got = d.get(CRDS, name, "") or {}
        ok = any(c.get("type") == "Established" and c.get("status") == "True"
                 for c in (got.get("status") or {}).get("conditions") or [])
        return Observation(ok, str(got.get("status")))

    assert d.wait_until(check, 30, kinds=(CRDS,)).ok


def test_a_scenarios_crd_serves_its_kind_and_goes_with_the_scenario(served) -> None:
    outsider = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)},
                                      run_id="other-run", target="sim-api")
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)}, run_id="crd-end",
                               target="sim-api")
    d.open_scenario("one")
    d.list("pods")  # discovery read before the CRD exists
    made = d.create(crd("widgets"))
    assert made["metadata"]["labels"]["kclusterkit.io/run"] == "crd-end"
    established(d, "widgets.stable.example.com")
    obj = d.create({"apiVersion": "stable.example.com/v1", "kind": "Widget",
                    "metadata": {"name": "w"}, "spec": {"cronSpec": "*"}})
    assert obj["spec"]["image"] == "busybox"
    assert [o["metadata"]["name"] for o in d.list("widgets")] == ["w"]
    d.close_scenario(passed=True)
    assert d.get(CRDS, "widgets.stable.example.com", "") is None
    d.open_scenario("two")
    d.create(crd("gadgets"))
    d.abandon("interrupted")
    assert d.get(CRDS, "gadgets.stable.example.com", "") is None
    d.close()
    outsider.close()


def test_a_crd_the_run_did_not_create_is_left_alone(served) -> None:
    path = served.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    auth = {"headers": {"Authorization": f"Bearer {served.token}"}, "timeout": 10,
            "verify": str(served.ca_path)}
    assert requests.post(path, json=crd("sprockets"), **auth).status_code == 201
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)}, run_id="mine",
                               target="sim-api")
    d.open_scenario("one")
    d.create(crd("cogs"))
    d.close_scenario(passed=True)
    d.abandon("interrupted")
    d.close()
    assert requests.get(f"{path}/cogs.stable.example.com", **auth).status_code == 404
    assert requests.get(f"{path}/sprockets.stable.example.com", **auth).status_code == 200


def test_cluster_scoped_objects_the_run_did_not_create_are_never_changed(served) -> None:
    from kclusterkit.errors import NotSupported, Refused

    path = served.url + "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
    auth = {"headers": {"Authorization": f"Bearer {served.token}"}, "timeout": 10,
            "verify": str(served.ca_path)}
    theirs = crd("gadgets")
    theirs["spec"]["scope"] = "Cluster"
    assert requests.post(path, json=theirs, **auth).status_code == 201
    d = KubeDriver.from_config({"kubeconfig": str(served.kubeconfig_path)}, run_id="careful",
                               target="sim-api")
    d.open_scenario("one")
    try:
        # the cluster's own ClusterRole and someone's CRD: neither patched, applied nor deleted
        with pytest.raises(Refused, match="ClusterRole 'view', which this run did not create"):
            d.patch("clusterroles.rbac.authorization.k8s.io", "view",
                    {"metadata": {"labels": {"x": "y"}}}, namespace="")
        with pytest.raises(Refused, match="which this run did not create"):
            d.apply({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                     "metadata": {"name": "edit"}, "rules": []}, "kclusterkit")
        with pytest.raises(Refused, match="which this run did not create"):
            d.delete(CRDS, "gadgets.stable.example.com", "")
        established(d, "gadgets.stable.example.com")
        with pytest.raises(NotSupported, match="cluster-scoped objects \\(Gadget\\)"):
            d.create({"apiVersion": "stable.example.com/v1", "kind": "Gadget",
                      "metadata": {"name": "g"}, "spec": {}})
        # its own cluster-scoped CRD: objects of it may be written, and go with it
        mine = crd("gizmos")
        mine["spec"]["scope"] = "Cluster"
        d.create(mine)
        established(d, "gizmos.stable.example.com")
        d.create({"apiVersion": "stable.example.com/v1", "kind": "Gizmo",
                  "metadata": {"name": "g"}, "spec": {"cronSpec": "*"}})
        d.patch("gizmos.stable.example.com", "g", {"spec": {"cronSpec": "1"}}, namespace="")
        d.delete(CRDS, "gizmos.stable.example.com", "")
    finally:
        d.close_scenario(passed=True)
        d.close()
    assert requests.get(f"{path}/gadgets.stable.example.com", **auth).status_code == 200
    view = requests.get(served.url + "/apis/rbac.authorization.k8s.io/v1/clusterroles/view",
                        **auth).json()
    assert "x" not in (view["metadata"].get("labels") or {})
