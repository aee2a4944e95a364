@custom_resources
Feature: Custom resources extend the API
  A CustomResourceDefinition teaches the API server a new kind. Once the server has
  accepted its names and established it, the kind is served like a built-in one; its
  objects are checked against the definition's schema (refused with the field at fault,
  defaults filled in, unknown fields dropped), and the status and scale subresources
  behave as they do for the built-in workloads. Deleting the definition takes its objects
  and its API away.

  Scenario: A custom resource definition becomes an API
    Given the custom resource definition:
      """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: crontabs.stable.example.com
      spec:
        group: stable.example.com
        scope: Namespaced
        names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
        versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    cronSpec: {type: string}
                    image: {type: string, default: busybox}
      """
    Then the custom resource definition "crontabs.stable.example.com" has names accepted
    And the API serves "crontabs.stable.example.com"
    And the API serves kind "CronTab"
    Given these objects:
      """
      apiVersion: stable.example.com/v1
      kind: CronTab
      metadata:
        name: nightly
      spec:
        cronSpec: "0 3 * * *"
      """
    Then the crontab "nightly" has "spec.cronSpec" set to "0 3 * * *"
    And the ct "nightly" has "spec.image" set to "busybox"

  Scenario: Objects that break the schema are refused with the field at fault, unknown fields are dropped
    Given the custom resource definition:
      """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: widgets.validation.example.com
      spec:
        group: validation.example.com
        scope: Namespaced
        names: {plural: widgets, singular: widget, kind: Widget}
        versions:
        - name: v1
          served: true
          storage: true
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  required: [size]
                  properties:
                    size: {type: string, enum: [small, large]}
                    replicas: {type: integer, minimum: 1, maximum: 10}
      """
    Then creating this object is refused with "spec.replicas in body must be of type integer":
      """
      apiVersion: validation.example.com/v1
      kind: Widget
      metadata: {name: wordy}
      spec: {size: small, replicas: three}
      """
    And creating this object is refused with "spec.replicas in body should be less than or equal to 10":
      """
      apiVersion: validation.example.com/v1
      kind: Widget
      metadata: {name: too-many}
      spec: {size: small, replicas: 11}
      """
    And creating this object is refused with "spec.size: Unsupported value":
      """
      apiVersion: validation.example.com/v1
      kind: Widget
      metadata: {name: odd}
      spec: {size: medium}
      """
    And creating this object is refused with "spec.size: Required value":
      """
      apiVersion: validation.example.com/v1
      kind: Widget
      metadata: {name: shapeless}
      spec: {replicas: 2}
      """
    Given these objects:
      """
      apiVersion: validation.example.com/v1
      kind: Widget
      metadata: {name: plain}
      spec: {size: large, colour: blue}
      """
    Then the widget "plain" has "spec.size" set to "large"
    And the widget "plain" has no "spec.colour"

  Scenario: The status subresource keeps spec and status apart
    Given the custom resource definition:
      """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: gadgets.status.example.com
      spec:
        group: status.example.com
        scope: Namespaced
        names: {plural: gadgets, singular: gadget, kind: Gadget}
        versions:
        - name: v1
          served: true
          storage: true
          subresources: {status: {}}
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    size: {type: integer}
                status:
                  type: object
                  properties:
                    phase: {type: string}
      """
    Given these objects:
      """
      apiVersion: status.example.com/v1
      kind: Gadget
      metadata: {name: g}
      spec: {size: 1}
      status: {phase: Made-up}
      """
    Then the gadget "g" has no "status"
    When I merge into the status of the gadget "g":
      """
      spec: {size: 5}
      status: {phase: Running}
      """
    Then the gadget "g" has "status.phase" set to "Running"
    And the gadget "g" has "spec.size" set to "1"
    When I merge into the gadget "g":
      """
      spec: {size: 2}
      status: {phase: Lost}
      """
    Then the gadget "g" has "spec.size" set to "2"
    And the gadget "g" has "status.phase" set to "Running"

  Scenario: The scale subresource sets replicas where the definition says, and deleting the definition removes the API
    Given the custom resource definition:
      """
      apiVersion: apiextensions.k8s.io/v1
      kind: CustomResourceDefinition
      metadata:
        name: scalers.scale.example.com
      spec:
        group: scale.example.com
        scope: Namespaced
        names: {plural: scalers, singular: scaler, kind: Scaler}
        versions:
        - name: v1
          served: true
          storage: true
          subresources:
            status: {}
            scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
          schema:
            openAPIV3Schema:
              type: object
              properties:
                spec:
                  type: object
                  properties:
                    replicas: {type: integer}
                status:
                  type: object
                  properties:
                    replicas: {type: integer}
      """
    Given these objects:
      """
      apiVersion: scale.example.com/v1
      kind: Scaler
      metadata: {name: s}
      spec: {replicas: 1}
      """
    When I scale the scaler "s" to 4 replicas
    Then the scaler "s" has "spec.replicas" set to "4"
    When the custom resource definition "scalers.scale.example.com" is deleted
    Then the API does not serve "scalers.scale.example.com" within 1 minute
