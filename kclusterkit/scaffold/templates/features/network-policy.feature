@network-policy
Feature: Network policies decide who may talk to whom
  Once a policy denies all ingress, pods accept only what another policy allows. On a real
  cluster this needs a network plugin that enforces NetworkPolicy: what was reachable
  anyway is the finding.

  Scenario: Default deny, then allow from one kind of pod
    Given a deployment "db" running "agnhost:2.53 netexec" with 1 replica
    And a service "db" on port 8080 targeting port 8080 of deployment "db"
    And a pod "api" labelled "app=api" running "busybox:1.36 sleep 3600"
    And a pod "web" labelled "app=web" running "busybox:1.36 sleep 3600"
    And pod "api" is running within 1 minute
    And pod "web" is running within 1 minute
    And deployment "db" is available within 1 minute
    Given a network policy "default-deny" that denies all ingress
    And a network policy "api-to-db" that lets pods labelled "app=api" reach pods labelled "app=db" on port 8080
    Then these connections hold within 30 seconds:
      | from      | to           | port | reachable |
      | pod "api" | service "db" | 8080 | yes       |
      | pod "web" | service "db" | 8080 | no        |
