"""Environment files: what a user who gets one wrong reads (one line, file and field)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kclusterkit.config import (
    BUILTIN_DIR,
    DEFAULT_SEED,
    EnvironmentFileError,
    available,
    builtin,
    load_environment,
    parse_environment,
    resolve_seed,
)

REPO = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str, name: str = "sim") -> Path:
    folder = tmp_path / "environments"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def error_of(tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, text)
    with pytest.raises(EnvironmentFileError) as info:
        load_environment("sim", tmp_path)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_shipped_environments_load() -> None:
    sim = load_environment("sim", REPO)
    assert (sim.target, sim.seed, sim.cluster.worker_nodes) == ("sim", 1, 2)
    ha = load_environment("sim-ha", REPO)
    assert ha.cluster.control_plane_nodes == 3


def test_values_and_timings_are_read(tmp_path: Path) -> None:
    write(tmp_path, "cluster:\n  worker_nodes: 5\n  node: {cpu: 500m, memory: 2Gi}\n"
                    "timings:\n  node_monitor_grace_period: 20\n")
    env = load_environment("sim", tmp_path)
    assert env.cluster.worker_nodes == 5
    assert (env.cluster.node.cpu, env.cluster.node.memory) == ("500m", "2Gi")
    assert env.timings == {"node_monitor_grace_period": 20.0}
    assert env.seed is None and env.target == "sim"


def test_wrong_type_names_file_and_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(tmp_path, "cluster:\n  worker_nodes: two\n", monkeypatch)
    assert message == ("environments/sim.yaml: cluster.worker_nodes: expected a whole number "
                       ">= 0, got 'two'")


def test_unknown_key_suggests_the_closest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(tmp_path, "cluster:\n  worker_node: 3\n", monkeypatch)
    assert message == ("environments/sim.yaml: cluster.worker_node: unknown key "
                       "(did you mean 'worker_nodes'?)")
    message = error_of(tmp_path, "timings:\n  node_monitor_grace: 3\n", monkeypatch)
    assert "timings.node_monitor_grace: unknown key (did you mean 'node_monitor_grace_period'?)" \
        in message
    message = error_of(tmp_path, "targte: sim\n", monkeypatch)
    assert message.endswith("targte: unknown key (did you mean 'target'?)")


def test_yaml_syntax_error_gives_file_and_line(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    message = error_of(tmp_path, "target: sim\ncluster:\n  worker_nodes: [1\n  x: 2\n",
                       monkeypatch)
    assert message.startswith("environments/sim.yaml:4: YAML syntax error:")


@pytest.mark.parametrize(("text", "expected"), [
    ("target: cloud\n", "target: expected one of sim, sim-api, kubeconfig, got 'cloud'"),
    ("cluster:\n  control_plane_nodes: 0\n",
     "cluster.control_plane_nodes: expected a whole number >= 1, got 0"),
    ("cluster:\n  node:\n    memory: lots\n",
     "cluster.node.memory: expected a memory quantity like 8Gi, got 'lots'"),
    ("cleanup: sometimes\n",
     "cleanup: expected one of always, on-success, never, got 'sometimes'"),
    ("timings:\n  hpa_sync_period: soon\n",
     "timings.hpa_sync_period: expected a number of seconds >= 0, got 'soon'"),
    ("seed: -1\n", "seed: expected a whole number >= 0, got -1"),
    ("- a\n- b\n", "expected a mapping of settings at the top, got list"),
    ("serve:\n  speed: 0\n", "serve.speed: expected a number > 0, got 0"),
    ("serve:\n  port: 70000\n",
     "serve.port: expected a port number from 0 (any free port) to 65535, got 70000"),
    ("serve:\n  sped: 10\n", "serve.sped: unknown key (did you mean 'speed'?)"),
    ("request_timeout: never\n",
     "request_timeout: expected a number > 0, got 'never'"),
    ("request_timeout: 0\n", "request_timeout: expected a number > 0, got 0"),
])
def test_invalid_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str,
                        expected: str) -> None:
    assert error_of(tmp_path, text, monkeypatch) == f"environments/sim.yaml: {expected}"


def test_missing_environment_suggests_a_name(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "target: sim\n", name="sim-ha")
    with pytest.raises(EnvironmentFileError, match=r"environments/sim-hq.yaml: no such "
                       r"environment file \(did you mean 'sim-ha'\?\)"):
        load_environment("sim-hq", tmp_path)


def test_target_options_pass_through() -> None:
    env = parse_environment({"target": "kubeconfig", "kubeconfig": "~/.kube/config",
                             "cleanup": "on-success", "allow_disruptive": True,
                             "hooks": {"fail_node": "ssh {node} poweroff"}}, "real", None)
    assert env.options == {"kubeconfig": "~/.kube/config", "cleanup": "on-success",
                           "allow_disruptive": True,
                           "hooks": {"fail_node": "ssh {node} poweroff"}}


def test_seed_precedence() -> None:
    with_seed = parse_environment({"seed": 7}, "x", None)
    without = parse_environment({}, "x", None)
    assert resolve_seed("42", with_seed) == 42
    assert resolve_seed(None, with_seed) == 7
    assert resolve_seed(None, without) == DEFAULT_SEED
    with pytest.raises(EnvironmentFileError, match="-D seed=abc: expected a whole number"):
        resolve_seed("abc", without)


def test_without_environments_folder_the_builtins_resolve(tmp_path: Path) -> None:
    env = load_environment("sim", tmp_path)
    assert (env.target, env.seed, env.cluster.worker_nodes) == ("sim", 1, 2)
    assert env.path is not None and env.path.parent == BUILTIN_DIR
    assert env.display == "kclusterkit:environments/sim.yaml"
    assert load_environment("sim-api", tmp_path).target == "sim-api"
    assert load_environment("kubeconfig", tmp_path).target == "kubeconfig"
    with pytest.raises(EnvironmentFileError, match=r"no such environment file \(did you mean "
                                                   r"'sim-ha'\?\)"):
        load_environment("sim-hq", tmp_path)


def test_the_projects_own_environment_wins_over_the_builtin(tmp_path: Path) -> None:
    write(tmp_path, "target: sim\nseed: 9\n", name="sim")
    assert load_environment("sim", tmp_path).seed == 9
    assert load_environment("sim-ha", tmp_path).cluster.control_plane_nodes == 3
    assert {"sim", "sim-ha", "sim-api", "kubeconfig"} <= set(available(tmp_path))


def test_the_package_ships_the_four_environments() -> None:
    assert {"sim", "sim-ha", "sim-api", "kubeconfig"} <= set(builtin())


def test_an_alias_bomb_in_an_environment_file_is_refused_with_its_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.test_safe_yaml import bomb

    message = error_of(tmp_path, "target: sim\n" + bomb(), monkeypatch)
    assert message.startswith("environments/sim.yaml:6: YAML syntax error: document contains "
                              "excessive aliasing"), message


def test_the_network_plugin_manifest_is_found_beside_the_environment_file(tmp_path) -> None:
    for name in ("sim-api", "sim-served"):
        manifest = load_environment(name).options["network_plugin_manifest"]
        assert Path(manifest).is_file() and manifest.endswith("manifests/kindnet.yaml")
    own = tmp_path / "environments"
    own.mkdir()
    (own / "kind.yaml").write_text("target: kubeconfig\nnetwork_plugin_manifest: cni.yaml\n")
    env = load_environment("kind", root=tmp_path)
    assert env.options["network_plugin_manifest"] == str(own / "cni.yaml")
