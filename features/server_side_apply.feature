@apply
Feature: Server-side apply
  Teams, pipelines and controllers share objects. Server-side apply records which field
  manager set which field, refuses an apply that would change another manager's field
  unless it is forced, shares a field set to the same value, and removes a field an
  applier stops sending when nobody else manages it.

  Scenario: Applying the same configuration twice is harmless, and the applier manages its fields
    When manager "ci" applies:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {mode: fast, level: "3"}
      """
    And manager "ci" applies:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {mode: fast, level: "3"}
      """
    Then field "data.mode" of configmap "settings" is managed by "ci"

  Scenario: Another manager's field conflicts until the apply is forced
    When manager "ci" applies:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        replicas: 1
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers: [{name: nginx, image: "nginx:1.25"}]
      """
    Then applying as "autoscaler" conflicts with "ci" on "spec.replicas":
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec: {replicas: 3}
      """
    When manager "autoscaler" applies with force:
      """
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec: {replicas: 3}
      """
    Then field "spec.replicas" of deployment "web" is managed by "autoscaler"
    And field "spec.replicas" of deployment "web" is not managed by "ci"

  Scenario: A field the applier stops sending goes, unless another manager shares it
    When manager "ci" applies:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {mode: fast, level: "3", owner: team-a}
      """
    And manager "dashboard" applies:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {owner: team-a}
      """
    And manager "ci" applies:
      """
      apiVersion: v1
      kind: ConfigMap
      metadata: {name: settings}
      data: {mode: fast}
      """
    Then configmap "settings" has no field "data.level"
    And field "data.owner" of configmap "settings" is managed by "dashboard"
    And field "data.owner" of configmap "settings" is not managed by "ci"
