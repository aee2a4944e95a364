from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from kube_fakeapi import FakeApi

from kclusterkit.driver import cleanup
from kclusterkit.driver.errors import (
    ApiError,
    ConfigurationError,
    NotSupported,
    Refused,
)
from kclusterkit.driver.kube import (
    MANAGED_LABEL,
    RUN_LABEL,
    SCENARIO_ANNOTATION,
    KubeDriver,
    dns_label,
    namespace_name,
)

ROOT = Path(__file__).resolve().parents[2]
LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@pytest.fixture
def fake():
    api = FakeApi()
    yield api
    api.stop()


def _driver(fake: FakeApi, tmp_path: Path, **options) -> KubeDriver:
    options = {"kubeconfig": str(fake.kubeconfig(tmp_path)), **options}
    return KubeDriver.from_config(options, run_id=options.pop("run_id", "Run_42"))


def test_namespace_names_are_dns_labels_even_from_long_or_odd_input():
    assert namespace_name("kk", "0101120000ab12", 3) == "kk-0101120000ab12-3"
    long = namespace_name("My_Team.Prefix", "R" * 80, 12345)
    assert len(long) <= 63 and LABEL.match(long) and long.endswith("-12345")
    assert dns_label("--Hello World--") == "hello-world"


def test_open_scenario_creates_a_labelled_namespace_of_its_own(fake, tmp_path):
    driver = _driver(fake, tmp_path)
    driver.open_scenario("A deleted pod is replaced")
    ns = fake.namespaces[driver.namespace]
    assert driver.namespace == "kk-run-42-1"
    assert ns["metadata"]["labels"] == {RUN_LABEL: "run-42", MANAGED_LABEL: "true"}
    assert ns["metadata"]["annotations"] == {SCENARIO_ANNOTATION: "A deleted pod is replaced"}
    driver.close_scenario(passed=True)
    driver.open_scenario("second")
    assert driver.namespace == "kk-run-42-2"
    driver.close()


def test_a_taken_name_is_skipped_but_a_retried_create_of_ours_is_kept(fake, tmp_path):
    # another run's namespace under our first name: take the next one
    fake.namespaces["kk-run-42-1"] = {"metadata": {"name": "kk-run-42-1",
                                                   "labels": {RUN_LABEL: "other"}}}
    driver = _driver(fake, tmp_path)
    driver.open_scenario("one")
    assert driver.namespace == "kk-run-42-2"
    # a create whose first attempt got through before its answer was lost: it is ours
    fake.namespaces["kk-run-42-3"] = {"metadata": {"name": "kk-run-42-3",
                                                   "labels": {RUN_LABEL: "run-42"}}}
    driver.close_scenario(passed=True)
    driver.open_scenario("two")
    assert driver.namespace == "kk-run-42-3"
    driver.close()
    assert sorted(fake.namespaces) == ["kk-run-42-1"]


def test_a_namespace_that_cannot_be_deleted_is_reported_with_the_cleanup_command(fake,
                                                                                tmp_path):
    lines: list[str] = []
    driver = _driver(fake, tmp_path)
    driver._log = lines.append
    driver.open_scenario("one")
    fake.fail("/api/v1/namespaces/kk-run-42-1", 403, "Forbidden", times=5)
    driver.close_scenario(passed=True)  # no exception: the scenario's result stands
    assert driver.leftover == {"kk-run-42-1": "injected 403"}
    driver.close()
    assert lines == ["kclusterkit: could not delete namespace(s) kk-run-42-1 (injected 403); "
                     "remove them with kclusterkit cleanup --run run-42"]


@pytest.mark.parametrize("policy,passed,kept", [
    ("always", True, False), ("always", False, False),
    ("on-success", True, False), ("on-success", False, True),
    ("never", True, True), ("never", False, True),
])
def test_cleanup_policy_decides_what_stays(fake, tmp_path, policy, passed, kept):
    driver = _driver(fake, tmp_path, cleanup=policy)
    driver.open_scenario("s")
    ns = driver.namespace
    driver.close_scenario(passed)
    assert (ns in fake.namespaces) is kept
    assert driver.kept == ([ns] if kept else [])
    driver.close()
    assert (ns in fake.namespaces) is kept  # closing the run does not undo the policy


def test_close_deletes_namespaces_of_scenarios_that_never_closed(fake, tmp_path):
    driver = _driver(fake, tmp_path, cleanup="never")
    driver.open_scenario("s")
    driver.close()
    assert fake.namespaces == {}


def test_writes_outside_the_runs_namespaces_are_refused(fake, tmp_path):
    driver = _driver(fake, tmp_path)
    fake.namespaces["kube-system"] = {"metadata": {"name": "kube-system"}}
    driver.open_scenario("s")
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "x", "namespace": "kube-system"}}
    with pytest.raises(Refused, match="refusing to write in namespace 'kube-system'"):
        driver.create(cm)
    with pytest.raises(NotSupported, match="cluster-scoped"):
        driver.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "y"}})
    assert not any(m == "POST" and "kube-system" in p for m, p in fake.log)
    driver.close()


