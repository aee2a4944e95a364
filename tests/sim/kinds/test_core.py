"""Namespace and Node admission (pkg/apis/core/v1/defaults.go, pkg/registry/core/namespace)."""

from __future__ import annotations

import pytest

from kclusterkit.sim import errors
from kclusterkit.sim.api import Api
from kclusterkit.sim.clock import Clock
from kclusterkit.sim.store import Store


@pytest.fixture()
def api() -> Api:
    return Api(Clock(seed=3), Store())


def test_namespace_defaults(api: Api) -> None:
    # SetDefaults_Namespace label, PrepareForCreate finalizer and Active phase.
    ns = api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"},
                     "status": {"phase": "Terminating"}})
    assert ns["metadata"]["labels"] == {"kubernetes.io/metadata.name": "team-a"}
    assert ns["spec"] == {"finalizers": ["kubernetes"]}
    assert ns["status"] == {"phase": "Active"}


def test_namespace_names_are_dns1123_labels(api: Api) -> None:
    with pytest.raises(errors.StatusError) as exc:
        api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team.a"}})
    assert exc.value.message == (
        'Namespace "team.a" is invalid: metadata.name: Invalid value: "team.a": '
        "must not contain dots"
    )


def test_node_taint_effects(api: Api) -> None:
    # validateNodeTaints / validateTaintEffect wording.
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"},
            "spec": {"taints": [{"key": "k", "effect": "Sometimes"}, {"key": "k2"}]}}
    with pytest.raises(errors.StatusError) as exc:
        api.create(node)
    assert exc.value.message == (
        'Node "n1" is invalid: [spec.taints[0].effect: Unsupported value: "Sometimes": '
        'supported values: "NoSchedule", "PreferNoSchedule", "NoExecute", '
        "spec.taints[1].effect: Required value]"
    )


def test_immortal_namespaces_may_not_be_deleted(api: Api) -> None:
    # Found by schemathesis: a deleted kube-system or default left the cluster broken.
    from kclusterkit.sim.resources import NAMESPACES

    for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
        api.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    for name in ("default", "kube-system", "kube-public"):
        with pytest.raises(errors.StatusError) as info:
            api.delete(NAMESPACES, "", name)
        assert (info.value.code, info.value.message) == (
            403, f'namespaces "{name}" is forbidden: this namespace may not be deleted')
    api.delete(NAMESPACES, "", "kube-node-lease")  # upstream recreates it instead
