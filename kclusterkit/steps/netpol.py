"""Steps about NetworkPolicy: who may talk to whom, checked as a matrix.

Policies are written the Kubernetes way (podSelector, ingress/egress rules, policyTypes) by
a few plain Given steps, or as YAML with "Given these objects:". What they do is checked by
trying connections from client pods (busybox ``nc -z``, as the network steps do) and
comparing every cell of a table — from × to → reachable? — with what was seen; a failure
prints the whole matrix, expected against observed, the way connectivity truth tables of
NetworkPolicy test tools do. On a cluster whose network plugin does not enforce policies
the table fails with what was reachable: that is the finding.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import re
from typing import Any

from kclusterkit.steps._support import (
    ExpectationNotMet,
    StepUsageError,
    is_terminating,
    kk,
    owner_pods,
    step,
)
from kclusterkit.steps.types import format_duration
from kclusterkit.steps.workloads import container_for

_LABEL = re.compile(r"^([A-Za-z0-9./_-]+)=([A-Za-z0-9._-]*)$")
_IN = r'(?: in namespace "([^"]+)")?'
_FROM = re.compile(r'^pod "([^"]+)"' + _IN + "$")
_TO = re.compile(r'^(pod|service|deployment) "([^"]+)"' + _IN + "$")
NC_TIMEOUT = 2


def _label(text: str) -> dict[str, str]:
    match = _LABEL.match(text)
    if not match:
        raise StepUsageError(f'"{text}" is not a label: expected key=value, e.g. "app=api"')
    return {match.group(1): match.group(2)}


def _policy(context: Any, name: str, spec: dict[str, Any]) -> None:
    kk(context).driver.create({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                               "metadata": {"name": name}, "spec": spec})


@step("given", 'a pod "{name:Q}" labelled "{label:Q}" running "{image:Q}"')
def labelled_pod(context: Any, name: str, label: str, image: str) -> None:
    """A pod with a label, to be a client (or a target) in connection checks.

    Example: Given a pod "api" labelled "app=api" running "busybox:1.36 sleep 3600"
    """
    kk(context).driver.create({"apiVersion": "v1", "kind": "Pod",
                               "metadata": {"name": name, "labels": _label(label)},
                               "spec": {"containers": [container_for(image)]}})


@step("given", 'a network policy "{name:Q}" that denies all ingress')
def deny_ingress(context: Any, name: str) -> None:
    """Default deny: every pod of the namespace is isolated for ingress, nothing allowed.

    Example: Given a network policy "default-deny" that denies all ingress
    """
    _policy(context, name, {"podSelector": {}, "policyTypes": ["Ingress"]})


@step("given", 'a network policy "{name:Q}" that denies all egress')
def deny_egress(context: Any, name: str) -> None:
    """Every pod of the namespace is isolated for egress (name resolution included).

    Example: Given a network policy "no-egress" that denies all egress
    """
    _policy(context, name, {"podSelector": {}, "policyTypes": ["Egress"]})


@step("given", 'a network policy "{name:Q}" that lets pods labelled "{source:Q}" reach pods labelled "{target:Q}" on port {port:N}')
def allow_from(context: Any, name: str, source: str, target: str, port: int) -> None:
    """Ingress to the target pods from the source pods (same namespace) on a TCP port.

    Example: Given a network policy "api-to-db" that lets pods labelled "app=api" reach pods labelled "app=db" on port 8080
    """
    _policy(context, name, {
        "podSelector": {"matchLabels": _label(target)}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": _label(source)}}],
                     "ports": [{"protocol": "TCP", "port": port}]}]})


@step("given", 'a network policy "{name:Q}" that lets pods in namespace "{ns:Q}" reach pods labelled "{target:Q}" on port {port:N}')
def allow_from_namespace(context: Any, name: str, ns: str, target: str, port: int) -> None:
    """Ingress to the target pods from every pod of that namespace, picked by the label
    the API server gives every namespace (kubernetes.io/metadata.name = its real name).

    Example: Given a network policy "from-partners" that lets pods in namespace "partners" reach pods labelled "app=db" on port 8080
    """
    _policy(context, name, {
        "podSelector": {"matchLabels": _label(target)}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": kk(context).namespace(ns)}}}],
            "ports": [{"protocol": "TCP", "port": port}]}]})


@step("given", 'a network policy "{name:Q}" that lets pods in namespaces labelled "{label:Q}" reach pods labelled "{target:Q}" on port {port:N}')
def allow_from_namespaces(context: Any, name: str, label: str, target: str, port: int) -> None:
    """Ingress to the target pods from every pod of the namespaces carrying the label.

    Example: Given a network policy "from-web-team" that lets pods in namespaces labelled "team=web" reach pods labelled "app=db" on port 8080
    """
    _policy(context, name, {
        "podSelector": {"matchLabels": _label(target)}, "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {"matchLabels": _label(label)}}],
                     "ports": [{"protocol": "TCP", "port": port}]}]})


@step("given", 'a network policy "{name:Q}" that lets pods labelled "{source:Q}" send only to pods labelled "{target:Q}" on port {port:N} and to the cluster DNS')
def egress_only_to(context: Any, name: str, source: str, target: str, port: int) -> None:
    """Egress isolation of the source pods: they may open connections only to the target
    pods on that port, and query the cluster DNS (UDP and TCP 53 to kube-system's
    k8s-app=kube-dns pods) — without that rule they could not resolve a Service name.

    Example: Given a network policy "api-out" that lets pods labelled "app=api" send only to pods labelled "app=db" on port 8080 and to the cluster DNS
    """
    _policy(context, name, {
        "podSelector": {"matchLabels": _label(source)}, "policyTypes": ["Egress"],
        "egress": [
            {"to": [{"podSelector": {"matchLabels": _label(target)}}],
             "ports": [{"protocol": "TCP", "port": port}]},
            {"to": [{"namespaceSelector": {"matchLabels": {
                "kubernetes.io/metadata.name": "kube-system"}},
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
             "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]}]})


def _targets(context: Any, text: str, client_ns: str) -> list[tuple[str, str]]:
    """(label, address) for a "to" cell: a pod's IP, a service's name (``name.namespace``
    from a client in another namespace), or every pod of a deployment by IP."""
    match = _TO.match(text.strip())
    if not match:
        raise StepUsageError(f'"{text}" is not a target: expected pod "NAME", service "NAME" '
                             'or deployment "NAME", each optionally followed by in namespace '
                             '"NS"')
    kind, name, in_ns = match.groups()
    state = kk(context)
    driver = state.driver
    ns = state.namespace(in_ns) if in_ns else driver.namespace
    if kind == "service":
        if driver.get("services", name, ns) is None:
            raise StepUsageError(f'service "{name}" does not exist in namespace "{ns}"')
        return [(text, name if ns == client_ns else f"{name}.{ns}")]
    if kind == "pod":
        pod = driver.get("pods", name, ns)
        ip = ((pod or {}).get("status") or {}).get("podIP")
        if not ip:
            raise StepUsageError(f'pod "{name}" ' + ("does not exist" if pod is None
                                                    else "has no IP yet"))
        return [(text, ip)]
    if in_ns:
        owner = driver.get("deployment", name, ns)
        pods = [p for p in driver.list("pods", ns, labels=f"app={name}")] if owner else []
    else:
        owner, pods = owner_pods(driver, "deployment", name)
    if owner is None:
        raise StepUsageError(f'deployment "{name}" does not exist')
    out = [(f'pod "{p["metadata"]["name"]}"', p["status"]["podIP"]) for p in pods
           if not is_terminating(p) and (p.get("status") or {}).get("podIP")]
    if not out:
        raise StepUsageError(f'deployment "{name}" has no pod with an IP yet')
    return out


def _yes_no(text: str) -> bool:
    value = text.strip().lower()
    if value not in ("yes", "no"):
        raise StepUsageError(f'reachable: expected yes or no, got "{text}"')
    return value == "yes"


@step("then", "these connections hold within {d:Duration}:")
def connections_hold(context: Any, d: float) -> None:
    """Every row (from | to | port | reachable) holds: "yes" rows connect, "no" rows do not,
    all at the same time, within d (tried once a second). A failure prints the whole
    matrix, expected against observed, with what nc said.

    Example: Then these connections hold within 30 seconds:
    """
    table = getattr(context, "table", None)
    if table is None:
        raise StepUsageError("this step needs a table: | from | to | port | reachable |")
    wanted = [h for h in ("from", "to", "port", "reachable") if h not in table.headings]
    if wanted:
        raise StepUsageError(f"the table needs the columns from, to, port, reachable "
                             f"(missing: {', '.join(wanted)})")
    rows = []
    for row in table:
        source = _FROM.match(row["from"].strip())
        if not source:
            raise StepUsageError(f'"{row["from"]}" is not a client: expected pod "NAME" or '
                                 'pod "NAME" in namespace "NS"')
        if not row["port"].strip().isdigit():
            raise StepUsageError(f'port: expected a number, got "{row["port"]}"')
        rows.append((source.group(1), source.group(2), row["to"].strip(), int(row["port"]),
                     _yes_no(row["reachable"])))
    state = kk(context)
    driver = state.driver
    started = driver.now()
    while True:
        seen: list[tuple[str, str, int, bool, bool, str]] = []
        for client, client_in, to, port, want in rows:
            client_ns = state.namespace(client_in) if client_in else driver.namespace
            shown = f'pod "{client}"' + (f' in namespace "{client_in}"' if client_in else "")
            for label, address in _targets(context, to, client_ns):
                result = driver.exec(client, ["nc", "-z", "-v", "-w", str(NC_TIMEOUT),
                                              address, str(port)], namespace=client_ns)
                ok = result.exit_code == 0
                said = (result.stderr or result.stdout).strip().splitlines()
                seen.append((shown, label if label != to else to, port, want, ok,
                             said[-1] if said else f"exit {result.exit_code}"))
        if all(want == ok for *_, want, ok, _ in seen):
            return
        waited = driver.now() - started
        if waited >= d:
            raise ExpectationNotMet(_matrix(seen, d, waited, driver.seed))
        driver.sleep(min(1.0, d - waited))


def _matrix(seen: list[tuple[str, str, int, bool, bool, str]], d: float, waited: float,
            seed: int | None) -> str:
    heads = ("FROM", "TO", "PORT", "EXPECTED", "OBSERVED", "")
    cells = [heads] + [(src, dst, str(port), "yes" if want else "no", "yes" if ok else "no",
                        "" if want == ok else f"<-- wrong ({said})")
                       for src, dst, port, want, ok, said in seen]
    widths = [max(len(r[i]) for r in cells) for i in range(5)]
    lines = ["  " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r[:5])) + "  " + r[5]
             for r in cells]
    wrong = sum(1 for *_, want, ok, _ in seen if want != ok)
    note = f" (seed={seed})" if seed is not None else ""
    return (f"expected these connections to hold within {format_duration(d)}\n"
            f"observed: {wrong} of {len(seen)} wrong after {format_duration(waited)} of "
            f"cluster time{note}\n" + "\n".join(line.rstrip() for line in lines))
