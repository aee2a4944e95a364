"""Pod admission: defaults, validation wording, update immutability, graceful deletion."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.kinds.pods import canonical_quantity, image_pull_policy
from kclusterkit.sim.resources import PODS
from kclusterkit.sim.store import Store


@pytest.fixture()
def api() -> Api:
    a = Api(Clock(seed=3), Store())
    a.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return a


def pod(name: str = "p", **container: Any) -> dict[str, Any]:
    c = {"name": "app", "image": "nginx:1.25", **container}
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [c]}}


def invalid_message(api: Api, obj: dict[str, Any]) -> str:
    with pytest.raises(errors.StatusError) as exc:
        api.create(obj)
    assert exc.value.reason == "Invalid"
    return exc.value.message


def test_a_minimal_pod_gets_upstream_defaults(api: Api) -> None:
    # pkg/apis/core/v1/defaults.go SetDefaults_Pod/PodSpec/Container; ServiceAccount,
    # Priority and DefaultTolerationSeconds admission; pod strategy PrepareForCreate.
    p = api.create(pod())
    spec = p["spec"]
    assert spec["containers"] == [
        {
            "name": "app",
            "image": "nginx:1.25",
            "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "resources": {},
        }
    ]
    expected = {
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
        "enableServiceLinks": True,
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    assert {k: spec[k] for k in expected} == expected
    assert spec["tolerations"] == [
        {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
        {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
         "tolerationSeconds": 300},
    ]
    assert p["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


def test_a_toleration_with_empty_key_or_effect_covers_the_default_ones(api: Api) -> None:
    # defaulttolerationseconds/admission.go: empty key or empty effect already tolerates.
    body = pod()
    body["spec"]["tolerations"] = [{"operator": "Exists"}]
    assert api.create(body)["spec"]["tolerations"] == [{"operator": "Exists"}]


def test_image_pull_policy_follows_the_latest_tag() -> None:
    # SetDefaults_Container: tag "latest" (also implied by no tag and no digest) -> Always.
    assert image_pull_policy("nginx") == "Always"
    assert image_pull_policy("nginx:latest") == "Always"
    assert image_pull_policy("localhost:5000/nginx") == "Always"
    assert image_pull_policy("localhost:5000/nginx:1.25") == "IfNotPresent"
    assert image_pull_policy("nginx@sha256:abc") == "IfNotPresent"
    assert image_pull_policy("nginx:latest@sha256:abc") == "Always"


def test_requests_default_to_limits_on_pods_only(api: Api) -> None:
    # SetDefaults_Pod (not PodTemplate) copies limits into missing requests.
    p = api.create(pod(resources={"limits": {"cpu": "500m", "memory": "64Mi"}}))
    assert p["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "500m", "memory": "64Mi"}
    assert p["status"]["qosClass"] == "Guaranteed"
    d = api.create(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "web"},
            "spec": {
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "nginx",
                                             "resources": {"limits": {"cpu": "1"}}}]},
                },
            },
        }
    )
    template = d["spec"]["template"]["spec"]
    assert template["containers"][0]["resources"] == {"limits": {"cpu": "1"}}
    assert "enableServiceLinks" not in template


def test_container_validation_wording(api: Api) -> None:
    # pkg/apis/core/validation/validation.go validateContainerCommon/validateContainerPorts.
    body = pod(ports=[{"containerPort": 70000}])
    del body["spec"]["containers"][0]["image"]
    assert invalid_message(api, body) == (
        'Pod "p" is invalid: [spec.containers[0].image: Required value, '
        "spec.containers[0].ports[0].containerPort: Invalid value: 70000: "
        "must be between 1 and 65535, inclusive]"
    )
    assert invalid_message(api, pod(image=" nginx")) == (
        'Pod "p" is invalid: spec.containers[0].image: Invalid value: " nginx": '
        "must not have leading or trailing whitespace"
    )


def test_duplicate_container_ports_are_accepted(api: Api) -> None:
    # Upstream only warns about duplicate containerPort definitions.
    api.create(pod(ports=[{"containerPort": 80}, {"containerPort": 80}]))


def test_requests_above_limits_use_canonical_quantities(api: Api) -> None:
    # ValidateResourceRequirements: field.Invalid(reqPath, quantity.String(), "must be less
    # than or equal to %s limit of %s").
    body = pod(resources={"requests": {"cpu": "1.5"}, "limits": {"cpu": "1000m"}})
    assert invalid_message(api, body) == (
        'Pod "p" is invalid: spec.containers[0].resources.requests: Invalid value: "1500m": '
        "must be less than or equal to cpu limit of 1"
    )
    assert canonical_quantity("0.5") == "500m"
    assert canonical_quantity("1024Mi") == "1Gi"
    assert canonical_quantity("2000M") == "2G"
    assert canonical_quantity("100Ki") == "100Ki"


def test_pod_spec_updates_are_forbidden_but_images(api: Api) -> None:
    # ValidatePodUpdate (field path "spec"); upstream also appends a diff we leave out.
    p = api.create(pod())
    p["spec"]["containers"][0]["image"] = "nginx:1.26"
    p = api.update(p)
    p["spec"]["containers"][0]["ports"] = [{"containerPort": 80}]
    with pytest.raises(errors.StatusError) as exc:
        api.update(p)
    assert exc.value.message == (
        'Pod "p" is invalid: spec: Forbidden: pod updates may not change fields other than '
        "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,"
        "`spec.tolerations` (only additions to existing tolerations),"
        "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously "
        "negative)"
    )


def _bound(api: Api, name: str = "p") -> dict[str, Any]:
    body = pod(name)
    body["spec"]["nodeName"] = "node-1"
    return api.create(body)


def test_unscheduled_and_terminated_pods_are_deleted_at_once(api: Api) -> None:
    # pkg/registry/core/pod/strategy.go CheckGracefulDelete.
    api.create(pod("unscheduled"))
    assert api.delete(PODS, "default", "unscheduled")["kind"] == "Status"
    done = _bound(api, "done")
    done["status"]["phase"] = "Succeeded"
    api.update(done, subresource="status")
    assert api.delete(PODS, "default", "done")["kind"] == "Status"
    assert api.store.get(PODS, "default", "done") is None


def test_bound_pods_terminate_for_their_grace_period(api: Api) -> None:
    # rest.BeforeDelete: deletionTimestamp = now + grace; a longer period later is ignored,
    # a shorter one moves the deadline; 0 removes the pod.
    _bound(api)
    start = api.clock.now
    kept = api.delete(PODS, "default", "p")
    assert kept["metadata"]["deletionGracePeriodSeconds"] == 30
    assert api.clock.seconds_of(kept["metadata"]["deletionTimestamp"]) == start + 30
    again = api.delete(PODS, "default", "p", grace_period=60)
    assert again["metadata"]["deletionGracePeriodSeconds"] == 30
    shorter = api.delete(PODS, "default", "p", grace_period=10)
    assert shorter["metadata"]["deletionGracePeriodSeconds"] == 10
    assert api.clock.seconds_of(shorter["metadata"]["deletionTimestamp"]) == start + 10
    assert api.delete(PODS, "default", "p", grace_period=0)["kind"] == "Status"


def test_zero_grace_deletes_now_and_negative_grace_becomes_one(api: Api) -> None:
    _bound(api, "a")
    assert api.delete(PODS, "default", "a", grace_period=0)["kind"] == "Status"
    _bound(api, "b")
    kept = api.delete(PODS, "default", "b", grace_period=-5)
    assert kept["metadata"]["deletionGracePeriodSeconds"] == 1


def test_a_status_write_without_observed_generation_keeps_the_stored_one(api: Api) -> None:
    api.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "og"},
                "spec": {"containers": [{"name": "a", "image": "nginx"}]}}, "default")
    pod = api.get(PODS, "default", "og")
    pod["status"] = {"observedGeneration": 1, "phase": "Pending",
                     "conditions": [{"type": "PodScheduled", "observedGeneration": 1,
                                     "status": "True"}]}
    pod = api.update(pod, subresource="status")
    # A client that does not know the field writes the status back without it.
    pod["status"] = {"phase": "Running",
                     "conditions": [{"type": "PodScheduled", "status": "True"},
                                    {"type": "Ready", "status": "True"}]}
    status = api.update(pod, subresource="status")["status"]
    assert status["observedGeneration"] == 1
    assert status["conditions"][0] == {"type": "PodScheduled", "observedGeneration": 1,
                                       "status": "True"}
    assert "observedGeneration" not in status["conditions"][1]
