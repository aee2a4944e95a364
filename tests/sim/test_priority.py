"""PriorityClasses and the Priority admission plugin on pod create."""

from __future__ import annotations

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.cluster import Cluster, ClusterSpec


@pytest.fixture
def cluster() -> Cluster:
    return Cluster(ClusterSpec(worker_nodes=1), seed=1)


def pc(name: str, value: int, **extra: object) -> dict:
    return {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
            "metadata": {"name": name}, "value": value, **extra}


def pod(name: str, **spec: object) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
            "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}], **spec}}


def test_a_class_gives_the_pod_its_priority_and_policy(cluster: Cluster) -> None:
    cluster.api.create(pc("high", 1000, preemptionPolicy="Never"))
    made = cluster.api.create(pod("p", priorityClassName="high"))
    assert (made["spec"]["priority"], made["spec"]["preemptionPolicy"]) == (1000, "Never")
    plain = cluster.api.create(pod("q"))
    assert (plain["spec"]["priority"], plain["spec"]["preemptionPolicy"]) == \
        (0, "PreemptLowerPriority")
    critical = cluster.api.create(pod("r", priorityClassName="system-node-critical"))
    assert critical["spec"]["priority"] == 2000001000


def test_unknown_class_and_given_priority_are_forbidden(cluster: Cluster) -> None:
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(pod("p", priorityClassName="nope"))
    assert (exc.value.code, exc.value.message) == (
        403, 'pods "p" is forbidden: no PriorityClass with name nope was found')
    cluster.api.create(pc("high", 1000))
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(pod("p", priorityClassName="high", priority=5))
    assert "the integer value of priority (5) must not be provided in pod spec; priority " \
           "admission controller computed 1000 from the given PriorityClass name" \
        in exc.value.message


def test_global_default_applies_and_only_one_may_exist(cluster: Cluster) -> None:
    cluster.api.create(pc("normal", 100, globalDefault=True))
    made = cluster.api.create(pod("p"))
    assert (made["spec"]["priority"], made["spec"]["priorityClassName"]) == (100, "normal")
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(pc("other", 5, globalDefault=True))
    assert "PriorityClass normal is marked as default. Only one default can exist" \
        in exc.value.message


def test_user_classes_are_bounded_and_system_names_reserved(cluster: Cluster) -> None:
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(pc("huge", 2_000_000_000))
    assert "value: Forbidden: maximum allowed value of a user defined priority is " \
           "1000000000" in exc.value.message
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.create(pc("system-mine", 10))
    assert "priority class names with 'system-' prefix are reserved for system use only" \
        in exc.value.message
    made = cluster.api.create(pc("fixed", 10))
    made["value"] = 11
    with pytest.raises(errors.StatusError) as exc:
        cluster.api.update(made)
    assert "Value: Forbidden: may not be changed in an update." in exc.value.message

