"""A Job's pod failure policy, following pkg/controller/job/pod_failure_policy.go.

The rules are tried in order against a failed pod: ``onExitCodes`` (a terminated container,
optionally named, whose non-zero exit code is ``In`` / ``NotIn`` the values; init
containers first) or ``onPodConditions`` (a condition such as ``DisruptionTarget`` with the
given status). The first match decides: ``Ignore`` (the failure is not counted against
``backoffLimit``), ``Count`` (counted as usual) or ``FailJob`` (the whole Job fails with
reason ``PodFailurePolicy`` and upstream's message). No rule matching means Count.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.kube.meta import Obj

REASON = "PodFailurePolicy"


def _matching_container(statuses: list[dict[str, Any]], req: dict[str, Any]
                        ) -> dict[str, Any] | None:
    """getMatchingContainerFromList."""
    values = req.get("values") or []
    for cs in statuses:
        term = (cs.get("state") or {}).get("terminated")
        if term is None:
            continue
        if req.get("containerName") not in (None, cs.get("name")):
            continue
        code = term.get("exitCode", 0)
        if code == 0:
            continue
        inside = code in values
        if (req.get("operator") == "In" and inside) or \
                (req.get("operator") == "NotIn" and not inside):
            return cs
    return None


def match(job: Obj, pod: Obj) -> tuple[str, str | None]:
    """matchPodFailurePolicy: the action for a failed pod ("Ignore", "Count", "FailJob")
    and, for FailJob, the message the Job's Failed condition carries."""
    rules = (((job.get("spec") or {}).get("podFailurePolicy") or {}).get("rules")) or []
    status = pod.get("status") or {}
    ns, name = pod["metadata"].get("namespace", ""), pod["metadata"]["name"]
    for index, rule in enumerate(rules):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            req = rule["onExitCodes"]
            cs = _matching_container(status.get("initContainerStatuses") or [], req) or \
                _matching_container(status.get("containerStatuses") or [], req)
            if cs is None:
                continue
            if action == "FailJob":
                code = cs["state"]["terminated"].get("exitCode", 0)
                return action, (f"Container {cs.get('name')} for pod {ns}/{name} failed with "
                                f"exit code {code} matching {action} rule at index {index}")
        elif rule.get("onPodConditions") is not None:
            cond = _matching_condition(status.get("conditions") or [], rule["onPodConditions"])
            if cond is None:
                continue
            if action == "FailJob":
                return action, (f"Pod {ns}/{name} has condition {cond.get('type')} matching "
                                f"{action} rule at index {index}")
        else:
            continue
        if action in ("Ignore", "Count"):
            return action, None
    return "Count", None


def _matching_condition(conditions: list[dict[str, Any]], patterns: list[dict[str, Any]]
                        ) -> dict[str, Any] | None:
    """matchOnPodConditions."""
    for cond in conditions:
        for pattern in patterns:
            if cond.get("type") == pattern.get("type") and \
                    cond.get("status") == pattern.get("status", "True"):
                return cond
    return None
