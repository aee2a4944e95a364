"""Server-side apply and managedFields through the simulator's Api, as upstream's field
manager behaves (conflicts, force, shared ownership, pruning, resets)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kclusterkit.errors import ApiError
from kclusterkit.sim import fieldpath
from kclusterkit.sim.api import Api
from kclusterkit.sim.cluster import Cluster
from kclusterkit.sim.resources import for_kind

APPLY = "application/apply-patch+yaml"
DEPLOY = for_kind("apps/v1", "Deployment")
CONFIG: dict[str, Any] = {
    "apiVersion": "apps/v1", "kind": "Deployment",
    "metadata": {"name": "web", "labels": {"app": "web"}},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "nginx", "image": "nginx:1.24",
                                                   "ports": [{"containerPort": 80}]}]}}}}


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster(seed=3)


@pytest.fixture
def api(cluster: Cluster) -> Api:
    for obj in list(cluster.store.iter(DEPLOY, "default")):
        cluster.store.delete(DEPLOY, "default", obj["metadata"]["name"])
    return cluster.api


def managers(obj: dict[str, Any]) -> dict[tuple[str, str], set[str]]:
    """(manager, operation) -> the owned paths as upstream prints them."""
    return {(e["manager"], e["operation"]): {fieldpath.path_string(p)
                                             for p in fieldpath.decode(e["fieldsV1"])}
            for e in obj["metadata"].get("managedFields") or []}


def apply(api: Api, config: dict[str, Any], manager: str, force: bool = False) -> Any:
    return api.patch(DEPLOY, "default", config["metadata"]["name"], copy.deepcopy(config),
                     APPLY, manager=manager, force=force)


def test_apply_creates_and_owns_exactly_what_it_sent(api: Api) -> None:
    obj = apply(api, CONFIG, "ci")
    entry = obj["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"], entry["apiVersion"], entry["fieldsType"]) == \
        ("ci", "Apply", "apps/v1", "FieldsV1")
    owned = managers(obj)[("ci", "Apply")]
    assert '.spec.template.spec.containers[name="nginx"].ports[containerPort=80,' \
        'protocol="TCP"].containerPort' in owned
    assert ".spec.replicas" in owned and ".spec.selector" in owned
    # defaulted fields belong to nobody
    assert ".spec.strategy.type" not in owned and obj["spec"]["strategy"]["type"]
    fields = entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert fields['k:{"name":"nginx"}']["."] == {}


def test_a_second_identical_apply_writes_nothing(api: Api) -> None:
    first = apply(api, CONFIG, "ci")
    second = apply(api, CONFIG, "ci")
    assert second["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]


def test_another_managers_value_conflicts_until_forced(api: Api) -> None:
    apply(api, CONFIG, "ci")
    api.update_scale(DEPLOY, "default", "web", 5, manager="kubectl-scale")
    with pytest.raises(ApiError) as caught:
        apply(api, CONFIG, "ci")
    err = caught.value
    assert (err.code, err.reason) == (409, "Conflict")
    assert err.message == ('Apply failed with 1 conflict: conflict with "kubectl-scale" with '
                           'subresource "scale" using apps/v1: .spec.replicas')
    assert err.causes == [{"type": "FieldManagerConflict", "field": ".spec.replicas",
                           "message": 'conflict with "kubectl-scale" with subresource "scale" '
                                      "using apps/v1"}]
    forced = apply(api, CONFIG, "ci", force=True)
    assert forced["spec"]["replicas"] == 2
    assert ("kubectl-scale", "Update") not in managers(forced)


def test_equal_values_are_shared_and_survive_the_other_applier_dropping_them(api: Api) -> None:
    apply(api, CONFIG, "ci")
    other = copy.deepcopy(CONFIG)
    other["metadata"].pop("labels")
    other["spec"] = {"replicas": 2}
    shared = apply(api, other, "autoscaler")
    assert ".spec.replicas" in managers(shared)[("autoscaler", "Apply")]
    assert ".spec.replicas" in managers(shared)[("ci", "Apply")]
    dropped = copy.deepcopy(CONFIG)
    del dropped["spec"]["replicas"]
    del dropped["metadata"]["labels"]
    after = apply(api, dropped, "ci")
    assert after["spec"]["replicas"] == 2  # still the autoscaler's
    assert "labels" not in after["metadata"]  # nobody else had them: removed


def test_a_dropped_field_nobody_else_owns_is_removed_and_defaulted(api: Api) -> None:
    apply(api, CONFIG, "ci")
    dropped = copy.deepcopy(CONFIG)
    del dropped["spec"]["replicas"]
    assert apply(api, dropped, "ci")["spec"]["replicas"] == 1


def test_several_conflicts_are_listed_by_manager(api: Api) -> None:
    apply(api, CONFIG, "ci")
    changed = copy.deepcopy(CONFIG)
    changed["spec"]["replicas"] = 4
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25"
    with pytest.raises(ApiError) as caught:
        apply(api, changed, "other")
    assert caught.value.message == (
        'Apply failed with 2 conflicts: conflicts with "ci":\n- .spec.replicas\n'
        '- .spec.template.spec.containers[name="nginx"].image')


def test_updates_take_the_fields_they_change(api: Api) -> None:
    obj = apply(api, CONFIG, "ci")
    obj["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx:1.25"
    edited = api.update(obj, manager="kubectl-edit")
    owned = managers(edited)
    image = '.spec.template.spec.containers[name="nginx"].image'
    assert owned[("kubectl-edit", "Update")] == {image}
    assert image not in owned[("ci", "Apply")]
    with pytest.raises(ApiError, match="kubectl-edit"):
        apply(api, CONFIG, "ci")


def test_a_create_records_an_update_entry_and_added_maps_as_members(api: Api) -> None:
    body = copy.deepcopy(CONFIG)
    created = api.create(body, "default", manager="kubectl-create")
    entry = created["metadata"]["managedFields"][0]
    assert (entry["manager"], entry["operation"]) == ("kubectl-create", "Update")
    assert entry["fieldsV1"]["f:metadata"]["f:labels"]["."] == {}
    assert "." not in entry["fieldsV1"]["f:spec"]  # present in every typed object
    # defaults belong to the writer, as they do upstream for a client's create
    assert "f:progressDeadlineSeconds" in entry["fieldsV1"]["f:spec"]


def test_first_apply_on_an_untracked_object_meets_before_first_apply(api: Api) -> None:
    api.create(copy.deepcopy(CONFIG), "default")  # the simulator's own write: no manager
    changed = copy.deepcopy(CONFIG)
    changed["spec"]["replicas"] = 3
    with pytest.raises(ApiError, match='conflict with "before-first-apply" using apps/v1: '
                                       r"\.spec\.replicas"):
        apply(api, changed, "ci")


def test_managed_fields_reset_with_an_empty_entry_and_kept_when_absent(api: Api) -> None:
    obj = apply(api, CONFIG, "ci")
    obj["metadata"].pop("managedFields")
    kept = api.update(obj, manager="kubectl-edit")
    assert ("ci", "Apply") in managers(kept)
    kept["metadata"]["managedFields"] = [{}]
    assert "managedFields" not in api.update(kept, manager="x")["metadata"]
    # garbage is not a reset: the live entries stay
    again = apply(api, CONFIG, "ci")
    again["metadata"]["managedFields"] = [{"operation": "Nope", "fieldsV1": 3}]
    assert ("ci", "Apply") in managers(api.update(again, manager="y"))


def test_the_simulators_own_writes_keep_managed_fields(api: Api) -> None:
    obj = apply(api, CONFIG, "ci")
    obj["metadata"].pop("managedFields")
    obj["spec"]["paused"] = True
    assert managers(api.update(obj)) == managers(apply(api, CONFIG, "ci"))


@pytest.mark.parametrize("bad", [[], {"f:a": 1}, {"x:a": {}}, {"f:a": {"nope": {}}}])
def test_fields_v1_decoding_refuses_what_is_not_a_field_set(bad: Any) -> None:
    with pytest.raises(fieldpath.FieldsError):
        fieldpath.decode(bad)


def test_fields_v1_round_trips() -> None:
    fields = fieldpath.object_fields({"metadata": {"finalizers": ["a/b"], "name": "x"},
                                      "spec": {"ports": [{"port": 80, "protocol": "UDP"}],
                                               "selector": {"app": "x"}}})
    assert fields == {("f:metadata", "f:finalizers", 'v:"a/b"'),
                      ("f:spec", "f:ports", 'k:{"port":80,"protocol":"UDP"}'),
                      ("f:spec", "f:ports", 'k:{"port":80,"protocol":"UDP"}', "f:port"),
                      ("f:spec", "f:ports", 'k:{"port":80,"protocol":"UDP"}', "f:protocol"),
                      ("f:spec", "f:selector", "f:app")}  # a Service selector is granular
    assert fieldpath.decode(fieldpath.encode(fields)) == fields


def test_an_applied_configuration_may_not_carry_managed_fields(api: Api) -> None:
    body = copy.deepcopy(CONFIG)
    body["metadata"]["managedFields"] = [{"manager": "me", "operation": "Apply"}]
    with pytest.raises(ApiError, match="metadata.managedFields must be nil") as caught:
        apply(api, body, "ci")
    assert caught.value.code == 400


def test_ownership_is_read_from_undecoded_entries_as_from_decoded_ones(api: Api) -> None:
    obj = apply(api, CONFIG, "ci")
    obj["spec"]["replicas"] = 7  # an Update takes .spec.replicas from the stored Apply entry
    owned = managers(api.update(obj, manager="kubectl-edit"))
    assert ".spec.replicas" not in owned[("ci", "Apply")]
    assert owned[("kubectl-edit", "Update")] == {".spec.replicas"}


def test_status_is_not_applied_through_the_main_resource_nor_spec_through_status(
        api: Api) -> None:
    body = copy.deepcopy(CONFIG)
    body["status"] = {"replicas": 9}
    obj = apply(api, body, "ci")
    assert obj.get("status", {}).get("replicas") != 9
    assert not any(p.startswith(".status") for p in managers(obj)[("ci", "Apply")])
    status = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
              "spec": {"replicas": 8}, "status": {"observedGeneration": 1}}
    after = api.patch(DEPLOY, "default", "web", status, APPLY, subresource="status",
                      manager="reporter")
    assert after["spec"]["replicas"] == 2
    entry = next(e for e in after["metadata"]["managedFields"] if e["manager"] == "reporter")
    assert entry["subresource"] == "status"
    assert {fieldpath.path_string(p) for p in fieldpath.decode(entry["fieldsV1"])} == {
        ".status.observedGeneration"}


def test_a_config_maps_data_is_a_member_of_its_creators_fields(api: Api) -> None:
    made = api.create({"apiVersion": "v1", "kind": "ConfigMap",
                       "metadata": {"name": f"cm-{id(api)}"}, "data": {"a": "1"}},
                      "default", manager="kubectl-create")
    assert made["metadata"]["managedFields"][0]["fieldsV1"] == {
        "f:data": {".": {}, "f:a": {}}}


def test_more_than_ten_updaters_leave_the_oldest_as_ancient_changes(api: Api) -> None:
    obj = api.create({"apiVersion": "v1", "kind": "ConfigMap",
                      "metadata": {"name": "many"}, "data": {}}, "default", manager="m00")
    for n in range(1, 13):
        obj["data"] = {**obj.get("data", {}), f"k{n:02}": "v"}
        obj = api.update(obj, manager=f"m{n:02}")
    owned = managers(obj)
    assert len(owned) == 10
    assert owned[("ancient-changes", "Update")] == {".data", ".data.k01", ".data.k02",
                                                     ".data.k03"}
    assert ("m12", "Update") in owned and ("m03", "Update") not in owned
    api.delete(for_kind("v1", "ConfigMap"), "default", "many")
