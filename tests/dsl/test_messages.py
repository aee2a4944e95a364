"""What a person sees when a scenario fails, a step is unknown, or an input is wrong.

Each test runs behave as a subprocess on a throwaway project and asserts on its output.
"""

from __future__ import annotations

from tests.dsl.conftest import Project

WEB = '''
Feature: Web
  Scenario: Web
    Given a deployment "web" running "nginx:1.25" with 3 replicas
    {then}
'''


def test_a_failed_wait_says_expected_observed_waited_and_seed(project: Project) -> None:
    project.feature(WEB.format(then='Then deployment "web" has 4 ready pods within 30 seconds'))
    run = project.behave("-D", "seed=5")
    assert run.code == 1, run.out
    assert 'expected deployment "web" to have 4 ready pods within 30s' in run.out
    assert 'observed: 3 ready of 3 pods of deployment "web"' in run.out
    assert "NAME" in run.out and "Running" in run.out  # the pod table
    assert "waited 30s of cluster time (seed=5)" in run.out
    assert "seed=5 (replay: behave -D seed=5" in run.out
    assert "Traceback" not in run.out


def test_an_unknown_step_suggests_the_closest(project: Project) -> None:
    project.feature(WEB.format(then='When I remove a pod of deployment "web"'))
    run = project.behave()
    assert run.code == 1, run.out
    assert 'Unknown step: "I remove a pod of deployment "web""' in run.out
    did_you_mean = run.out.split("Did you mean:", 1)[1].strip().splitlines()
    assert did_you_mean[0].strip() == 'When I delete a pod of deployment "{name}"'


def test_a_step_like_no_other_says_so_instead_of_guessing(project: Project) -> None:
    project.feature(WEB.format(then='Given a resource quota "team-a"'))
    run = project.behave()
    assert run.code == 1, run.out
    assert "Did you mean" not in run.out
    assert "No known step is close to it: `kclusterkit steps` lists them all" in run.out
    assert '"Given these objects:"' in run.out


def test_a_malformed_yaml_doc_string_names_file_and_line(project: Project) -> None:
    project.feature('''
        Feature: YAML
          Scenario: Bad YAML
            Given the following deployment:
              """
              apiVersion: apps/v1
              kind: Deployment
              metadata:
                name: web
                labels: {app: web
              spec:
                replicas: 1
              """
        ''')
    run = project.behave()
    assert run.code == 1, run.out
    # the unclosed flow mapping is reported where YAML notices it: line 10 of the feature
    assert "features/test.feature:10: the YAML doc-string is not valid YAML" in run.out, run.out


def test_an_invalid_object_shows_the_api_error_and_field_path(project: Project) -> None:
    project.feature('''
        Feature: Invalid
          Scenario: Negative replicas
            Given these objects:
              """
              apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web}
              spec:
                replicas: -1
                selector: {matchLabels: {app: web}}
                template:
                  metadata: {labels: {app: web}}
                  spec:
                    containers: [{name: web, image: "nginx:1.25"}]
              """
        ''')
    run = project.behave()
    assert run.code == 1, run.out
    assert "the API server refused it: 422 Invalid:" in run.out
    assert "  spec.replicas: Invalid value: -1: must be greater than or equal to 0" in run.out
    assert "Traceback" not in run.out


def test_a_bad_environment_file_stops_with_one_line_and_exit_2(project: Project) -> None:
    project.file("environments/sim.yaml", "cluster:\n  worker_nodes: two\n")
    project.feature(WEB.format(then='Then deployment "web" has 3 ready pods within 1 minute'))
    run = project.behave()
    assert run.code == 2, run.out
    lines = [line for line in run.out.splitlines() if not line.startswith("USING RUNNER")]
    assert lines == ["kclusterkit: environments/sim.yaml: cluster.worker_nodes: expected a whole "
                     "number >= 0, got 'two'"]


def test_a_step_the_target_cannot_do_is_skipped_with_the_reason(project: Project) -> None:
    project.file("steps/custom.py", '''
        from kclusterkit.steps import kk, step

        @step("when", "the moon is full")
        def moon(context):
            """Needs a capability no target has.

            Example: When the moon is full
            """
            kk(context).driver.require("lunar-phase", "waiting for a full moon")
        ''')
    project.feature(WEB.format(then="When the moon is full"))
    run = project.behave()
    assert run.code == 0, run.out
    assert "1 skipped" in run.out
    assert "waiting for a full moon: target 'sim' cannot (lunar-phase)" in run.out


def test_the_cluster_shape_is_built_and_must_come_first(project: Project) -> None:
    project.feature('''
        Feature: Shape
          Scenario: Three workers
            Given a cluster with 1 control-plane node and 3 worker nodes
            Then every node is Ready within 1 minute
            And deployment "nothing" has 1 ready pod within 1 second

          Scenario: Too late
            Given a deployment "web" running "nginx:1.25" with 1 replica
            And a cluster with 1 control-plane node and 3 worker nodes
        ''')
    run = project.behave()
    assert run.code == 1, run.out
    assert 'observed: deployment "nothing" does not exist' in run.out
    assert "put the 'Given a cluster with …' step first" in run.out
    assert "Then every node is Ready within 1 minute ... passed" in run.out


