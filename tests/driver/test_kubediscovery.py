from __future__ import annotations

import pytest

from kclusterkit.driver.errors import ApiError
from kclusterkit.driver.kubediscovery import Discovery, UnknownKind

DOCS = {
    "/api/v1": {"resources": [
        {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod",
         "shortNames": ["po"]},
        {"name": "pods/log", "namespaced": True, "kind": "Pod"},
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event",
         "shortNames": ["ev"]},
    ]},
    "/apis": {"groups": [
        {"name": "apps", "preferredVersion": {"version": "v1"}, "versions": [{"version": "v1"}]},
        {"name": "events.k8s.io", "preferredVersion": {"version": "v1"},
         "versions": [{"version": "v1"}]},
    ]},
    "/apis/apps/v1": {"resources": [
        {"name": "deployments", "singularName": "deployment", "namespaced": True,
         "kind": "Deployment", "shortNames": ["deploy"]},
        {"name": "replicasets", "singularName": "replicaset", "namespaced": True,
         "kind": "ReplicaSet", "shortNames": ["rs"]},
    ]},
    "/apis/events.k8s.io/v1": {"resources": [
        {"name": "events", "singularName": "event", "namespaced": True, "kind": "Event"}]},
}


@pytest.fixture
def discovery():
    calls = []

    def get(path):
        calls.append(path)
        if path not in DOCS:
            raise ApiError(404, "NotFound", "not found")
        return DOCS[path]

    d = Discovery(get)
    d.calls = calls
    return d


def test_kubectl_names_resolve_core_first_and_are_cached(discovery):
    assert discovery.resolve("po").plural == "pods"
    assert discovery.calls == ["/api/v1"]  # no group list needed for a core kind
    assert discovery.resolve("events").group == ""
    rs = discovery.resolve("rs")
    assert (rs.group, rs.kind, rs.namespaced) == ("apps", "ReplicaSet", True)
    assert rs.path("ns1", "web", "scale") == "/apis/apps/v1/namespaces/ns1/replicasets/web/scale"
    assert discovery.resolve("events.events.k8s.io").group == "events.k8s.io"
    calls = len(discovery.calls)
    discovery.resolve("deployment")
    discovery.resolve("Deployment")
    assert len(discovery.calls) == calls


def test_unknown_names_and_kinds_are_reported_like_kubectl(discovery):
    with pytest.raises(UnknownKind, match='the server doesn\'t have a resource type "widgets"'):
        discovery.resolve("widgets")
    with pytest.raises(UnknownKind, match='no matches for kind "Widget" in version "apps/v1"'):
        discovery.for_kind("apps/v1", "Widget")
    assert discovery.for_kind("v1", "Pod").plural == "pods"
    assert discovery.resolve("pods").path("") == "/api/v1/pods"


def test_a_kind_added_since_is_found_after_one_fresh_look():
    docs = {k: dict(v) for k, v in DOCS.items()}
    calls = []

    def get(path):
        calls.append(path)
        if path not in docs:
            raise ApiError(404, "NotFound", "not found")
        return docs[path]

    d = Discovery(get)
    with pytest.raises(UnknownKind):
        d.for_kind("stable.example.com/v1", "CronTab")
    with pytest.raises(UnknownKind):
        d.resolve("crontabs")
    # A CRD is established: its group and resource appear in discovery.
    docs["/apis"] = {"groups": [*DOCS["/apis"]["groups"], {
        "name": "stable.example.com", "preferredVersion": {"version": "v1"},
        "versions": [{"version": "v1"}]}]}
    docs["/apis/stable.example.com/v1"] = {"resources": [
        {"name": "crontabs", "singularName": "crontab", "namespaced": True, "kind": "CronTab",
         "shortNames": ["ct"]}]}
    assert d.for_kind("stable.example.com/v1", "CronTab").plural == "crontabs"
    assert d.resolve("ct").kind == "CronTab"
    before = len(calls)
    assert d.resolve("ct").kind == "CronTab"  # cached again once found
    assert len(calls) == before
