"""Watch semantics over HTTP: initial events, resume, expiry, selectors, bookmarks."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import requests

from kclusterkit.sim.server import ServerHandle, serve_in_thread, watch
from tests.sim.server.fakes import FakeCluster


class Stream:
    """A watch read on a background thread, so the test can write while it is open."""

    def __init__(self, served: ServerHandle, path: str):
        self.events: list[dict] = []
        self.response = requests.get(
            served.url + path, headers={"Authorization": f"Bearer {served.token}"},
            verify=str(served.ca_path), stream=True, timeout=10)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for line in self.response.iter_lines():
                if line:
                    self.events.append(json.loads(line))
        except Exception:  # the test closed the stream under the reader
            pass

    def wait_for(self, count: int, timeout: float = 5.0) -> list[tuple[str, str]]:
        deadline = time.monotonic() + timeout
        while len(self.events) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return [(e["type"], e["object"].get("metadata", {}).get("name", "")) for e in self.events]

    def close(self) -> None:
        """Wait for the server to end the stream (every watch here has a timeoutSeconds)."""
        self.thread.join(5)
        self.response.close()


def _post(served: ServerHandle, path: str, body: dict) -> dict:
    r = requests.post(served.url + path, json=body, verify=str(served.ca_path), timeout=10,
                      headers={"Authorization": f"Bearer {served.token}"})
    assert r.status_code == 201, r.text
    return r.json()


def _patch(served: ServerHandle, path: str, body: dict) -> dict:
    r = requests.patch(served.url + path, json=body, verify=str(served.ca_path), timeout=10,
                       headers={"Authorization": f"Bearer {served.token}",
                                "Content-Type": "application/merge-patch+json"})
    assert r.status_code == 200, r.text
    return r.json()


CMS = "/api/v1/namespaces/default/configmaps"


def test_initial_events_then_live_changes(served: ServerHandle) -> None:
    _post(served, CMS, {"metadata": {"name": "w-before"}})
    stream = Stream(served, CMS + "?watch=true&labelSelector=&timeoutSeconds=2")
    try:
        assert ("ADDED", "w-before") in stream.wait_for(1)
        seen = len(stream.events)
        _post(served, CMS, {"metadata": {"name": "w-after"}})
        _patch(served, CMS + "/w-after", {"data": {"a": "b"}})
        assert stream.wait_for(seen + 2)[seen:] == [("ADDED", "w-after"), ("MODIFIED", "w-after")]
    finally:
        stream.close()


def test_resume_from_resource_version_and_timeout(served: ServerHandle) -> None:
    first = _post(served, CMS, {"metadata": {"name": "r-1"}})
    _post(served, CMS, {"metadata": {"name": "r-2"}})
    rv = first["metadata"]["resourceVersion"]
    stream = Stream(served, f"{CMS}?watch=1&resourceVersion={rv}&timeoutSeconds=1")
    stream.thread.join(5)
    # Only what happened after rv, and the stream ends at its timeout.
    assert not stream.thread.is_alive()
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in stream.events] == [
        ("ADDED", "r-2")]


def test_selector_watch_turns_non_matching_into_deleted(served: ServerHandle) -> None:
    _post(served, CMS, {"metadata": {"name": "sel", "labels": {"team": "a"}}})
    stream = Stream(served, CMS + "?watch=true&labelSelector=team%3Da&timeoutSeconds=2")
    try:
        assert stream.wait_for(1) == [("ADDED", "sel")]
        changed = _patch(served, CMS + "/sel", {"metadata": {"labels": {"team": "b"}}})
        assert stream.wait_for(2)[1] == ("DELETED", "sel")
        gone = stream.events[1]["object"]
        # The previous state, at the resourceVersion of the change.
        assert gone["metadata"]["labels"] == {"team": "a"}
        assert gone["metadata"]["resourceVersion"] == changed["metadata"]["resourceVersion"]
        _patch(served, CMS + "/sel", {"metadata": {"labels": {"team": "a"}}})
        assert stream.wait_for(3)[2] == ("ADDED", "sel")
    finally:
        stream.close()


def test_bookmarks(served: ServerHandle, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch, "BOOKMARK_SECONDS", 0.1)
    stream = Stream(served, "/api/v1/namespaces/kube-public/configmaps?watch=true"
                            "&allowWatchBookmarks=true&timeoutSeconds=2")
    try:
        stream.wait_for(1)
        assert stream.events and stream.events[0]["type"] == "BOOKMARK"
        assert set(stream.events[0]["object"]["metadata"]) == {"resourceVersion"}
    finally:
        stream.close()


@pytest.fixture()
def short_history() -> Iterator[ServerHandle]:
    def factory() -> FakeCluster:
        cluster = FakeCluster()
        cluster.store.history_bytes = 1000  # a few ConfigMaps' worth
        return cluster

    handle = serve_in_thread(cluster_factory=factory)
    yield handle
    handle.stop()


def test_too_old_resource_version_is_expired(short_history: ServerHandle) -> None:
    for i in range(5):
        _post(short_history, CMS, {"metadata": {"name": f"old-{i}"}})
    stream = Stream(short_history, CMS + "?watch=true&resourceVersion=1")
    stream.thread.join(5)
    assert len(stream.events) == 1
    event = stream.events[0]
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")
