@access
Feature: Who may do what
  The API server is the only entrance to the cluster and it controls access: a request
  without credentials is refused, a service account can do what its roles allow and
  nothing more, a namespace admin's power stops at its namespace, a pod calls the API
  with the token mounted into it, and a pod naming a missing service account is refused.

  Scenario: An unauthenticated request is refused
    Then an unauthenticated request to the API server is refused

  Scenario: A reader can read but not write
    Given a service account "reader" with role "view"
    Then service account "reader" can list pods
    And service account "reader" can get deployments.apps
    And service account "reader" cannot delete pods
    And service account "reader" cannot create deployments.apps
    And service account "reader" cannot get secrets
    And service account "reader" cannot list pods in namespace "kube-system"

  Scenario: A namespace admin cannot touch another namespace
    Given a service account "ops" with role "admin"
    Then the access rules hold
      | subject                | verb   | resource                          | namespace   | allowed |
      | service account ops    | delete | pods                              |             | yes     |
      | service account ops    | create | rolebindings.rbac.authorization.k8s.io |        | yes     |
      | service account ops    | delete | pods                              | kube-system | no      |
      | service account ops    | list   | secrets                           | kube-public | no      |
      | service account reader | list   | pods                              |             | no      |

  Scenario: A cluster-wide binding reaches every namespace, and the components have their roles
    Given a service account "auditor" with cluster role "view" bound cluster-wide
    Then service account "auditor" can list pods in namespace "kube-system"
    And service account "auditor" cannot delete pods in namespace "kube-system"
    And the access rules hold
      | subject                   | verb   | resource      | namespace   | allowed |
      | user system:kube-scheduler | create | pods/binding  | kube-system | yes     |
      | user system:kube-scheduler | delete | nodes         |             | no      |
      | group system:masters      | delete | nodes         |             | yes     |

  Scenario: A role grants exactly its verbs, subresources included
    Given a role "log-reader" allowing get, list on pods, pods/log
    And a service account "auditor" with role "log-reader"
    Then service account "auditor" can get pods/log
    And service account "auditor" cannot create pods/exec
    And service account "auditor" cannot delete pods

  Scenario: A pod uses its own token
    Given a service account "reader" with role "view"
    And a pod "client" running "busybox:1.36 sleep 3600" as service account "reader"
    And a pod "stranger" running "busybox:1.36 sleep 3600" as service account "default"
    Then pod "client" can list pods with its own token
    And pod "stranger" cannot list pods with its own token

  Scenario: A pod naming a missing service account is refused
    Then a pod "ghost" as service account "nobody" is refused because the service account does not exist
