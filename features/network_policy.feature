@network @network-policy
Feature: Network policies decide who may talk to whom
  A NetworkPolicy isolates the pods it selects; isolated pods accept only what some policy
  allows (policies add up). Egress isolation covers name resolution too: a pod that may
  only send to the database cannot even look up a Service name unless DNS is allowed.

  Background:
    Given a deployment "db" running "agnhost:2.53 netexec" with 1 replica
    And a service "db" on port 8080 targeting port 8080 of deployment "db"
    And a pod "api" labelled "app=api" running "busybox:1.36 sleep 3600"
    And a pod "web" labelled "app=web" running "busybox:1.36 sleep 3600"
    And pod "api" is running within 1 minute
    And pod "web" is running within 1 minute
    And deployment "db" is available within 1 minute

  Scenario: Without policies every pod reaches every other
    Then these connections hold within 30 seconds:
      | from      | to              | port | reachable |
      | pod "api" | service "db"    | 8080 | yes       |
      | pod "web" | deployment "db" | 8080 | yes       |
      | pod "web" | pod "api"       | 8080 | no        |

  Scenario: Default deny, then allow from one kind of pod
    Given a network policy "default-deny" that denies all ingress
    And a network policy "api-to-db" that lets pods labelled "app=api" reach pods labelled "app=db" on port 8080
    Then these connections hold within 30 seconds:
      | from      | to              | port | reachable |
      | pod "api" | service "db"    | 8080 | yes       |
      | pod "api" | deployment "db" | 8080 | yes       |
      | pod "web" | service "db"    | 8080 | no        |
      | pod "web" | deployment "db" | 8080 | no        |

  Scenario: Egress isolation needs DNS allowed to use a Service's name
    Given a network policy "web-out" that lets pods labelled "app=web" send only to pods labelled "app=db" on port 8080 and to the cluster DNS
    And a network policy "api-out" that denies all egress
    Then these connections hold within 30 seconds:
      | from      | to              | port | reachable |
      | pod "web" | service "db"    | 8080 | yes       |
      | pod "api" | deployment "db" | 8080 | no        |
      | pod "api" | service "db"    | 8080 | no        |

  Scenario: Other namespaces are let in by their name or by their labels
    Given a namespace "frontend" labelled "team=web"
    And a namespace "partners"
    And a namespace "outside"
    And a pod "shop" in namespace "frontend" labelled "app=shop" running "busybox:1.36 sleep 3600"
    And a pod "partner" in namespace "partners" labelled "app=shop" running "busybox:1.36 sleep 3600"
    And a pod "stranger" in namespace "outside" labelled "app=shop" running "busybox:1.36 sleep 3600"
    And pod "shop" in namespace "frontend" is running within 1 minute
    And pod "partner" in namespace "partners" is running within 1 minute
    And pod "stranger" in namespace "outside" is running within 1 minute
    And a network policy "default-deny" that denies all ingress
    And a network policy "from-web-team" that lets pods in namespaces labelled "team=web" reach pods labelled "app=db" on port 8080
    And a network policy "from-partners" that lets pods in namespace "partners" reach pods labelled "app=db" on port 8080
    Then these connections hold within 30 seconds:
      | from                                    | to              | port | reachable |
      | pod "shop" in namespace "frontend"      | service "db"    | 8080 | yes       |
      | pod "partner" in namespace "partners"   | deployment "db" | 8080 | yes       |
      | pod "stranger" in namespace "outside"   | service "db"    | 8080 | no        |
      | pod "api"                               | service "db"    | 8080 | no        |
