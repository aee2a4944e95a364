from __future__ import annotations

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.resources import DEPLOYMENTS, PODS
from kclusterkit.sim.store import Store


@pytest.fixture()
def api() -> Api:
    a = Api(Clock(seed=3), Store())
    a.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return a


def deployment(name: str = "web", replicas: object = 3, image: str | None = "nginx:1.25") -> dict:
    container = {"name": "nginx", **({"image": image} if image else {})}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [container]},
            },
        },
    }


def test_deployment_gets_upstream_defaults(api: Api) -> None:
    d = api.create(deployment())
    assert d["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"},
    }
    assert d["spec"]["revisionHistoryLimit"] == 10
    assert d["spec"]["progressDeadlineSeconds"] == 600
    container = d["spec"]["template"]["spec"]["containers"][0]
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert d["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == 30
    assert d["metadata"]["generation"] == 1


def test_invalid_deployment_lists_every_field_with_upstream_wording(api: Api) -> None:
    bad = deployment(replicas=-1, image=None)
    bad["metadata"]["labels"] = {"app": "bad value!"}
    with pytest.raises(errors.StatusError) as exc:
        api.create(bad)
    err = exc.value
    assert err.code == 422 and err.reason == "Invalid"
    fields = [c["field"] for c in err.status["details"]["causes"]]
    assert fields == ["metadata.labels", "spec.replicas", "spec.template.spec.containers[0].image"]
    assert "spec.replicas: Invalid value: -1: must be greater than or equal to 0" in err.message
    assert err.message.startswith('Deployment.apps "web" is invalid: [')


def test_selector_must_match_template(api: Api) -> None:
    bad = deployment()
    bad["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    with pytest.raises(errors.StatusError) as exc:
        api.create(bad)
    assert "`selector` does not match template `labels`" in exc.value.message


def test_spec_change_bumps_generation_status_change_does_not(api: Api) -> None:
    d = api.create(deployment())
    d["spec"]["replicas"] = 5
    d = api.update(d)
    assert d["metadata"]["generation"] == 2
    d["status"] = {"replicas": 5}
    d = api.update(d, subresource="status")
    assert d["metadata"]["generation"] == 2 and d["status"] == {"replicas": 5}
    d["status"] = {"replicas": 99}
    d = api.update(d)
    assert d["status"] == {"replicas": 5}, "the main resource ignores status"


def test_stale_update_conflicts(api: Api) -> None:
    d = api.create(deployment())
    api.update(dict(d, spec=dict(d["spec"], replicas=4)))
    with pytest.raises(errors.StatusError) as exc:
        api.update(dict(d, spec=dict(d["spec"], replicas=5)))
    assert exc.value.reason == "Conflict"


def test_generate_name_is_seeded(api: Api) -> None:
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "web-"},
        "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]},
    }
    first = api.create(pod)["metadata"]["name"]
    other = Api(Clock(seed=3), Store())
    other.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    assert other.create(pod)["metadata"]["name"] == first
    assert first.startswith("web-") and len(first) == len("web-") + 5


def test_pod_defaults_include_default_tolerations(api: Api) -> None:
    pod = api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
    )
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Always"
    keys = {(t["key"], t["tolerationSeconds"]) for t in pod["spec"]["tolerations"]}
    assert keys == {("node.kubernetes.io/not-ready", 300), ("node.kubernetes.io/unreachable", 300)}
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_bound_pod_deletion_is_graceful(api: Api) -> None:
    pod = api.create(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {"nodeName": "worker-1", "containers": [{"name": "c", "image": "nginx:1.25"}]},
        }
    )
    kept = api.delete(PODS, "default", "p")
    assert kept["metadata"]["deletionGracePeriodSeconds"] == 30
    assert kept["metadata"]["deletionTimestamp"] == "2026-01-01T00:00:30Z"
    api.finish_delete(PODS, "default", "p")
    assert api.store.get(PODS, "default", pod["metadata"]["name"]) is None


def test_unknown_namespace_is_not_found(api: Api) -> None:
    with pytest.raises(errors.StatusError) as exc:
        api.create(deployment(), namespace="nope")
    assert exc.value.code == 404 and 'namespaces "nope" not found' in exc.value.message


def test_scale_subresource(api: Api) -> None:
    api.create(deployment())
    scale = api.update_scale(DEPLOYMENTS, "default", "web", 7)
    assert scale["spec"]["replicas"] == 7
    assert scale["status"]["selector"] == "app=web"
    with pytest.raises(errors.StatusError):
        api.update_scale(DEPLOYMENTS, "default", "web", -1)


def test_scale_selector_is_sorted_by_key_as_labels_selector_string_is(api: Api) -> None:
    obj = deployment("multi")
    labels = {"tier": "front", "app": "multi"}
    obj["spec"]["selector"] = {"matchLabels": dict(labels), "matchExpressions": [
        {"key": "env", "operator": "In", "values": ["prod", "dev"]}]}
    obj["spec"]["template"]["metadata"]["labels"] = {**labels, "env": "dev"}
    api.create(obj)
    scale = api.get_scale(DEPLOYMENTS, "default", "multi")
    assert scale["status"]["selector"] == "app=multi,env in (dev,prod),tier=front"


def pod_object(name: str = "p") -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]}}


def test_binding_sets_the_node_once_with_pod_scheduled(api: Api) -> None:
    api.create(pod_object())
    bound = api.bind("default", "p", "worker-1")
    assert bound["spec"]["nodeName"] == "worker-1"
    assert [c["type"] for c in bound["status"]["conditions"]] == ["PodScheduled"]
    with pytest.raises(errors.StatusError) as again:
        api.bind("default", "p", "worker-2")
    # BindingREST.assignPod: a Conflict on pods/binding, saying where the pod already is.
    assert again.value.code == 409
    assert again.value.message == ('Operation cannot be fulfilled on pods/binding "p": '
                                   'pod p is already assigned to node "worker-1"')
    with pytest.raises(errors.StatusError) as no_target:
        api.bind("default", "p", "")
    assert no_target.value.code == 422
    with pytest.raises(errors.StatusError) as missing:
        api.bind("default", "nope", "worker-1")
    assert missing.value.code == 404


def test_a_pod_being_deleted_cannot_be_bound(api: Api) -> None:
    pod = pod_object("going")
    pod["metadata"]["finalizers"] = ["example.com/hold"]
    api.create(pod)
    api.delete(PODS, "default", "going")
    with pytest.raises(errors.StatusError) as err:
        api.bind("default", "going", "worker-1")
    assert err.value.message.endswith("pod going is being deleted, cannot be assigned to a host")


def test_scale_refuses_a_stale_resource_version(api: Api) -> None:
    api.create(deployment())
    scale = api.get_scale(DEPLOYMENTS, "default", "web")
    api.update_scale(DEPLOYMENTS, "default", "web", 4, scale["metadata"]["resourceVersion"])
    with pytest.raises(errors.StatusError) as err:
        api.update_scale(DEPLOYMENTS, "default", "web", 5, scale["metadata"]["resourceVersion"])
    assert err.value.code == 409
    assert api.get_scale(DEPLOYMENTS, "default", "web")["spec"]["replicas"] == 4
    dry = api.update_scale(DEPLOYMENTS, "default", "web", 9, dry_run=True)
    assert dry["spec"]["replicas"] == 9
    assert api.get_scale(DEPLOYMENTS, "default", "web")["spec"]["replicas"] == 4