def test_an_alias_bomb_in_a_doc_string_is_refused_with_its_line(project: Project) -> None:
    project.feature('''
        Feature: YAML
          Scenario: Bomb
            Given these objects:
              """
              apiVersion: v1
              kind: ConfigMap
              metadata: {name: lol}
              l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
              l1: &l1 [*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0,*l0]
              l2: &l2 [*l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1,*l1]
              l3: &l3 [*l2,*l2,*l2,*l2,*l2,*l2,*l2,*l2,*l2]
              l4: &l4 [*l3,*l3,*l3,*l3,*l3,*l3,*l3,*l3,*l3]
              l5: &l5 [*l4,*l4,*l4,*l4,*l4,*l4,*l4,*l4,*l4]
              """
        ''')
    run = project.behave()
    assert run.code == 1, run.out
    assert ("features/test.feature:12: the YAML doc-string is not valid YAML: document "
            "contains excessive aliasing") in run.out, run.out


def test_an_unquoted_numeric_name_in_a_doc_string_is_a_clear_error(project: Project) -> None:
    project.feature('''
        Feature: Invalid
          Scenario: Numeric name
            Given these objects:
              """
              apiVersion: v1
              kind: ConfigMap
              metadata: {name: 2024}
              """
        ''')
    run = project.behave()
    assert run.code == 1, run.out
    assert ("cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct "
            "field ObjectMeta.metadata.name of type string") in run.out, run.out
    assert "Traceback" not in run.out


def test_a_value_that_does_not_parse_is_named_with_what_is_accepted(project: Project) -> None:
    project.feature('''
        Feature: Values
          Scenario: A negative count
            Given a deployment "web" running "nginx:1.25" with -1 replicas
    ''')
    run = project.behave()
    assert run.code == 1, run.out
    assert "Unknown step" not in run.out
    assert '"-1" is not accepted here: expected a whole number, 0 or more (like 3)' in run.out
    assert "Traceback" not in run.out


def test_compact_and_spelt_out_durations_are_steps(project: Project) -> None:
    project.feature(WEB.format(then='Then deployment "web" has 3 ready pods within 1m30s\n'
                                    '    And deployment "web" has 3 ready pods for 1 minute '
                                    '30 seconds'))
    run = project.behave()
    assert run.code == 0, run.out
    assert "2 steps passed" not in run.out and "3 steps passed" in run.out


def test_a_duration_that_does_not_parse_says_which_and_what_is_accepted(project: Project) -> None:
    project.feature(WEB.format(then='Then deployment "web" has 3 ready pods within 5 days'))
    run = project.behave()
    assert run.code == 1, run.out
    assert "Unknown step" not in run.out and "Did you mean" not in run.out
    assert ('"5 days" is not accepted here (unknown unit \'days\'): expected a duration like '
            "30 seconds, 2 minutes, 1m30s or 1 minute 30 seconds") in run.out


def test_one_pod_is_a_pod(project: Project) -> None:
    project.feature(WEB.format(then='Then deployment "web" has 1 ready pod within 10 seconds'))
    run = project.behave()
    assert run.code == 1, run.out
    assert 'expected deployment "web" to have 1 ready pod within 10s' in run.out
    assert "1 ready pods" not in run.out


def test_an_environment_file_that_is_not_utf8_is_named(project: Project) -> None:
    (project.root / "environments" / "sim.yaml").write_bytes(b"target: sim\nseed: 1 # \xe9t\xe9\n")
    project.feature(WEB.format(then='Then deployment "web" has 3 ready pods within 1 minute'))
    run = project.behave()
    assert run.code == 2, run.out
    lines = [line for line in run.out.splitlines() if not line.startswith("USING RUNNER")]
    assert lines == ["kclusterkit: environments/sim.yaml:2: not UTF-8 text (byte 0xe9); save "
                     "the file as UTF-8"]


def test_a_bad_serve_speed_names_the_file(project: Project) -> None:
    project.file("environments/api.yaml", "target: sim-api\nserve:\n  speed: fast\n")
    project.feature(WEB.format(then='Then deployment "web" has 3 ready pods within 1 minute'))
    run = project.behave("-D", "env=api")
    assert run.code == 2, run.out
    lines = [line for line in run.out.splitlines() if not line.startswith("USING RUNNER")]
    assert lines == ["kclusterkit: environments/api.yaml: serve.speed: expected a number > 0, "
                     "got 'fast'"]


def test_the_replay_hint_of_an_environment_given_by_path_replays(project: Project) -> None:
    project.file("elsewhere/lab.yaml", "target: sim\nseed: 3\n")
    project.feature(WEB.format(then='Then deployment "web" has 4 ready pods within 10 seconds'))
    run = project.behave("-D", "env=elsewhere/lab.yaml")
    assert run.code == 1, run.out
    hint = "seed=3 (replay: behave -D seed=3 -D env=elsewhere/lab.yaml features/test.feature:2)"
    assert hint in run.out
    replay = project.behave("-D", "seed=3", "-D", "env=elsewhere/lab.yaml",
                            "features/test.feature:2")
    assert replay.code == 1 and hint in replay.out, replay.out
