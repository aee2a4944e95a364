from __future__ import annotations

from collections import Counter

from netfakes import NODE_IPS, FakeCluster

from kclusterkit.sim.network.proxy import (
    CONNECTION_REFUSED,
    CONNECTION_TIMED_OUT,
    COULD_NOT_RESOLVE,
    parse_url,
)
from kclusterkit.sim.resources import PODS, SERVICES


def echo(seed: int = 0, ready: tuple[bool, ...] = (True, True, True), **spec) -> FakeCluster:
    c = FakeCluster(seed=seed)
    c.service("echo", **spec)
    for i, is_ready in enumerate(ready):
        c.pod(f"echo-{i}", f"10.244.{i + 1}.5", ready=is_ready, app="echo",
              node=("worker-1", "worker-2")[i % 2])
    c.pod("client", "10.244.1.100", app="client")
    return c


def client(c: FakeCluster) -> dict:
    return c.store.get(PODS, "default", "client")


def answers(c: FakeCluster, url: str, n: int, from_pod: dict | None = None) -> list[str | None]:
    sender = client(c) if from_pod is None else from_pod
    return [c.network.http_request(sender, url).pod for _ in range(n)]


def test_requests_spread_uniformly_over_ready_endpoints():
    c = echo()
    tally = Counter(answers(c, "http://echo", 300))
    assert set(tally) == {"echo-0", "echo-1", "echo-2"}
    assert all(60 <= n <= 140 for n in tally.values()), tally


def test_same_seed_same_sequence():
    assert answers(echo(seed=5), "http://echo", 50) == answers(echo(seed=5), "http://echo", 50)
    assert answers(echo(seed=5), "http://echo", 50) != answers(echo(seed=6), "http://echo", 50)


def test_a_pod_that_is_not_ready_gets_nothing():
    c = echo(ready=(True, False, True))
    tally = Counter(answers(c, "http://echo.default.svc.cluster.local", 200))
    assert tally["echo-1"] == 0 and tally["echo-0"] > 0 and tally["echo-2"] > 0
    c.set_pod("echo-0", "10.244.1.5", ready=False)
    assert set(answers(c, "http://echo", 30)) == {"echo-2"}


def test_service_port_maps_to_the_target_port():
    c = echo()
    c.network.http_request(client(c), "http://echo:80/hostname?x=1")
    assert c.nodes.calls[-1][2:] == (8080, "/hostname?x=1")
    result = c.network.http_request(client(c), "http://echo/hostname")
    assert result.status == 200 and result.error is None and result.body == result.pod


def test_failures_are_worded_like_curl():
    c = echo(ready=(False, False))
    assert c.network.http_request(client(c), "http://echo").error == CONNECTION_REFUSED
    assert c.network.http_request(client(c), "http://nope").error == COULD_NOT_RESOLVE
    ip = c.network.resolve(client(c), "echo")[0]
    # A cluster IP port no rule matches: dropped.
    assert c.network.http_request(client(c), f"http://{ip}:81").error == CONNECTION_TIMED_OUT


def test_pod_ip_is_reached_directly_and_a_closed_port_refuses():
    c = echo()
    assert c.network.http_request(client(c), "http://10.244.2.5:8080").pod == "echo-1"
    assert c.network.http_request(client(c), "http://10.244.2.5:9999").error == \
        CONNECTION_REFUSED


def test_node_port_answers_on_every_node_from_outside():
    c = echo(type="NodePort")
    node_port = c.store.get(SERVICES, "default", "echo")["spec"]["ports"][0]["nodePort"]
    for ip in NODE_IPS.values():
        result = c.network.http_request(None, f"http://{ip}:{node_port}/")
        assert result.status == 200 and result.pod and result.pod.startswith("echo-"), result
    assert c.network.http_request(None, f"http://{NODE_IPS['worker-1']}:30999").error == \
        CONNECTION_REFUSED


def test_external_traffic_policy_local_only_uses_the_nodes_own_endpoints():
    c = echo(type="NodePort", externalTrafficPolicy="Local", ready=(True,))
    node_port = c.store.get(SERVICES, "default", "echo")["spec"]["ports"][0]["nodePort"]
    assert c.network.http_request(None, f"http://{NODE_IPS['worker-1']}:{node_port}").pod == \
        "echo-0"
    assert c.network.http_request(None, f"http://{NODE_IPS['worker-2']}:{node_port}").error == \
        CONNECTION_TIMED_OUT


def test_failed_node_times_out_while_its_pods_are_still_listed_ready():
    c = echo()
    c.nodes.failed.add("worker-2")  # echo-1 runs there
    results = [c.network.http_request(client(c), "http://echo") for _ in range(60)]
    errors = Counter(r.error for r in results)
    assert errors[CONNECTION_TIMED_OUT] > 0 and errors[None] > 0
    assert all(r.pod != "echo-1" for r in results)


def test_client_ip_affinity_pins_each_client_to_one_pod():
    c = echo(sessionAffinity="ClientIP")
    pinned = []
    for i in range(6):
        sender = c.pod(f"client-{i}", f"10.244.3.{i + 10}", app="client")
        seen = set(answers(c, "http://echo", 10, from_pod=sender))
        assert len(seen) == 1
        pinned += seen
    assert len(set(pinned)) > 1  # different clients, different pods


def test_pods_reach_the_api_server_through_the_kubernetes_service():
    c = echo()
    result = c.network.http_request(client(c), "https://kubernetes.default/healthz")
    assert (result.status, result.body, result.pod) == (200, "ok", None)
    assert c.network.http_request(client(c), "https://10.96.0.1/").status == 403


def test_parse_url_defaults():
    assert parse_url("web") == ("http", "web", 80, "/")
    assert parse_url("https://web.ns:8443/a?b=c") == ("https", "web.ns", 8443, "/a?b=c")
