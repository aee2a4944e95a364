from __future__ import annotations

import os
import sys

import pytest

from kclusterkit.driver.errors import ClusterTimeout, ConfigurationError, HookFailed, NotSupported
from kclusterkit.driver.hooks_exec import render, run_hook, validate_hooks


def test_hooks_are_checked_for_name_and_placeholders():
    assert validate_hooks({"fail_node": "docker stop {node}"}) == {
        "fail_node": "docker stop {node}"}
    with pytest.raises(ConfigurationError, match="hooks.fail_nodes: unknown hook"):
        validate_hooks({"fail_nodes": "x"})
    with pytest.raises(ConfigurationError, match=r"unknown placeholder \{name\}.*\{node\}"):
        validate_hooks({"fail_node": "docker stop {name}"})
    with pytest.raises(ConfigurationError, match="expected a shell command"):
        validate_hooks({"recover_node": ""})


def test_values_are_shell_quoted():
    assert render("docker stop {node}", node="a; rm -rf /") == "docker stop 'a; rm -rf /'"


def test_a_failing_hook_is_an_error_with_its_output_and_a_missing_one_is_a_skip():
    hooks = {"fail_node": "echo no such node {node} >&2; exit 3"}
    with pytest.raises(HookFailed, match="exited 3: no such node w1"):
        run_hook(hooks, "fail_node", node="w1")
    with pytest.raises(NotSupported, match="no 'recover_node' hook"):
        run_hook(hooks, "recover_node", node="w1")
    assert run_hook({"fail_node": "echo {node}"}, "fail_node", node="w1").stdout == "w1\n"


def test_every_hook_may_name_the_kubeconfig_and_runs_with_this_pythons_scripts_first(tmp_path):
    hooks = validate_hooks({"fail_node": "echo {node} {kubeconfig} {context}; "
                                         "command -v python"})
    result = run_hook(hooks, "fail_node", node="w 1", kubeconfig="/k c", context=None)
    said, found = result.stdout.splitlines()
    assert said == "w 1 /k c "  # each value quoted; an unset one empty
    assert os.path.dirname(found) == os.path.dirname(sys.executable)


def test_a_hook_that_hangs_is_a_timeout_naming_the_command():
    hooks = validate_hooks({"recover_node": "sleep 5"})
    with pytest.raises(ClusterTimeout, match=r"hook recover_node \(sleep 5\) did not finish"):
        run_hook(hooks, "recover_node", timeout=0.2, node="w1")
