"""Deployment and ReplicaSet admission wording (pkg/apis/apps/validation/validation.go)."""

from __future__ import annotations

from typing import Any

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.store import Store


@pytest.fixture()
def api() -> Api:
    a = Api(Clock(seed=3), Store())
    a.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return a


def workload(kind: str = "Deployment", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "nginx:1.25"}]},
            },
        },
    }
    body["spec"].update(spec)
    return body


def message(api: Api, obj: dict[str, Any]) -> str:
    with pytest.raises(errors.StatusError) as exc:
        api.create(obj)
    assert (exc.value.code, exc.value.reason) == (422, "Invalid")
    return exc.value.message


def test_selector_not_matching_template_prints_the_labels_as_a_go_map(api: Api) -> None:
    # ValidatePodTemplateSpecForReplicaSet: field.Invalid(..., template.Labels, ...)
    body = workload()
    body["spec"]["template"]["metadata"]["labels"] = {"app": "other", "tier": "x"}
    assert message(api, body) == (
        'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: '
        'map[string]string{"app":"other", "tier":"x"}: `selector` does not match template '
        "`labels`"
    )


def test_missing_selector_is_required_and_matches_nothing(api: Api) -> None:
    # A nil selector is Required, and LabelSelectorAsSelector(nil) matches no labels.
    body = workload()
    del body["spec"]["selector"]
    assert message(api, body) == (
        'Deployment.apps "web" is invalid: [spec.selector: Required value, '
        "spec.template.metadata.labels: Invalid value: "
        'map[string]string{"app":"web"}: `selector` does not match template `labels`]'
    )


def test_empty_selector_wording_is_the_same_for_replicasets(api: Api) -> None:
    body = workload("ReplicaSet", selector={})
    assert message(api, body) == (
        'ReplicaSet.apps "web" is invalid: spec.selector: Invalid value: '
        "v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: "
        "empty selector is invalid for deployment"
    )


def test_both_surge_and_unavailable_zero(api: Api) -> None:
    # ValidateRollingUpdateDeployment; IntOrString prints through String(), unquoted.
    body = workload(strategy={"type": "RollingUpdate",
                              "rollingUpdate": {"maxSurge": "0%", "maxUnavailable": 0}})
    assert message(api, body) == (
        'Deployment.apps "web" is invalid: spec.strategy.rollingUpdate.maxUnavailable: '
        "Invalid value: 0: may not be 0 when `maxSurge` is 0"
    )


def test_bad_percentages(api: Api) -> None:
    body = workload(strategy={"rollingUpdate": {"maxSurge": "20Percent", "maxUnavailable": "110%"}})
    assert message(api, body) == (
        'Deployment.apps "web" is invalid: [spec.strategy.rollingUpdate.maxSurge: Invalid value: '
        "20Percent: a valid percent string must be a numeric string followed by an ending '%' "
        "(e.g. '1%',  or '93%', regex used for validation is '[0-9]+%'), "
        "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 110%: "
        "must not be greater than 100%]"
    )


def test_unknown_strategy_type_names_the_whole_strategy(api: Api) -> None:
    # field.NotSupported(fldPath /* spec.strategy */, strategy, ...) prints the struct.
    body = workload(strategy={"type": "BlueGreen"})
    assert message(api, body) == (
        'Deployment.apps "web" is invalid: spec.strategy: Unsupported value: '
        'apps.DeploymentStrategy{Type:"BlueGreen", '
        "RollingUpdate:(*apps.RollingUpdateDeployment)(nil)}: "
        'supported values: "Recreate", "RollingUpdate"'
    )


def test_recreate_with_rolling_parameters_is_forbidden(api: Api) -> None:
    body = workload(strategy={"type": "Recreate", "rollingUpdate": {"maxSurge": 1}})
    assert message(api, body) == (
        'Deployment.apps "web" is invalid: spec.strategy.rollingUpdate: Forbidden: '
        "may not be specified when strategy `type` is 'Recreate'"
    )


def test_progress_deadline_and_restart_policy(api: Api) -> None:
    body = workload(minReadySeconds=30, progressDeadlineSeconds=30)
    body["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert message(api, body) == (
        'Deployment.apps "web" is invalid: [spec.template.spec.restartPolicy: Unsupported '
        'value: "Never": supported values: "Always", spec.progressDeadlineSeconds: Invalid '
        "value: 30: must be greater than minReadySeconds]"
    )


def test_selector_is_immutable(api: Api) -> None:
    # apps/v1 strategies: ValidateImmutableField(spec.selector) -> "field is immutable".
    d = api.create(workload())
    d["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "fe"}}
    d["spec"]["template"]["metadata"]["labels"]["tier"] = "fe"
    with pytest.raises(errors.StatusError) as exc:
        api.update(d)
    assert exc.value.message == (
        'Deployment.apps "web" is invalid: spec.selector: Invalid value: '
        'v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"fe"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"
    )


def test_defaults(api: Api) -> None:
    # pkg/apis/apps/v1/defaults.go SetDefaults_Deployment / SetDefaults_ReplicaSet.
    d = api.create(workload(strategy={"rollingUpdate": {"maxSurge": 2}}))
    assert d["spec"]["replicas"] == 1
    assert d["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": 2, "maxUnavailable": "25%"},
    }
    assert (d["spec"]["revisionHistoryLimit"], d["spec"]["progressDeadlineSeconds"]) == (10, 600)
    rs = api.create(workload("ReplicaSet"))
    assert rs["spec"]["replicas"] == 1
    assert "strategy" not in rs["spec"]
