from __future__ import annotations

from netfakes import FakeCluster

from kclusterkit.sim.resources import SERVICES


def test_service_environment_matches_the_kubelets():
    c = FakeCluster()
    c.service("web-app", ns="web", ports=[{"name": "http", "port": 80, "targetPort": 8080},
                                          {"name": "metrics", "port": 9090, "protocol": "UDP"}])
    c.service("db", ns="web", clusterIP="None", ports=[{"port": 5432}])
    c.service("other", ns="default")
    ip = c.store.get(SERVICES, "web", "web-app")["spec"]["clusterIP"]
    env = c.network.service_env("web")
    expected = {
        "WEB_APP_SERVICE_HOST": ip,
        "WEB_APP_SERVICE_PORT": "80",
        "WEB_APP_SERVICE_PORT_HTTP": "80",
        "WEB_APP_SERVICE_PORT_METRICS": "9090",
        "WEB_APP_PORT": f"tcp://{ip}:80",
        "WEB_APP_PORT_80_TCP": f"tcp://{ip}:80",
        "WEB_APP_PORT_80_TCP_PROTO": "tcp",
        "WEB_APP_PORT_80_TCP_PORT": "80",
        "WEB_APP_PORT_80_TCP_ADDR": ip,
        "WEB_APP_PORT_9090_UDP": f"udp://{ip}:9090",
        "WEB_APP_PORT_9090_UDP_PROTO": "udp",
        "WEB_APP_PORT_9090_UDP_PORT": "9090",
        "WEB_APP_PORT_9090_UDP_ADDR": ip,
        "KUBERNETES_SERVICE_HOST": "10.96.0.1",
        "KUBERNETES_SERVICE_PORT": "443",
        "KUBERNETES_SERVICE_PORT_HTTPS": "443",
        "KUBERNETES_PORT": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP": "tcp://10.96.0.1:443",
        "KUBERNETES_PORT_443_TCP_PROTO": "tcp",
        "KUBERNETES_PORT_443_TCP_PORT": "443",
        "KUBERNETES_PORT_443_TCP_ADDR": "10.96.0.1",
    }
    assert env == expected  # no headless db, nothing from other namespaces


def test_service_links_off_keeps_only_the_kubernetes_service():
    c = FakeCluster()
    c.service("web", ns="web")
    env = c.network.service_env("web", enable_service_links=False)
    assert env["KUBERNETES_SERVICE_HOST"] == "10.96.0.1"
    assert not any(k.startswith("WEB_") for k in env)


def test_names_starting_with_a_digit_get_an_underscore():
    from kclusterkit.sim.network.envvars import _env_name

    assert _env_name("3d-render.v2") == "_3D_RENDER_V2"
