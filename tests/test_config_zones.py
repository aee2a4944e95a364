"""The cluster section's optional ``zones:``: validated, and carried to the simulator."""

from __future__ import annotations

from pathlib import Path

import pytest

from kclusterkit.config import load_environment
from kclusterkit.driver.factory import cluster_spec
from tests.test_config import error_of


def test_zones_reach_the_cluster_spec(tmp_path: Path) -> None:
    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "sim.yaml").write_text(
        "target: sim\ncluster:\n  zones: [eu-1a, eu-1b, eu-1c]\n")
    env = load_environment("sim", tmp_path)
    assert env.cluster.zones == ("eu-1a", "eu-1b", "eu-1c")
    assert cluster_spec(env).zones == ("eu-1a", "eu-1b", "eu-1c")


@pytest.mark.parametrize("value", ["zone-a", "[]", "[a, a]", "['-bad']", "[1]"])
def test_bad_zones_name_the_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  value: str) -> None:
    message = error_of(tmp_path, f"cluster:\n  zones: {value}\n", monkeypatch)
    assert message.startswith("environments/sim.yaml: cluster.zones: expected a list of ")
