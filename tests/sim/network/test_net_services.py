from __future__ import annotations

import ipaddress

import pytest
from netfakes import FakeCluster

from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.resources import SERVICES


def svc(name: str, **spec) -> dict:
    spec.setdefault("ports", [{"port": 80}])
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": spec}


def invalid(cluster: FakeCluster, obj: dict) -> str:
    with pytest.raises(StatusError) as info:
        cluster.api.create(obj)
    assert info.value.code == 422
    return info.value.message


def test_defaults_follow_set_defaults_service():
    c = FakeCluster()
    created = c.api.create(svc("web", selector={"app": "web"}))
    spec = created["spec"]
    assert spec["type"] == "ClusterIP"
    assert spec["sessionAffinity"] == "None"
    assert spec["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    assert spec["ipFamilies"] == ["IPv4"] and spec["ipFamilyPolicy"] == "SingleStack"
    assert spec["internalTrafficPolicy"] == "Cluster"
    assert "externalTrafficPolicy" not in spec
    assert spec["clusterIPs"] == [spec["clusterIP"]]
    assert created["status"] == {"loadBalancer": {}}
    node_port = c.api.create(svc("np", type="NodePort"))["spec"]
    assert node_port["externalTrafficPolicy"] == "Cluster"
    affinity = c.api.create(svc("sticky", sessionAffinity="ClientIP"))["spec"]
    assert affinity["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}


def test_builtin_services_hold_the_reserved_addresses():
    c = FakeCluster()
    kubernetes = c.store.get(SERVICES, "default", "kubernetes")
    assert kubernetes["spec"]["clusterIP"] == "10.96.0.1"
    assert kubernetes["spec"]["ports"][0]["targetPort"] == 6443
    assert c.store.get(SERVICES, "kube-system", "kube-dns")["spec"]["clusterIP"] == "10.96.0.10"


def test_dynamic_cluster_ips_come_from_the_upper_band_and_follow_the_seed():
    def ips(seed: int) -> list[str]:
        c = FakeCluster(seed=seed)
        return [c.api.create(svc(f"s{i}"))["spec"]["clusterIP"] for i in range(20)]

    first = ips(7)
    assert first == ips(7)
    assert first != ips(8)
    assert len(set(first)) == 20
    net = ipaddress.ip_network("10.96.0.0/12")
    for ip in first:
        addr = ipaddress.ip_address(ip)
        assert addr in net
        # The lowest 256 addresses are kept for static allocation (KEP-3070).
        assert int(addr) - int(net.network_address) > 256


def test_requested_cluster_ip_is_honoured_refused_when_taken_and_released_on_delete():
    c = FakeCluster()
    assert c.api.create(svc("a", clusterIP="10.96.0.50"))["spec"]["clusterIP"] == "10.96.0.50"
    message = invalid(c, svc("b", clusterIP="10.96.0.50"))
    assert message == ('Service "b" is invalid: spec.clusterIPs: Invalid value: '
                       '[]string{"10.96.0.50"}: failed to allocate IP 10.96.0.50: '
                       'provided IP is already allocated')
    c.api.delete(SERVICES, "default", "a")
    assert c.api.create(svc("b", clusterIP="10.96.0.50"))["spec"]["clusterIP"] == "10.96.0.50"


def test_cluster_ip_outside_the_range():
    message = invalid(FakeCluster(), svc("a", clusterIP="192.168.1.1"))
    assert message.endswith("failed to allocate IP 192.168.1.1: the provided IP (192.168.1.1) "
                            "is not in the valid range. The range of valid IPs is 10.96.0.0/12")


def test_headless_service_gets_no_cluster_ip():
    c = FakeCluster()
    spec = c.api.create(svc("db", clusterIP="None", selector={"app": "db"}))["spec"]
    assert spec["clusterIP"] == "None" and spec["clusterIPs"] == ["None"]
    assert spec["ipFamilyPolicy"] == "SingleStack"
    bare = c.api.create(svc("ext", clusterIP="None"))["spec"]
    assert bare["ipFamilyPolicy"] == "RequireDualStack"
    assert bare["ipFamilies"] == ["IPv4", "IPv6"]


def test_node_ports_are_allocated_in_range_refused_when_taken_and_released():
    c = FakeCluster(seed=3)
    ports = set()
    for i in range(10):
        port = c.api.create(svc(f"n{i}", type="NodePort"))["spec"]["ports"][0]["nodePort"]
        assert 30000 <= port <= 32767
        ports.add(port)
    assert len(ports) == 10
    c.api.create(svc("fixed", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    message = invalid(c, svc("clash", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert message == ('Service "clash" is invalid: spec.ports[0].nodePort: Invalid value: 30080: '
                       'provided port is already allocated')
    message = invalid(c, svc("low", type="NodePort", ports=[{"port": 80, "nodePort": 8080}]))
    assert message.endswith("spec.ports[0].nodePort: Invalid value: 8080: provided port is not "
                            "in the valid range. The range of valid ports is 30000-32767")
    c.api.delete(SERVICES, "default", "fixed")
    again = c.api.create(svc("clash", type="NodePort", ports=[{"port": 80, "nodePort": 30080}]))
    assert again["spec"]["ports"][0]["nodePort"] == 30080


def test_update_keeps_allocations_and_clusterip_is_immutable():
    c = FakeCluster()
    created = c.api.create(svc("web", type="NodePort"))
    ip, node_port = created["spec"]["clusterIP"], created["spec"]["ports"][0]["nodePort"]
    put = svc("web", type="NodePort", ports=[{"port": 80}])  # a PUT without allocated values
    put["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"]
    updated = c.api.update(put)
    assert updated["spec"]["clusterIP"] == ip
    assert updated["spec"]["ports"][0]["nodePort"] == node_port
    updated["spec"]["clusterIP"] = "10.96.0.77"
    updated["spec"]["clusterIPs"] = ["10.96.0.77"]
    with pytest.raises(StatusError) as info:
        c.api.update(updated)
    assert "spec.clusterIP: Invalid value: \"10.96.0.77\": field is immutable" in info.value.message


def test_changing_to_cluster_ip_type_releases_the_node_port():
    c = FakeCluster()
    created = c.api.create(svc("web", type="NodePort", ports=[{"port": 80, "nodePort": 30100}]))
    created["spec"]["type"] = "ClusterIP"
    updated = c.api.update(created)
    assert "nodePort" not in updated["spec"]["ports"][0]
    assert "externalTrafficPolicy" not in updated["spec"]
    c.api.create(svc("other", type="NodePort", ports=[{"port": 80, "nodePort": 30100}]))


@pytest.mark.parametrize("spec, expected", [
    ({"ports": [{"port": 0}]},
     "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"),
    ({"ports": []}, "spec.ports: Required value"),
    ({"ports": [{"port": 80, "name": "http"}, {"port": 81, "name": "http"}]},
     'spec.ports[1].name: Duplicate value: "http"'),
    ({"ports": [{"port": 80, "name": "a"}, {"port": 81}]}, "spec.ports[1].name: Required value"),
    ({"ports": [{"port": 80}], "type": "Balancer"},
     'spec.type: Unsupported value: "Balancer": supported values: "ClusterIP", "ExternalName", '
     '"LoadBalancer", "NodePort"'),
    ({"ports": [{"port": 80}], "selector": {"app": "bad value!"}},
     'spec.selector: Invalid value: "bad value!": a valid label must be an empty string'),
    ({"ports": [{"port": 80, "protocol": "HTTP"}]},
     'spec.ports[0].protocol: Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"'),
    ({"ports": [{"port": 80, "targetPort": "no_such"}]},
     'spec.ports[0].targetPort: Invalid value: "no_such": must contain only alpha-numeric'),
    ({"ports": [{"port": 80, "nodePort": 30001}]},
     "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"),
    ({"ports": [{"port": 80, "name": "a"}, {"port": 80, "name": "b"}]},
     'spec.ports[1]: Duplicate value: core.ServicePort{Name:"", Protocol:"TCP"'),
])
def test_validation_messages_use_upstream_paths(spec, expected):
    assert expected in invalid(FakeCluster(), svc("web", **spec))


def test_service_names_must_be_dns_1035_labels():
    message = invalid(FakeCluster(), svc("1web"))
    assert 'metadata.name: Invalid value: "1web": a DNS-1035 label must consist' in message


def test_refused_create_leaks_nothing():
    c = FakeCluster()
    invalid(c, svc("bad", type="NodePort", clusterIP="10.96.0.60",
                   ports=[{"port": 80, "nodePort": 30200, "protocol": "HTTP"}]))
    ok = c.api.create(svc("good", type="NodePort", clusterIP="10.96.0.60",
                          ports=[{"port": 80, "nodePort": 30200}]))
    assert ok["spec"]["clusterIP"] == "10.96.0.60"
