"""A control-plane step that names what does not exist says what does (issue: bad input)."""

from __future__ import annotations

from tests.dsl.conftest import Project

FEATURE = '''
Feature: Control plane
  Scenario: Control plane
    Given a cluster with 3 control-plane nodes and 1 worker node
    {when}
'''


def test_an_unknown_component_lists_the_known_ones(project: Project) -> None:
    project.feature(FEATURE.format(when="When the kube-dns stops"))
    run = project.behave()
    assert run.code == 1, run.out
    assert ('there is no control-plane component "kube-dns" (known: scheduler, controller '
            'manager, API server, etcd)') in run.out
    assert "Traceback" not in run.out


def test_an_unknown_control_plane_node_lists_the_control_plane_nodes(project: Project) -> None:
    project.feature(FEATURE.format(when='When the scheduler on node "worker-1" stops'))
    run = project.behave()
    assert run.code == 1, run.out
    assert ('there is no control-plane node "worker-1" (control-plane nodes: control-plane, '
            'control-plane-2, control-plane-3)') in run.out


def test_the_control_plane_node_needs_there_to_be_one(project: Project) -> None:
    project.feature(FEATURE.format(when="When the control-plane node fails"))
    run = project.behave()
    assert run.code == 1, run.out
    assert "the cluster has 3 control-plane nodes (control-plane, control-plane-2, " \
        "control-plane-3): say which, or use 'a control-plane node fails'" in run.out
