"""Traffic steps on the simulator, called without behave: what they judge and what they say."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from kclusterkit.driver import Request
from kclusterkit.driver.sim import SimDriver
from kclusterkit.steps import traffic
from kclusterkit.steps._support import ExpectationNotMet, ScenarioState, StepUsageError
from kclusterkit.steps.discovery import nslookup_addresses
from kclusterkit.steps.services import a_service, service_url
from kclusterkit.steps.workloads import a_deployment


def scenario(seed: int = 1) -> SimpleNamespace:
    driver = SimDriver(seed=seed)
    driver.open_scenario("t")
    context = SimpleNamespace(kk=ScenarioState(driver=driver, seed=seed))
    a_deployment(context, name="echo", image="agnhost:2.53 netexec", n=3)
    a_service(context, name="echo", port=80, target=8080, deployment="echo")
    driver.sleep(30)
    return context


def test_the_service_url_asks_agnhost_for_its_hostname() -> None:
    context = scenario()
    assert service_url(context.kk.driver, "echo") == "http://echo:80/hostname"


def test_a_failed_spread_shows_every_pods_count() -> None:
    context = scenario()
    traffic.requests_sent(context, n=300, name="echo")
    counts = {}
    for r in context.kk.memo["batch"].requests:
        counts[r.pod] = counts.get(r.pod, 0) + 1
    traffic.every_ready_pod_answered(context, name="echo", low=0, high=300)
    with pytest.raises(ExpectationNotMet) as failed:
        traffic.every_ready_pod_answered(context, name="echo", low=101, high=300)
    message = str(failed.value)
    assert "between 101 and 300 of the 300 requests" in message
    for pod, n in counts.items():
        assert any(line.split()[:2] == [pod, str(n)] for line in message.splitlines()), message


def test_while_that_happened_starts_at_the_latest_when() -> None:
    context = scenario()
    state = context.kk
    driver = state.driver
    state.note_step("given")
    driver.create({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "gone"},
                   "spec": {"selector": {"app": "echo"}, "ports": [{"port": 80,
                                                                    "targetPort": 9999}]}})
    traffic.steady_load(context, rate=10, name="gone")  # every request refused
    driver.sleep(5)
    with pytest.raises(ExpectationNotMet, match="connection refused"):
        traffic.no_failure_throughout(context, name="gone")
    traffic.steady_load(context, rate=10, name="echo")
    driver.sleep(1)
    state.note_step("when")
    started = state.action_started
    state.note_step("when")  # an And under the When keeps the start
    assert state.action_started == started
    driver.sleep(5)
    state.note_step("then")
    traffic.no_failure_while(context, name="echo")
    state.note_step("when")
    driver.scale("deployments", "echo", 0)
    driver.sleep(60)
    with pytest.raises(ExpectationNotMet) as failed:
        traffic.no_failure_while(context, name="echo")
    message = str(failed.value)
    assert message.startswith('expected no request to service "echo" to fail while that '
                              "happened (601 requests over 1m)\nobserved: 600 of 601 failed")
    assert "by reason: connection refused" in message


def test_an_invariant_without_a_load_says_how_to_start_one() -> None:
    context = scenario()
    with pytest.raises(StepUsageError, match="Given a steady load of 20 requests per second"):
        traffic.no_failure_throughout(context, name="echo")


def test_about_a_share_allows_five_points_either_way() -> None:
    context = scenario()
    state = context.kk
    pods = sorted(p["metadata"]["name"] for p in state.driver.list("pods", labels="app=echo"))
    requests = [Request(0.0, True, 200, pods[0], None)] * 25 + \
        [Request(0.0, True, 200, "other-7c9d8-abcde", None)] * 75
    state.memo["batch"] = traffic.Batch("echo", "http://echo", requests)
    traffic.about_share(context, percent=20, name="echo")
    traffic.about_share(context, percent=30, name="echo")
    with pytest.raises(ExpectationNotMet, match=r"answered 25 \(25.0%\)"):
        traffic.about_share(context, percent=31, name="echo")


def test_a_gone_pod_still_counts_for_its_deployment_by_name() -> None:
    assert traffic._belongs("web-7d9f8b4c5-abcde", "web", set())
    assert not traffic._belongs("web-canary-7d9f8-abcde", "web", set())
    assert traffic._belongs("web-canary-7d9f8-abcde", "web-canary", set())


def test_them_needs_requests_first() -> None:
    context = scenario()
    with pytest.raises(StepUsageError, match="requests are sent"):
        traffic.none_failed(context)


def test_nslookup_answers_skip_the_server_block() -> None:
    output = ("Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n"
              "Name:\techo.default.svc.cluster.local\nAddress: 10.96.12.7\n\n")
    assert nslookup_addresses(output) == ["10.96.12.7"]
    assert nslookup_addresses("Server: x\nAddress 1: 10.96.0.10\n\nName: a\n"
                              "Address 1: 10.1.2.3 a.b\n") == ["10.1.2.3"]


def test_judging_who_answered_is_skipped_when_the_answers_do_not_say() -> None:
    context = scenario()
    skipped: list[str] = []
    context.scenario = SimpleNamespace(skip=lambda reason: skipped.append(reason))
    anonymous = [Request(at=1.0, ok=True, status=200, pod=None, error=None, body="<html>")] * 10
    context.kk.memo["batch"] = traffic.Batch("echo", "http://echo", anonymous)
    traffic.about_share(context, percent=20, name="echo")
    traffic.every_ready_pod_answered(context, name="echo", low=0, high=10)
    assert len(skipped) == 2 and "do not say which pod served them" in skipped[0]
    failed = [Request(at=1.0, ok=False, status=None, pod=None, error="connection refused")]
    context.kk.memo["batch"] = traffic.Batch("echo", "http://echo", failed)
    with pytest.raises(ExpectationNotMet):
        traffic.about_share(context, percent=20, name="echo")
