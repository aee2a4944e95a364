"""CustomResourceDefinitions in a simulated cluster: admission, the controllers that
establish and finalize them, and the custom objects they serve."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kclusterkit.errors import ApiError
from kclusterkit.sim import patch as patching
from kclusterkit.sim.apiextensions.apiservices import APISERVICES
from kclusterkit.sim.apiextensions.crd import CLEANUP_FINALIZER, CRDS
from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.resources import NAMESPACES

NAME = "crontabs.stable.example.com"
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": NAME},
    "spec": {
        "group": "stable.example.com", "scope": "Namespaced",
        "names": {"plural": "crontabs", "kind": "CronTab", "shortNames": ["ct"],
                  "categories": ["all"]},
        "versions": [{
            "name": "v1", "served": True, "storage": True,
            "subresources": {"status": {}, "scale": {
                "specReplicasPath": ".spec.replicas", "statusReplicasPath": ".status.replicas",
                "labelSelectorPath": ".status.selector"}},
            "schema": {"openAPIV3Schema": {"type": "object", "properties": {
                "spec": {"type": "object", "properties": {
                    "cronSpec": {"type": "string"},
                    "image": {"type": "string", "default": "busybox"},
                    "replicas": {"type": "integer", "minimum": 0}}},
                "status": {"type": "object", "properties": {
                    "replicas": {"type": "integer"}, "selector": {"type": "string"},
                    "phase": {"type": "string"}}}}}},
        }],
    },
}


def crontab(name: str = "x", **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "stable.example.com/v1", "kind": "CronTab",
            "metadata": {"name": name, "namespace": "default"},
            "spec": {"cronSpec": "* * * * */5", **spec}}


@pytest.fixture()
def cluster() -> Cluster:
    made = Cluster(seed=3)
    made.api.create(copy.deepcopy(CRD))
    made.advance(1)
    return made


def refusal(cluster: Cluster, obj: dict[str, Any]) -> ApiError:
    with pytest.raises(ApiError) as caught:
        cluster.api.create(obj)
    return caught.value


def test_a_created_crd_is_named_accepted_and_established(cluster: Cluster) -> None:
    crd = cluster.api.get(CRDS, "", NAME)
    status = crd["status"]
    assert status["acceptedNames"] == {"plural": "crontabs", "singular": "crontab",
                                       "shortNames": ["ct"], "kind": "CronTab",
                                       "listKind": "CronTabList", "categories": ["all"]}
    assert status["storedVersions"] == ["v1"]
    conditions = {c["type"]: (c["status"], c["reason"], c["message"])
                  for c in status["conditions"]}
    assert conditions == {
        "NamesAccepted": ("True", "NoConflicts", "no conflicts found"),
        "Established": ("True", "InitialNamesAccepted", "the initial names have been accepted")}
    assert crd["spec"]["conversion"] == {"strategy": "None"}
    assert crd["spec"]["names"]["singular"] == "crontab"  # defaulted from the kind


def test_crd_validation_uses_upstreams_paths_and_words() -> None:
    cluster = Cluster(seed=1)
    bad = copy.deepcopy(CRD)
    bad["metadata"]["name"] = "crontab.stable.example.com"
    bad["spec"]["group"] = "example"
    bad["spec"]["scope"] = "Global"
    bad["spec"]["versions"][0]["storage"] = False
    del bad["spec"]["versions"][0]["schema"]
    exc = refusal(cluster, bad)
    assert exc.code == 422
    fields = {c["field"]: c["message"] for c in exc.details["causes"]}
    assert fields["metadata.name"] == ('Invalid value: "crontab.stable.example.com": must be '
                                       'spec.names.plural+"."+spec.group')
    assert fields["spec.group"] == ('Invalid value: "example": should be a domain with at least '
                                    "one dot")
    assert fields["spec.scope"] == ('Unsupported value: "Global": supported values: "Cluster", '
                                    '"Namespaced"')
    assert fields["spec.versions[0].schema.openAPIV3Schema"] == \
        "Required value: schemas are required"
    assert fields["spec.versions"].startswith(
        "Invalid value: []apiextensions.CustomResourceDefinitionVersion{apiextensions."
        'CustomResourceDefinitionVersion{Name:"v1", Served:true, Storage:false')
    assert fields["spec.versions"].endswith(
        ": must have exactly one version marked as storage version")
    assert str(exc).startswith('CustomResourceDefinition.apiextensions.k8s.io '
                               '"crontab.stable.example.com" is invalid: [')


def test_group_and_plural_never_change(cluster: Cluster) -> None:
    crd = cluster.api.get(CRDS, "", NAME)
    crd["spec"]["scope"] = "Cluster"
    with pytest.raises(ApiError) as caught:
        cluster.api.update(crd)
    assert ("spec.scope", 'Invalid value: "Cluster": field is immutable') in [
        (c["field"], c["message"]) for c in caught.value.details["causes"]]


def test_a_name_another_crd_of_the_group_holds_is_not_accepted(cluster: Cluster) -> None:
    other = copy.deepcopy(CRD)
    other["metadata"]["name"] = "crontabs2.stable.example.com"
    other["spec"]["names"] = {"plural": "crontabs2", "kind": "CronTab", "shortNames": ["ct"]}
    cluster.api.create(other)
    cluster.advance(1)
    crd = cluster.api.get(CRDS, "", "crontabs2.stable.example.com")
    conditions = {c["type"]: c for c in crd["status"]["conditions"]}
    # Each name is checked in turn (plural, singular, short names, kind, listKind): the
    # last conflict found gives the reason.
    assert (conditions["NamesAccepted"]["status"], conditions["NamesAccepted"]["reason"],
            conditions["NamesAccepted"]["message"]) == ("False", "ListKindConflict",
                                                        '"CronTabList" is already in use')
    assert (conditions["Established"]["status"], conditions["Established"]["reason"]) == (
        "False", "NotAccepted")
    assert crd["status"]["acceptedNames"]["plural"] == "crontabs2"
    assert "kind" in crd["status"]["acceptedNames"] and \
        crd["status"]["acceptedNames"]["kind"] == ""
    assert "shortNames" not in crd["status"]["acceptedNames"]  # "ct" is taken
    assert cluster.api.custom.for_path("stable.example.com", "v1", "crontabs2") is None


def test_custom_objects_are_defaulted_pruned_and_validated(cluster: Cluster) -> None:
    made = cluster.api.create({**crontab(colour="blue"), "status": {"phase": "made-up"}})
    assert made["spec"] == {"cronSpec": "* * * * */5", "image": "busybox"}
    assert "status" not in made  # the status subresource's: not set on create
    assert made["metadata"]["generation"] == 1
    exc = refusal(cluster, crontab("y", replicas="string"))
    assert (exc.code, exc.reason) == (422, "Invalid")
    assert str(exc) == (
        'CronTab.stable.example.com "y" is invalid: [spec.replicas: Invalid value: "string": '
        'spec.replicas in body must be of type integer: "string", spec.replicas: Invalid '
        'value: 0: .spec.replicas accessor error: string is of the type string, expected '
        'int64]')
    assert exc.details["causes"][0] == {
        "reason": "FieldValueTypeInvalid", "field": "spec.replicas",
        "message": 'Invalid value: "string": spec.replicas in body must be of type integer: '
                   '"string"'}


def test_status_and_spec_are_written_apart(cluster: Cluster) -> None:
    res = cluster.api.resource_of(crontab())
    cluster.api.create(crontab(replicas=1))
    cluster.api.patch(res, "default", "x", {"spec": {"replicas": 5}, "status": {"phase": "A"},
                                            "metadata": {"labels": {"a": "b"}}},
                      patching.MERGE_PATCH, subresource="status")
    got = cluster.api.get(res, "default", "x")
    assert got["status"] == {"phase": "A"} and got["spec"]["replicas"] == 1
    assert "labels" not in got["metadata"]  # status_strategy.go keeps the old metadata
    cluster.api.patch(res, "default", "x", {"spec": {"replicas": 2}, "status": {"phase": "B"}},
                      patching.MERGE_PATCH)
    got = cluster.api.get(res, "default", "x")
    assert got["status"] == {"phase": "A"} and got["spec"]["replicas"] == 2
    assert got["metadata"]["generation"] == 2
    with pytest.raises(ApiError) as caught:
        cluster.api.patch(res, "default", "x", {"spec": {"replicas": 3}},
                          patching.STRATEGIC_MERGE_PATCH)
    assert (caught.value.code, caught.value.reason) == (415, "UnsupportedMediaType")
    assert str(caught.value) == (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/apply-patch+yaml, application/json-patch+json, "
        "application/merge-patch+json")


def test_the_scale_subresource_follows_the_declared_paths(cluster: Cluster) -> None:
    res = cluster.api.resource_of(crontab())
    cluster.api.create(crontab(replicas=1))
    obj = cluster.api.get(res, "default", "x")
    cluster.api.update({**obj, "status": {"replicas": 1, "selector": "app=x"}},
                       subresource="status")
    scale = cluster.api.update_scale(res, "default", "x", 4)
    assert scale["spec"] == {"replicas": 4}
    assert scale["status"] == {"replicas": 1, "selector": "app=x"}
    assert cluster.api.get(res, "default", "x")["spec"]["replicas"] == 4


def test_deleting_the_crd_deletes_its_objects_then_the_api(cluster: Cluster) -> None:
    res = cluster.api.resource_of(crontab())
    cluster.api.create(crontab("a"))
    cluster.api.create(crontab("b"))
    pending = cluster.api.delete(CRDS, "", NAME)
    assert pending["metadata"]["finalizers"] == [CLEANUP_FINALIZER]
    terminating = {c["type"]: c for c in pending["status"]["conditions"]}["Terminating"]
    assert (terminating["status"], terminating["reason"]) == ("True", "InstanceDeletionPending")
    cluster.advance(1)
    assert cluster.store.get(CRDS, "", NAME) is None
    assert cluster.store.count(res) == 0
    assert cluster.api.custom.resources() == []
    with pytest.raises(ApiError) as caught:
        cluster.api.create(crontab("c"))
    assert caught.value.code == 404


def test_a_terminating_crd_refuses_new_objects(cluster: Cluster) -> None:
    res = cluster.api.resource_of(crontab())
    cluster.api.create({**crontab("held"), "metadata": {
        "name": "held", "namespace": "default", "finalizers": ["example.com/hold"]}})
    cluster.api.delete(CRDS, "", NAME)
    cluster.advance(1)
    crd = cluster.api.get(CRDS, "", NAME)  # waits for the held object
    terminating = {c["type"]: c for c in crd["status"]["conditions"]}["Terminating"]
    assert terminating["reason"] == "InstanceDeletionInProgress"
    exc = refusal(cluster, crontab("new"))
    assert (exc.code, str(exc)) == (
        405, 'create is not supported on resources of kind "crontabs.stable.example.com"')
    held = cluster.api.get(res, "default", "held")
    cluster.api.update({**held, "metadata": {**held["metadata"], "finalizers": []}})
    cluster.advance(10)
    assert cluster.store.get(CRDS, "", NAME) is None


def test_a_deleted_namespace_takes_its_custom_objects(cluster: Cluster) -> None:
    cluster.api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team"}})
    obj = crontab("t")
    obj["metadata"]["namespace"] = "team"
    cluster.api.create(obj)
    cluster.api.delete(NAMESPACES, "", "team")
    cluster.advance(30)
    assert cluster.store.get(NAMESPACES, "", "team") is None
    assert cluster.store.count(cluster.api.resource_of(obj)) == 0


def test_apiservices_list_the_local_groups_and_follow_crds(cluster: Cluster) -> None:
    names = {o["metadata"]["name"]: o for o in cluster.store.iter(APISERVICES)}
    assert {"v1.", "v1.apps", "v2.autoscaling", "v1.apiextensions.k8s.io",
            "v1beta1.metrics.k8s.io", "v1.stable.example.com"} <= set(names)
    local = names["v1.apps"]
    assert "service" not in local["spec"]
    assert [(c["type"], c["status"], c["reason"]) for c in local["status"]["conditions"]] == [
        ("Available", "True", "Local")]
    assert names["v1.stable.example.com"]["spec"]["groupPriorityMinimum"] == 1000
    cluster.api.delete(CRDS, "", NAME)
    cluster.advance(5)
    assert cluster.store.get(APISERVICES, "", "v1.stable.example.com") is None


def test_objects_owned_by_a_custom_object_are_collected_with_it(cluster: Cluster) -> None:
    # The operator pattern: what a controller creates for a custom object is owned by it.
    res = cluster.api.resource_of(crontab())
    owner = cluster.api.create(crontab("op"))
    ref = {"apiVersion": "stable.example.com/v1", "kind": "CronTab", "name": "op",
           "uid": owner["metadata"]["uid"], "controller": True}
    cluster.api.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "op-config", "namespace": "default", "ownerReferences": [ref]}})
    cluster.advance(5)
    configmaps = cluster.api.resource_of({"apiVersion": "v1", "kind": "ConfigMap"})
    assert cluster.store.get(configmaps, "default", "op-config") is not None  # owner exists
    cluster.api.delete(res, "default", "op")
    cluster.advance(5)
    assert cluster.store.get(configmaps, "default", "op-config") is None


def test_discovery_orders_a_crds_versions_as_kubernetes_does() -> None:
    from kclusterkit.sim.apiextensions.registry import version_priority

    names = ["v1alpha1", "foo", "v2beta1", "v1", "v10", "v2", "v1beta2", "v1beta1", "bar"]
    assert sorted(names, key=version_priority) == [
        "v10", "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "bar", "foo"]
    cluster = Cluster(seed=1)
    crd = copy.deepcopy(CRD)
    v1 = crd["spec"]["versions"][0]
    crd["spec"]["versions"] = [{**v1, "name": "v1beta1", "storage": False}, v1]
    cluster.api.create(crd)
    cluster.advance(1)
    assert [r.version for r in cluster.api.custom.resources()] == ["v1", "v1beta1"]


def test_an_api_outage_delays_establishing_without_breaking_the_cluster() -> None:
    cluster = Cluster(seed=1)
    cluster.api.create(copy.deepcopy(CRD))
    cluster.control_plane.stop("etcd")  # before the controllers' first sync
    cluster.advance(30)
    assert cluster.api.unavailable_reason
    assert cluster.api.custom.resources() == []
    cluster.control_plane.start("etcd")
    cluster.advance(120)  # the retries' backoff
    assert [r.plural for r in cluster.api.custom.resources()] == ["crontabs"]


def test_changed_names_are_accepted_and_served(cluster: Cluster) -> None:
    crd = cluster.api.get(CRDS, "", NAME)
    crd["spec"]["names"]["shortNames"] = []  # dropped
    crd["spec"]["versions"][0]["additionalPrinterColumns"] = [
        {"name": "Image", "type": "string", "jsonPath": ".spec.image"}]
    cluster.api.update(crd)
    cluster.advance(1)
    accepted = cluster.api.get(CRDS, "", NAME)["status"]["acceptedNames"]
    assert "shortNames" not in accepted
    served = cluster.api.custom.get(NAME)
    assert served is not None and served.columns("v1")[0]["name"] == "Image"
    assert cluster.api.custom.lookup("ct") is None and cluster.api.custom.lookup("crontab")


def test_a_second_served_version_reads_and_writes_the_same_objects() -> None:
    # Two served versions, v1 stored: an object written in v1beta1 is validated by
    # v1beta1's schema, kept in v1, and each version reads it under its own apiVersion
    # (the "None" conversion strategy changes apiVersion only).
    two = copy.deepcopy(CRD)
    beta = copy.deepcopy(two["spec"]["versions"][0])
    beta.update({"name": "v1beta1", "storage": False})
    beta["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["replicas"][
        "maximum"] = 5
    two["spec"]["versions"].append(beta)
    cluster = Cluster(seed=3)
    cluster.api.create(two)
    cluster.advance(1)
    v1 = cluster.api.custom.for_path("stable.example.com", "v1", "crontabs")
    v1beta1 = cluster.api.custom.for_path("stable.example.com", "v1beta1", "crontabs")
    assert v1 is not None and v1beta1 is not None
    written = {**crontab("old", replicas=3), "apiVersion": "stable.example.com/v1beta1"}
    assert cluster.api.create(written)["apiVersion"] == "stable.example.com/v1beta1"
    assert cluster.store.must_get(v1, "default", "old")["apiVersion"] == \
        "stable.example.com/v1"
    assert cluster.api.get(v1, "default", "old")["apiVersion"] == "stable.example.com/v1"
    assert cluster.api.get(v1beta1, "default", "old")["apiVersion"] == \
        "stable.example.com/v1beta1"
    listed = cluster.api.list(v1beta1, "default")["items"]
    assert [o["apiVersion"] for o in listed] == ["stable.example.com/v1beta1"]
    too_many = {**crontab("many", replicas=9), "apiVersion": "stable.example.com/v1beta1"}
    assert "spec.replicas" in str(refusal(cluster, too_many))  # v1beta1's own schema
    cluster.api.create({**crontab("many", replicas=9)})  # v1 has no such maximum
