from __future__ import annotations

import json

import pytest

from kclusterkit.kube.meta import parse_label_selector
from kclusterkit.sim import errors
from kclusterkit.sim.resources import for_plural
from kclusterkit.sim.store import Store

CM = for_plural("", "configmaps")


def cm(name: str, ns: str = "default", **labels: str) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
    }


def test_revision_is_monotonic_and_stamped() -> None:
    store = Store()
    a = store.create(CM, cm("a"))
    b = store.create(CM, cm("b"))
    assert int(b["metadata"]["resourceVersion"]) > int(a["metadata"]["resourceVersion"])
    assert store.revision == int(b["metadata"]["resourceVersion"])


def test_stale_update_is_a_conflict() -> None:
    store = Store()
    first = store.create(CM, cm("a"))
    stale = {**first, "metadata": dict(first["metadata"])}
    store.update(CM, {**first, "metadata": dict(first["metadata"]), "data": {"x": "1"}})
    with pytest.raises(errors.StatusError) as exc:
        store.update(CM, {**stale, "data": {"x": "2"}})
    assert exc.value.code == 409 and exc.value.reason == "Conflict"


def test_create_twice_already_exists_and_missing_not_found() -> None:
    store = Store()
    store.create(CM, cm("a"))
    with pytest.raises(errors.StatusError) as exc:
        store.create(CM, cm("a"))
    assert exc.value.reason == "AlreadyExists"
    with pytest.raises(errors.StatusError) as exc:
        store.delete(CM, "default", "zzz")
    assert exc.value.code == 404


def test_list_filters_by_namespace_and_labels() -> None:
    store = Store()
    store.create(CM, cm("a", app="web"))
    store.create(CM, cm("b", app="db"))
    store.create(CM, cm("c", "other", app="web"))
    names = [
        o["metadata"]["name"] for o in store.list(CM, "default", parse_label_selector("app=web"))
    ]
    assert names == ["a"]
    assert len(store.list(CM, None, parse_label_selector("app in (web,db)"))) == 3
    assert [
        o["metadata"]["name"] for o in store.list(CM, None, parse_label_selector("app!=web"))
    ] == ["b"]


def test_watch_history_replays_from_a_revision_and_expires() -> None:
    size = len(json.dumps(cm("a"), separators=(",", ":"))) + 30  # + metadata the store sets
    store = Store(history_bytes=3 * size)
    start = store.revision
    for name in "abcde":
        store.create(CM, cm(name))
    assert store.history_size <= 3 * size
    with pytest.raises(errors.StatusError) as exc:
        list(store.events_since(start, CM))
    assert exc.value.code == 410
    assert exc.value.message == f"too old resource version: {start} ({store.compacted})"
    recent = list(store.events_since(store.revision - 2, CM))
    assert [e[3]["metadata"]["name"] for e in recent] == ["d", "e"]


def test_listeners_see_changes_with_old_object() -> None:
    store = Store()
    seen: list[tuple[str, str | None]] = []
    store.subscribe(
        CM, lambda t, obj, old: seen.append((t, old and old["metadata"]["resourceVersion"]))
    )
    obj = store.create(CM, cm("a"))
    rv = obj["metadata"]["resourceVersion"]
    store.update(CM, {**obj, "metadata": dict(obj["metadata"])})
    store.delete(CM, "default", "a")
    assert [t for t, _ in seen] == ["ADDED", "MODIFIED", "DELETED"]
    assert seen[1][1] == rv


def test_owner_index_follows_owner_references() -> None:
    store = Store()
    child = cm("child")
    child["metadata"]["ownerReferences"] = [
        {"uid": "u1", "kind": "X", "name": "p", "apiVersion": "v1"}
    ]
    stored = store.create(CM, child)
    assert [o["metadata"]["name"] for o in store.owned_by("u1")] == ["child"]
    orphan = {
        **stored,
        "metadata": {k: v for k, v in stored["metadata"].items() if k != "ownerReferences"},
    }
    store.update(CM, orphan)
    assert store.owned_by("u1") == []


def test_history_is_bounded_by_bytes_not_revisions() -> None:
    store = Store(history_bytes=3 * 2**20)
    big = {**cm("big"), "data": {"blob": "x" * 2**20}}
    store.create(CM, big)
    for i in range(20):  # 20 MiB of updates to one object
        store.update(CM, {**big, "data": {"blob": str(i) * 2**20}}, check_version=False)
    assert store.history_size <= 3 * 2**20
    assert store.compacted >= store.revision - 3
    for i in range(1000):  # many small changes fit where a few big ones did not
        store.create(CM, cm(f"small-{i}"))
    assert len(list(store.events_since(store.revision - 1000, CM))) == 1000
