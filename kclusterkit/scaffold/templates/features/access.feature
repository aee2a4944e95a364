@access
Feature: Who may do what
  The API server refuses a request without credentials, and a service account may do what
  its roles allow in its namespace and nothing more.

  Scenario: An unauthenticated request is refused
    Then an unauthenticated request to the API server is refused

  Scenario: A reader can read but not write
    Given a service account "reader" with role "view"
    Then the access rules hold
      | subject                | verb   | resource         | namespace   | allowed |
      | service account reader | list   | pods             |             | yes     |
      | service account reader | get    | deployments.apps |             | yes     |
      | service account reader | delete | pods             |             | no      |
      | service account reader | get    | secrets          |             | no      |
      | service account reader | list   | pods             | kube-system | no      |
