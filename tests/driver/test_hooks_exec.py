from __future__ import annotations

import pytest

from kclusterkit.driver.errors import ClusterError, NotSupported
from kclusterkit.driver.hooks_exec import render, run_hook, validate_hooks


def test_hooks_are_checked_for_name_and_placeholders():
    assert validate_hooks({"fail_node": "docker stop {node}"}) == {
        "fail_node": "docker stop {node}"}
    with pytest.raises(ClusterError, match="hooks.fail_nodes: unknown hook"):
        validate_hooks({"fail_nodes": "x"})
    with pytest.raises(ClusterError, match=r"unknown placeholder \{name\}.*\{node\}"):
        validate_hooks({"fail_node": "docker stop {name}"})
    with pytest.raises(ClusterError, match="expected a shell command"):
        validate_hooks({"recover_node": ""})


def test_values_are_shell_quoted():
    assert render("docker stop {node}", node="a; rm -rf /") == "docker stop 'a; rm -rf /'"


def test_a_failing_hook_is_an_error_with_its_output_and_a_missing_one_is_a_skip():
    hooks = {"fail_node": "echo no such node {node} >&2; exit 3"}
    with pytest.raises(ClusterError, match="exited 3: no such node w1"):
        run_hook(hooks, "fail_node", node="w1")
    with pytest.raises(NotSupported, match="no 'recover_node' hook"):
        run_hook(hooks, "recover_node", node="w1")
    assert run_hook({"fail_node": "echo {node}"}, "fail_node", node="w1").stdout == "w1\n"
