"""Server-side apply: who manages which field, conflicts between managers, force.

Teams, pipelines and controllers share objects; server-side apply records which manager
set which field (``metadata.managedFields``), refuses an apply that would change another
manager's field (409, naming the fields) unless forced, and removes fields an applier
stops sending. These steps apply YAML doc-strings as a named field manager through the
driver and read ownership back from the object's managedFields, so they mean the same on
the simulator and on a real cluster.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

from typing import Any

import yaml

from kclusterkit import safe_yaml
from kclusterkit.driver import Observation
from kclusterkit.errors import ApiError
from kclusterkit.kube.fieldsv1 import FieldsError, decode, path_string
from kclusterkit.steps._support import ExpectationNotMet, Obj, StepUsageError, check_now, kk, step


def _documents(context: Any) -> list[Obj]:
    try:
        docs = [d for d in safe_yaml.load_all(context.text or "") if d is not None]
    except yaml.YAMLError as exc:
        raise StepUsageError(f"the doc-string is not valid YAML: {exc}") from None
    if not docs or not all(isinstance(d, dict) and d.get("apiVersion") and d.get("kind")
                           and (d.get("metadata") or {}).get("name") for d in docs):
        raise StepUsageError("the step needs YAML objects with apiVersion, kind and "
                             'metadata.name in a doc-string (between """ lines)')
    return docs


def _field(text: str) -> str:
    return text if text.startswith(".") else "." + text


@step("when", 'manager "{manager:Q}" applies:')
def manager_applies(context: Any, manager: str) -> None:
    """Server-side apply of the doc-string's objects as a field manager (created when absent).

    Example: When manager "ci" applies:
    """
    for doc in _documents(context):
        kk(context).driver.apply(doc, manager)


@step("when", 'manager "{manager:Q}" applies with force:')
def manager_applies_with_force(context: Any, manager: str) -> None:
    """Server-side apply that takes the fields other managers own (``--force-conflicts``).

    Example: When manager "autoscaler" applies with force:
    """
    for doc in _documents(context):
        kk(context).driver.apply(doc, manager, force=True)


@step("then", 'applying as "{manager:Q}" conflicts with "{owner:Q}" on "{field:Q}":')
def applying_conflicts(context: Any, manager: str, owner: str, field: str) -> None:
    """The doc-string's apply is refused with a 409 Conflict naming the field and its owner.

    Example: Then applying as "autoscaler" conflicts with "ci" on "spec.replicas":
    """
    wanted = _field(field)
    expected = f'applying as "{manager}" to conflict with "{owner}" on {wanted}'
    for doc in _documents(context):
        try:
            kk(context).driver.apply(doc, manager)
        except ApiError as exc:
            if exc.code != 409:
                raise
            causes = [(c.get("field"), c.get("message", "")) for c in exc.causes]
            if any(f == wanted and f'"{owner}"' in m for f, m in causes):
                continue
            raise ExpectationNotMet(f"expected {expected}\nobserved: {exc.message}") from None
        raise ExpectationNotMet(f"expected {expected}\nobserved: the apply succeeded")


def _owners(obj: Obj) -> dict[str, list[str]]:
    """Field path -> the managers owning it (``manager (Operation)``)."""
    out: dict[str, list[str]] = {}
    for entry in obj["metadata"].get("managedFields") or []:
        try:
            paths = decode(entry.get("fieldsV1") or {})
        except FieldsError:
            continue
        for path in paths:
            out.setdefault(path_string(path), []).append(
                f'{entry.get("manager")} ({entry.get("operation")})')
    return out


def _ownership_check(context: Any, kind: str, name: str, field: str, manager: str,
                     managed: bool) -> None:
    wanted = _field(field)
    driver = kk(context).driver

    def check() -> Observation:
        obj = driver.get(kind, name)
        if obj is None:
            return Observation(False, f'{kind} "{name}" does not exist')
        owners = _owners(obj).get(wanted, [])
        has = any(o.rsplit(" (", 1)[0] == manager for o in owners)
        return Observation(has == managed, f"{wanted} is managed by "
                           f"{', '.join(owners) or 'nobody'}", [obj])

    no = "" if managed else "not "
    check_now(context, f'{wanted} of {kind} "{name}" {no}to be managed by "{manager}"', check)


@step("then", 'field "{field:Q}" of {kind:w} "{name:Q}" is managed by "{manager:Q}"')
def field_is_managed_by(context: Any, field: str, kind: str, name: str, manager: str) -> None:
    """The object's managedFields give the field to that manager (perhaps among others).

    Example: Then field "spec.replicas" of deployment "web" is managed by "autoscaler"
    """
    _ownership_check(context, kind, name, field, manager, True)


@step("then", 'field "{field:Q}" of {kind:w} "{name:Q}" is not managed by "{manager:Q}"')
def field_is_not_managed_by(context: Any, field: str, kind: str, name: str,
                            manager: str) -> None:
    """The object's managedFields do not give the field to that manager.

    Example: Then field "spec.replicas" of deployment "web" is not managed by "ci"
    """
    _ownership_check(context, kind, name, field, manager, False)


@step("then", '{kind:w} "{name:Q}" has no field "{field:Q}"')
def has_no_field(context: Any, kind: str, name: str, field: str) -> None:
    """The object does not set the field (a dotted path of map keys), e.g. after the
    applier that owned it stopped sending it.

    Example: Then configmap "settings" has no field "data.level"
    """
    parts = _field(field)[1:].split(".")
    driver = kk(context).driver

    def check() -> Observation:
        obj = driver.get(kind, name)
        if obj is None:
            return Observation(False, f'{kind} "{name}" does not exist')
        node: Any = obj
        for part in parts:
            if not isinstance(node, dict) or part not in node:
                return Observation(True, f"{field} is not set", [obj])
            node = node[part]
        return Observation(False, f"{field} is {node!r}", [obj])

    check_now(context, f'{kind} "{name}" to have no field {field}', check)
