from __future__ import annotations

from netfakes import FakeCluster

from kclusterkit.sim.resources import ENDPOINTS, ENDPOINTSLICES, PODS, SERVICES


def endpoints(c: FakeCluster, name: str = "web", ns: str = "default") -> tuple[list, list]:
    ep = c.store.get(ENDPOINTS, ns, name)
    ready, not_ready = [], []
    for subset in ep.get("subsets") or []:
        ready += [a["targetRef"]["name"] for a in subset.get("addresses") or []]
        not_ready += [a["targetRef"]["name"] for a in subset.get("notReadyAddresses") or []]
    return sorted(ready), sorted(not_ready)


def slices(c: FakeCluster, name: str = "web", ns: str = "default") -> list[dict]:
    return sorted((s for s in c.store.iter(ENDPOINTSLICES, ns)
                   if s["metadata"]["labels"].get("kubernetes.io/service-name") == name),
                  key=lambda s: s["metadata"]["name"])


def slice_conditions(c: FakeCluster, name: str = "web") -> dict[str, dict]:
    return {e["targetRef"]["name"]: e["conditions"]
            for s in slices(c, name) for e in s.get("endpoints") or []}


def test_endpoints_track_readiness_ip_and_labels():
    c = FakeCluster()
    c.service("web")
    c.pod("web-a", "10.244.1.2")
    c.pod("web-b", "10.244.2.2", ready=False)
    c.pod("web-c", None)  # no IP yet: left out
    c.pod("other", "10.244.1.9", app="other")
    assert endpoints(c) == (["web-a"], ["web-b"])
    subset = c.store.get(ENDPOINTS, "default", "web")["subsets"][0]
    address = subset["addresses"][0]
    pod = c.store.get(PODS, "default", "web-a")
    assert address == {"ip": "10.244.1.2", "nodeName": "worker-1",
                       "targetRef": {"kind": "Pod", "namespace": "default", "name": "web-a",
                                     "uid": pod["metadata"]["uid"]}}
    assert subset["ports"] == [{"port": 8080, "protocol": "TCP"}]

    c.set_pod("web-b", "10.244.2.2", ready=True)
    c.set_pod("web-c", "10.244.2.3", ready=True)
    assert endpoints(c) == (["web-a", "web-b", "web-c"], [])
    c.set_pod("web-a", "10.244.1.2", ready=False)
    assert endpoints(c) == (["web-b", "web-c"], ["web-a"])

    relabelled = c.api.get(PODS, "default", "web-c")
    relabelled["metadata"]["labels"] = {"app": "moved"}
    c.api.update(relabelled)
    c.settle()
    assert endpoints(c) == (["web-b"], ["web-a"])
    c.api.delete(PODS, "default", "web-b")  # terminating (or gone): out of the Endpoints
    c.settle()
    assert endpoints(c) == ([], ["web-a"])


def test_endpoint_slice_shape_and_conditions():
    c = FakeCluster()
    service = c.service("web", ports=[{"name": "http", "port": 80, "targetPort": "http"}])
    c.pod("web-a", "10.244.1.2")
    c.pod("web-b", "10.244.2.2", ready=False, node="worker-2")
    [slice_obj] = slices(c)
    meta = slice_obj["metadata"]
    assert meta["name"].startswith("web-") and len(meta["name"]) == len("web-") + 5
    assert meta["labels"] == {"kubernetes.io/service-name": "web",
                              "endpointslice.kubernetes.io/managed-by":
                                  "endpointslice-controller.k8s.io"}
    assert meta["ownerReferences"][0]["uid"] == service["metadata"]["uid"]
    assert slice_obj["addressType"] == "IPv4"
    # The named targetPort resolves against the containers' port names.
    assert slice_obj["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert slice_conditions(c) == {
        "web-a": {"ready": True, "serving": True, "terminating": False},
        "web-b": {"ready": False, "serving": False, "terminating": False},
    }
    assert {e["nodeName"] for e in slice_obj["endpoints"]} == {"worker-1", "worker-2"}


def test_terminating_pod_leaves_endpoints_but_stays_serving_in_the_slice():
    c = FakeCluster()
    c.service("web")
    c.pod("web-a", "10.244.1.2")
    # What the API does to a pod a kubelet runs: a deletionTimestamp, the pod stays.
    pod = c.api.get(PODS, "default", "web-a")
    pod["metadata"]["deletionTimestamp"] = c.clock.timestamp()
    c.store.update(PODS, pod)
    c.settle()
    assert endpoints(c) == ([], [])
    assert slice_conditions(c) == {
        "web-a": {"ready": False, "serving": True, "terminating": True}}


def test_named_target_port_missing_on_a_pod_leaves_that_pod_out():
    c = FakeCluster()
    c.service("web", ports=[{"port": 80, "targetPort": "http"}])
    c.pod("web-a", "10.244.1.2")
    c.pod("web-b", "10.244.1.3", ports=[{"containerPort": 9090, "name": "metrics"}])
    assert endpoints(c) == (["web-a"], [])


def test_empty_service_has_a_placeholder_slice_and_objects_go_with_the_service():
    c = FakeCluster()
    c.service("web")
    assert c.store.get(ENDPOINTS, "default", "web").get("subsets") is None
    [placeholder] = slices(c)
    assert placeholder["endpoints"] is None
    c.api.delete(SERVICES, "default", "web")
    c.settle()
    assert c.store.get(ENDPOINTS, "default", "web") is None
    assert slices(c) == []


def test_selectorless_service_is_left_to_its_owner():
    c = FakeCluster()
    c.api.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "ext"},
                  "spec": {"ports": [{"port": 80}]}})
    c.settle()
    assert c.store.get(ENDPOINTS, "default", "ext") is None
    assert slices(c, "ext") == []


def test_large_services_split_into_slices_of_100():
    c = FakeCluster()
    c.service("web")
    for i in range(150):
        c.pod(f"web-{i:03}", f"10.244.{i // 200}.{i % 200 + 1}")
    counts = sorted(len(s["endpoints"]) for s in slices(c))
    assert counts == [50, 100]


def test_a_burst_of_pod_changes_is_one_write_per_service():
    c = FakeCluster()
    c.service("web")
    writes = []
    c.store.subscribe(ENDPOINTS, lambda t, o, old: writes.append(t))
    for i in range(5):
        c.api.create({"apiVersion": "v1", "kind": "Pod",
                      "metadata": {"name": f"web-{i}", "labels": {"app": "web"}},
                      "spec": {"containers": [{"name": "c", "image": "x:1"}]}})
        pod = c.api.get(PODS, "default", f"web-{i}")
        pod["status"] = {"podIP": f"10.244.1.{i + 1}",
                         "conditions": [{"type": "Ready", "status": "True"}]}
        c.api.update(pod, subresource="status")
    c.settle()
    assert writes == ["MODIFIED"]
    assert len(endpoints(c)[0]) == 5


def test_kubernetes_endpoints_point_at_the_control_plane():
    c = FakeCluster()
    ep = c.store.get(ENDPOINTS, "default", "kubernetes")
    assert ep["subsets"] == [{"addresses": [{"ip": "172.18.0.2"}],
                              "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]
