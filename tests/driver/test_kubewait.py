from __future__ import annotations

import queue
import threading
import time

import pytest

from kclusterkit.driver.base import Observation
from kclusterkit.driver.errors import ApiError, ClusterError
from kclusterkit.driver.kubediscovery import ApiResource
from kclusterkit.driver.kubewait import WaitCache, hold, wait_until

PODS = ApiResource("", "v1", "Pod", "pods", True)
NS = "kk-t-1"


def pod(name: str, rv: int, **labels: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS, "resourceVersion": str(rv),
                         "labels": labels}}


class Stream:
    def __init__(self) -> None:
        self.q: queue.Queue = queue.Queue()

    def __iter__(self):
        while True:
            event = self.q.get()
            if event is None:
                return
            yield event

    def close(self) -> None:
        self.q.put(None)


class Source:
    """Scripted list+watch: the test pushes events into the newest stream."""

    def __init__(self, items=(), rv: str = "10", fail_watch: int = 0):
        self.items = list(items)
        self.rv = rv
        self.lists = 0
        self.watch_from: list[str] = []
        self.streams: list[Stream] = []
        self.opened = threading.Semaphore(0)
        self.fail_watch = fail_watch

    def list_for_watch(self, res, namespace):
        self.lists += 1
        return [dict(o) for o in self.items], self.rv

    def open_watch(self, res, namespace, resource_version):
        self.watch_from.append(resource_version)
        if self.fail_watch:
            self.fail_watch -= 1
            raise ApiError(503, "ServiceUnavailable", "apiserver is shutting down")
        stream = Stream()
        self.streams.append(stream)
        self.opened.release()
        return stream

    def push(self, *events) -> None:
        assert self.opened.acquire(timeout=5), "no watch was opened"
        self.opened.release()
        for event in events:
            self.streams[-1].q.put(event)


def _in_background(fn) -> threading.Thread:
    thread = threading.Thread(target=fn, daemon=True)
    thread.start()
    return thread


def test_a_wait_reacts_to_the_watch_event_that_makes_it_true():
    source = Source([pod("a", 10)])
    cache = WaitCache(source, backoff=lambda n: 0.01)
    ref = cache.ensure(PODS, NS)

    def check():
        found = cache.get(ref, NS, "a")
        return Observation(found["metadata"]["labels"].get("ready") == "yes", "a")

    _in_background(lambda: source.push({"type": "MODIFIED", "object": pod("a", 11, ready="yes")}))
    started = time.monotonic()
    result = wait_until(cache, check, 10, time.monotonic)
    cache.close()
    assert result.ok and time.monotonic() - started < 2
    assert source.lists == 1 and source.watch_from == ["10"]


def test_a_burst_of_events_costs_one_more_evaluation_not_one_each():
    source = Source([pod("a", 10)])
    cache = WaitCache(source)
    ref = cache.ensure(PODS, NS)
    calls = []
    release = threading.Event()

    def check():
        calls.append(1)
        if len(calls) == 2:
            release.wait(5)
        return Observation(len(calls) >= 3, "")

    def burst():
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.005)
        source.push({"type": "MODIFIED", "object": pod("a", 11)})
        while len(calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.005)
        source.push(*({"type": "MODIFIED", "object": pod("a", 12 + i)} for i in range(50)))
        while ref.events < 51 and time.monotonic() < deadline:
            time.sleep(0.005)
        release.set()

    _in_background(burst)
    result = wait_until(cache, check, 10, time.monotonic)
    cache.close()
    assert result.ok and len(calls) == 3


def test_a_hold_fails_at_the_first_violation_and_says_when():
    source = Source([pod("a", 10)])
    cache = WaitCache(source)
    ref = cache.ensure(PODS, NS)

    def check():
        return Observation(cache.get(ref, NS, "a") is not None, "pod a")

    moments = {}

    def delete_later():
        time.sleep(0.2)
        moments["deleted"] = time.monotonic()
        source.push({"type": "DELETED", "object": pod("a", 11)})

    _in_background(delete_later)
    started = time.monotonic()
    result = hold(cache, check, 30, time.monotonic)
    cache.close()
    assert not result.ok and result.failed_at is not None
    assert moments["deleted"] <= result.failed_at < moments["deleted"] + 1
    assert result.waited == pytest.approx(result.failed_at - started, abs=0.01)


def test_a_hold_that_keeps_holding_lasts_its_duration():
    source = Source([pod("a", 10)])
    cache = WaitCache(source)
    ref = cache.ensure(PODS, NS)
    result = hold(cache, lambda: Observation(cache.get(ref, NS, "a") is not None, ""), 0.3,
                  time.monotonic)
    cache.close()
    assert result.ok and 0.3 <= result.waited < 1.0


def test_gone_relists_and_a_closed_stream_reconnects_from_the_last_version():
    source = Source([pod("a", 10)])
    cache = WaitCache(source, backoff=lambda n: 0.01)
    ref = cache.ensure(PODS, NS)
    source.push({"type": "BOOKMARK", "object": {"kind": "Pod",
                                                 "metadata": {"resourceVersion": "15"}}})
    source.push(None)  # the server ends the stream
    deadline = time.monotonic() + 5
    while len(source.watch_from) < 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert source.watch_from == ["10", "15"]
    source.items, source.rv = [pod("b", 30)], "30"
    source.push({"type": "ERROR", "object": {"kind": "Status", "code": 410,
                                              "reason": "Expired", "message": "too old"}})
    result = wait_until(cache, lambda: Observation(cache.get(ref, NS, "b") is not None, ""), 5,
                        time.monotonic)
    cache.close()
    assert result.ok and source.lists == 2 and source.watch_from[-1] == "30"
    assert cache.get(ref, NS, "a") is None


def test_a_watch_that_keeps_failing_fails_the_wait_instead_of_hanging():
    source = Source([pod("a", 10)], fail_watch=100)
    cache = WaitCache(source, backoff=lambda n: 0.001)
    ref = cache.ensure(PODS, NS)
    started = time.monotonic()
    with pytest.raises(ClusterError, match="lost the watch on pods in kk-t-1"):
        wait_until(cache, lambda: Observation(cache.get(ref, NS, "zzz") is not None, ""), 30,
                   time.monotonic)
    cache.close()
    assert time.monotonic() - started < 5


def test_the_mirror_filters_lists_by_label_selector():
    source = Source([pod("a", 10, app="web"), pod("b", 11, app="db"), pod("c", 12)])
    cache = WaitCache(source)
    ref = cache.ensure(PODS, NS)
    assert [o["metadata"]["name"] for o in cache.list(ref, NS, "app=web")] == ["a"]
    assert [o["metadata"]["name"] for o in cache.list(ref, NS, "app")] == ["a", "b"]
    assert len(cache.list(ref, NS, None)) == 3
    copy = cache.get(ref, NS, "a")
    copy["metadata"]["labels"]["app"] = "changed"
    assert cache.get(ref, NS, "a")["metadata"]["labels"]["app"] == "web"
    cache.close()


def test_checks_no_watch_can_serve_are_re_evaluated_on_a_short_backoff():
    cache = WaitCache(Source())
    flag = threading.Event()
    threading.Timer(0.3, flag.set).start()
    calls = []

    def check():
        calls.append(1)
        cache.uncached += 1  # as the driver counts an exec or an HTTP request
        return Observation(flag.is_set(), "")

    result = wait_until(cache, check, 5, time.monotonic)
    assert result.ok and result.waited < 1.5 and len(calls) < 15