def test_objects_round_trip_in_the_scenario_namespace(fake, tmp_path):
    driver = _driver(fake, tmp_path)
    driver.open_scenario("s")
    driver.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                   "data": {"a": "1"}})
    got = driver.get("cm", "cfg")
    assert got["metadata"]["namespace"] == driver.namespace and got["data"] == {"a": "1"}
    assert driver.get("configmap", "missing") is None
    listed = driver.list("configmaps")
    assert [(o["kind"], o["apiVersion"]) for o in listed] == [("ConfigMap", "v1")]
    with pytest.raises(ApiError) as info:
        driver.get("widgets", "x")
    assert info.value.code == 404 and "widgets" in info.value.message
    driver.close()


def test_update_after_a_conflict_puts_the_callers_change_on_the_fresh_object(fake, tmp_path):
    driver = _driver(fake, tmp_path)
    driver.open_scenario("s")
    driver.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
                   "data": {"a": "1"}})
    stale = driver.get("cm", "cfg")
    # someone else writes first
    fresh = driver.get("cm", "cfg")
    fresh["metadata"]["labels"] = {"other": "writer"}
    driver.update(fresh)
    stale["metadata"]["labels"] = {"mine": "yes"}
    stale["spec"] = {"x": 1}
    updated = driver.update(stale)
    assert updated["metadata"]["labels"] == {"other": "writer", "mine": "yes"}
    puts = [p for m, p in fake.log if m == "PUT"]
    assert len(puts) == 3  # fresh write, conflicting write, rebased write
    driver.close()


def test_configure_cluster_checks_the_shape_and_skips_when_it_differs(fake, tmp_path):
    def node(name, cp, ready=True):
        labels = {"node-role.kubernetes.io/control-plane": ""} if cp else {}
        return {"metadata": {"name": name, "labels": labels},
                "status": {"conditions": [{"type": "Ready",
                                           "status": "True" if ready else "False"}]}}

    fake.nodes = [node("cp", True), node("w1", False), node("w2", False)]
    driver = _driver(fake, tmp_path)
    driver.configure_cluster(1, 2)
    with pytest.raises(NotSupported, match="2 Ready worker node\\(s\\), not 3"):
        driver.configure_cluster(1, 3)
    fake.nodes[2] = node("w2", False, ready=False)
    with pytest.raises(NotSupported, match="1 node\\(s\\) not Ready"):
        driver.configure_cluster(1, 1)
    driver.close()


def test_node_failure_needs_permission_and_a_hook(fake, tmp_path):
    plain = _driver(fake, tmp_path, hooks={"fail_node": "true {node}"})
    assert "node-failure" not in plain.capabilities
    with pytest.raises(Refused, match="does not set allow_disruptive: true"):
        plain.fail_node("w1")  # a hook is there; the environment did not allow it
    no_hook = _driver(fake, tmp_path, allow_disruptive=True)
    with pytest.raises(NotSupported, match="node-failure"):
        no_hook.fail_node("w1")
    no_hook.close()
    marker = tmp_path / "failed"
    allowed = _driver(fake, tmp_path, allow_disruptive=True,
                      hooks={"fail_node": f"echo {{node}} > {marker}"})
    allowed.fail_node("worker 1")
    assert marker.read_text() == "worker 1\n"
    with pytest.raises(NotSupported, match="no 'recover_node' hook"):
        allowed.recover_node("worker 1")
    plain.close()
    allowed.close()


def test_a_node_the_scenario_failed_is_recovered_when_it_ends(fake, tmp_path, capsys):
    log = tmp_path / "hooks"
    driver = _driver(fake, tmp_path, allow_disruptive=True,
                     hooks={"fail_node": f"echo fail {{node}} >> {log}",
                            "recover_node": f"echo recover {{node}} >> {log}"})
    driver.open_scenario("kills a node")
    driver.fail_node("w1")
    driver.fail_node("w2")
    driver.recover_node("w2")
    driver.close_scenario(passed=True)
    assert log.read_text().splitlines() == ["fail w1", "fail w2", "recover w2", "recover w1"]
    no_recover = _driver(fake, tmp_path, allow_disruptive=True,
                         hooks={"fail_node": "true {node}"})
    no_recover.open_scenario("kills a node for good")
    no_recover.fail_node("w3")
    no_recover.close_scenario(passed=True)
    assert "node w3 was failed by the scenario and could not be recovered" in \
        capsys.readouterr().err
    driver.close()
    no_recover.close()


def test_unknown_options_and_policies_are_refused(fake, tmp_path):
    with pytest.raises(ConfigurationError, match="clean_up: unknown option"):
        _driver(fake, tmp_path, clean_up="always")
    with pytest.raises(ConfigurationError, match="cleanup: expected one of"):
        _driver(fake, tmp_path, cleanup="sometimes")


