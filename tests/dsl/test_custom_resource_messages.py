"""What a user sees when a custom resource step fails: the expectation, what the server
did, and which doc-string was wrong."""

from __future__ import annotations

from tests.dsl.conftest import Project

CRD = '''
      """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata: {name: things.example.com}
      spec:
        group: example.com
        scope: Namespaced
        names: {plural: things, kind: Thing}
        versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec: {type: object, properties: {size: {type: integer}}}
      """
'''


def test_an_object_that_is_accepted_fails_the_refusal_step(project: Project) -> None:
    project.feature(f"""
        Feature: Things
          Scenario: A valid thing is not refused
            Given the custom resource definition:
        {CRD}
            Then creating this object is refused with "spec.size":
              \"\"\"
              apiVersion: example.com/v1
              kind: Thing
              metadata: {{name: fine}}
              spec: {{size: 3}}
              \"\"\"
            Then the thing "fine" has "spec.size" set to "4"
    """)
    run = project.behave()
    assert run.code != 0, run.out
    assert 'expected creating Thing "fine" to be refused with "spec.size"' in run.out, run.out
    assert "observed: it was created" in run.out, run.out


def test_a_refusal_with_other_words_shows_what_the_server_said(project: Project) -> None:
    project.feature(f"""
        Feature: Things
          Scenario: Refused, but not for the expected reason
            Given the custom resource definition:
        {CRD}
            Then creating this object is refused with "spec.colour":
              \"\"\"
              apiVersion: example.com/v1
              kind: Thing
              metadata: {{name: wrong}}
              spec: {{size: big}}
              \"\"\"
    """)
    run = project.behave()
    assert run.code != 0, run.out
    assert ('observed: 422 Thing.example.com "wrong" is invalid: spec.size: Invalid value: '
            '"string": spec.size in body must be of type integer: "string"') in run.out, run.out


def test_a_definition_that_is_not_one_is_a_misuse(project: Project) -> None:
    project.feature("""
        Feature: Things
          Scenario: Not a CRD
            Given the custom resource definition:
              \"\"\"
              apiVersion: v1
              kind: ConfigMap
              metadata: {name: x}
              \"\"\"
    """)
    run = project.behave()
    assert run.code != 0, run.out
    assert "the doc-string must hold one CustomResourceDefinition" in run.out, run.out
