@discovery
Feature: Pods find Services by name
  A pod reaches a Service by its DNS name; names that no Service owns do not resolve.
  "{namespace}" stands for the scenario's namespace.

  Background:
    Given a deployment "echo" running "agnhost:2.53 netexec" with 2 replicas
    And a service "echo" on port 80 targeting port 8080 of deployment "echo"
    And a pod "client" running "busybox:1.36 sleep 3600"
    And pod "client" is running within 1 minute

  Scenario: A pod finds a service by its short and its namespaced name
    Then in pod "client" the name "echo" resolves to the cluster IP of service "echo"
    And in pod "client" the name "echo.{namespace}" resolves to the cluster IP of service "echo"

  Scenario: A name no service owns does not resolve
    Then in pod "client" the name "nope" does not resolve
