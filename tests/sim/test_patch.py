from __future__ import annotations

import pytest

from kclusterkit.sim.patch import JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH, PatchError, apply

POD = {
    "metadata": {"name": "p", "labels": {"a": "1"}, "finalizers": ["x"]},
    "spec": {
        "containers": [
            {"name": "a", "image": "nginx:1", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "busybox"},
        ]
    },
}


def test_strategic_merge_merges_containers_by_name() -> None:
    out = apply(
        POD,
        {"spec": {"containers": [{"name": "b", "image": "busybox:1.36"}]}},
        STRATEGIC_MERGE_PATCH,
    )
    assert [(c["name"], c["image"]) for c in out["spec"]["containers"]] == [
        ("a", "nginx:1"),
        ("b", "busybox:1.36"),
    ]


def test_strategic_merge_delete_directive_and_null() -> None:
    out = apply(
        POD,
        {
            "metadata": {"labels": {"a": None}},
            "spec": {"containers": [{"name": "a", "$patch": "delete"}]},
        },
        STRATEGIC_MERGE_PATCH,
    )
    assert out["metadata"]["labels"] == {}
    assert [c["name"] for c in out["spec"]["containers"]] == ["b"]


def test_merge_patch_replaces_lists() -> None:
    out = apply(POD, {"spec": {"containers": [{"name": "z", "image": "i"}]}}, MERGE_PATCH)
    assert out["spec"]["containers"] == [{"name": "z", "image": "i"}]


def test_json_patch_operations() -> None:
    out = apply(
        POD,
        [
            {"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:2"},
            {"op": "add", "path": "/metadata/labels/b", "value": "2"},
            {"op": "remove", "path": "/metadata/finalizers/0"},
            {"op": "test", "path": "/metadata/name", "value": "p"},
        ],
        JSON_PATCH,
    )
    assert out["spec"]["containers"][0]["image"] == "nginx:2"
    assert out["metadata"]["labels"] == {"a": "1", "b": "2"}
    assert out["metadata"]["finalizers"] == []
    assert POD["spec"]["containers"][0]["image"] == "nginx:1", "the input is not mutated"


def test_json_patch_missing_path_is_an_error() -> None:
    with pytest.raises(PatchError):
        apply(POD, [{"op": "replace", "path": "/spec/nope/x", "value": 1}], JSON_PATCH)