_INTERRUPTED = """
import sys, time
from kclusterkit.driver.kube import KubeDriver
driver = KubeDriver.from_config({"kubeconfig": sys.argv[1]}, run_id="sig")
driver.open_scenario("interrupted")
print(driver.namespace, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_namespace(fake, tmp_path, sig):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _INTERRUPTED, str(fake.kubeconfig(tmp_path))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        ns = proc.stdout.readline().strip()
        assert ns in fake.namespaces
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert fake.namespaces == {}
    assert f"deleted namespace {ns}" in err
    assert proc.returncode != 0  # the signal still ends the run


def test_cleanup_command_removes_only_managed_namespaces(fake, tmp_path, capsys):
    kubeconfig = str(fake.kubeconfig(tmp_path))
    one = _driver(fake, tmp_path, run_id="one", cleanup="never")
    two = _driver(fake, tmp_path, run_id="two", cleanup="never")
    for driver in (one, two):
        driver.open_scenario("left behind")
        driver.close_scenario(passed=False)
    fake.namespaces["team"] = {"metadata": {"name": "team", "labels": {}}}

    assert cleanup.main(["--kubeconfig", kubeconfig, "--run", "one"]) == 0
    out = capsys.readouterr().out
    assert "deleted namespace kk-one-1 (run one, scenario 'left behind')" in out
    assert sorted(fake.namespaces) == ["kk-two-1", "team"]

    assert cleanup.main(["--kubeconfig", kubeconfig, "--all", "--yes"]) == 0
    assert sorted(fake.namespaces) == ["team"]
    assert cleanup.main(["--kubeconfig", kubeconfig, "--all", "--yes"]) == 0
    assert "nothing to clean up" in capsys.readouterr().out


def _labelled(name: str, **labels: str) -> dict:
    return {"metadata": {"name": name, "labels": labels}, "status": {"phase": "Active"}}


def test_cleanup_all_deletes_only_what_a_run_of_the_prefix_named(fake, tmp_path, capsys):
    kubeconfig = str(fake.kubeconfig(tmp_path))
    mine = _driver(fake, tmp_path, run_id="one", cleanup="never")
    mine.open_scenario("left behind")
    mine.close_scenario(passed=False)
    strangers = {
        # managed, but no run label and no prefix: somebody else's
        "team": _labelled("team", **{MANAGED_LABEL: "true"}),
        # both labels, but not a name a run of prefix kk gives
        "prod-x": _labelled("prod-x", **{MANAGED_LABEL: "true", RUN_LABEL: "x"}),
        # a kk name, but the run label does not match it
        "kk-one-7": _labelled("kk-one-7", **{MANAGED_LABEL: "true", RUN_LABEL: "two"}),
        # another prefix's run
        "qa-one-1": _labelled("qa-one-1", **{MANAGED_LABEL: "true", RUN_LABEL: "one"}),
    }
    fake.namespaces.update(strangers)

    assert cleanup.main(["--kubeconfig", kubeconfig, "--all", "--yes"]) == 0
    out = capsys.readouterr().out
    assert sorted(fake.namespaces) == sorted(strangers), out
    assert "will delete from http://127.0.0.1:" in out and "kk-one-1 (run one" in out
    assert "(run ?" not in out

    assert cleanup.main(["--kubeconfig", kubeconfig, "--all", "--yes", "--prefix", "qa"]) == 0
    assert "qa-one-1" not in fake.namespaces and "kk-one-7" in fake.namespaces


class _Terminal:
    def __init__(self, answer: str) -> None:
        self.answer = answer

    def isatty(self) -> bool:
        return True

    def readline(self) -> str:
        return self.answer


def test_cleanup_all_lists_and_asks_first(fake, tmp_path, capsys):
    kubeconfig = str(fake.kubeconfig(tmp_path))
    driver = _driver(fake, tmp_path, run_id="one", cleanup="never")
    driver.open_scenario("left behind")
    driver.close_scenario(passed=False)

    # a script (stdin not a terminal) without --yes is refused, nothing deleted
    assert cleanup.main(["--kubeconfig", kubeconfig, "--all"]) == 2
    seen = capsys.readouterr()
    assert "kk-one-1" in seen.out and "add --yes" in seen.err
    assert "kk-one-1" in fake.namespaces

    assert cleanup.main(["--kubeconfig", kubeconfig, "--all"], stdin=_Terminal("n\n")) == 1
    assert "Delete these 1 namespace(s)? [y/N]" in capsys.readouterr().out
    assert "kk-one-1" in fake.namespaces

    assert cleanup.main(["--kubeconfig", kubeconfig, "--all"], stdin=_Terminal("y\n")) == 0
    assert "kk-one-1" not in fake.namespaces


def test_cleanup_errors_name_the_cluster(fake, tmp_path, capsys):
    kubeconfig = str(fake.kubeconfig(tmp_path))
    fake.fail("/api/v1/namespaces", 403, "Forbidden", times=2)
    assert cleanup.main(["--kubeconfig", kubeconfig, "--run", "one"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"kclusterkit cleanup: {fake.url} (context fake): ")
    assert "\n" not in err


def test_cleanup_command_reports_an_unreachable_cluster_in_one_line(tmp_path, capsys):
    assert cleanup.main(["--kubeconfig", str(tmp_path / "none"), "--all"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kclusterkit cleanup: kubeconfig") and "\n" not in err
