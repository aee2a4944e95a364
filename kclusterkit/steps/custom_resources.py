"""Steps about extending the API: CustomResourceDefinitions and the objects they serve.

A scenario defines a CRD (a doc-string manifest), waits for the API server to establish it,
then uses the new kind like any other: "Given these objects:" creates custom objects, the
steps here check what the server did to them (schema defaults, pruned fields, refusals
with field paths, the status and scale subresources). CRDs are cluster-scoped: on a real
cluster the driver labels the scenario's CRD with the run and scenario, deletes it when the
scenario ends (or on SIGINT/SIGTERM) and never touches a CRD the run did not create.
"""

# ruff: noqa: E501  (a step's Example must stay on one line: the catalog prints it as is)
from __future__ import annotations

import json
from typing import Any

import yaml

from kclusterkit import safe_yaml
from kclusterkit.driver import Observation
from kclusterkit.errors import ApiError
from kclusterkit.steps._support import (
    ExpectationNotMet,
    Obj,
    StepUsageError,
    WaitRecord,
    WaitTimedOut,
    check_now,
    kk,
    step,
    wait_for,
)
from kclusterkit.steps.types import format_duration

CRDS = "customresourcedefinitions.apiextensions.k8s.io"
# How long a CRD may take to be Established (upstream: immediately on one API server,
# up to 5 s more with several).
ESTABLISH_SECONDS = 60.0
# Discovery follows an Established (or deleted) CRD a moment later on a real API server;
# no watch sees discovery change, so it is asked every POLL_EVERY cluster seconds.
DISCOVERY_SECONDS = 30.0
POLL_EVERY = 1.0


def _poll_until(context: Any, expected: str, check: Any, duration: float) -> None:
    """wait_for without watches: discovery changes are not events."""
    state = kk(context)
    record = WaitRecord(state.step_text, expected, "within", state.driver.now())
    state.waits.append(record)
    result = state.driver.poll(check, duration, POLL_EVERY)
    record.result = result
    if not result.ok:
        seed = f" (seed={state.seed})" if state.seed is not None else ""
        raise WaitTimedOut(f"expected {expected} within {format_duration(duration)}\n"
                           f"observed: {result.last.seen}\n"
                           f"waited {format_duration(result.waited)} of cluster time{seed}")


def _doc_string(context: Any, what: str) -> list[Obj]:
    text = context.text or ""
    try:
        docs = [d for d in safe_yaml.load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise StepUsageError(f"{what}: the doc-string is not valid YAML: {exc}") from None
    if not docs or not all(isinstance(d, dict) and d.get("kind") and d.get("apiVersion")
                           for d in docs):
        raise StepUsageError(f"{what}: the step needs a YAML manifest with apiVersion and "
                             'kind in a doc-string (between """ lines)')
    return docs


def _condition(crd: Obj | None, ctype: str) -> Obj:
    for cond in ((crd or {}).get("status") or {}).get("conditions") or []:
        if cond.get("type") == ctype:
            return cond
    return {}


def _conditions_text(crd: Obj | None) -> str:
    if crd is None:
        return "no such CustomResourceDefinition"
    conds = ((crd.get("status") or {}).get("conditions")) or []
    return ", ".join(f"{c.get('type')}={c.get('status')} ({c.get('reason', '')}: "
                     f"{c.get('message', '')})" for c in conds) or "no conditions yet"


def _serves(driver: Any, resource: str) -> Observation:
    try:
        items = driver.list(resource)
    except ApiError as exc:
        if exc.code == 404:
            return Observation(False, f"not served: {exc}")
        raise
    return Observation(True, f"served ({len(items)} object(s) in the namespace)")


@step("given", "the custom resource definition:")
def the_custom_resource_definition(context: Any) -> None:
    """Create the CustomResourceDefinition in the doc-string and wait until the API server
    has accepted its names and established it (condition Established=True).

    Example: Given the custom resource definition:
    """
    docs = _doc_string(context, "the custom resource definition")
    if len(docs) != 1 or docs[0].get("kind") != "CustomResourceDefinition":
        raise StepUsageError("the custom resource definition: the doc-string must hold one "
                             "CustomResourceDefinition (apiextensions.k8s.io/v1)")
    driver = kk(context).driver
    created = driver.create(docs[0])
    name = created["metadata"]["name"]

    def established() -> Observation:
        crd = driver.get(CRDS, name, "")
        ok = _condition(crd, "Established").get("status") == "True"
        return Observation(ok, _conditions_text(crd), [crd] if crd else [])

    wait_for(context, f'CustomResourceDefinition "{name}" to be Established', established,
             ESTABLISH_SECONDS, kinds=(CRDS,))
    spec = created.get("spec") or {}
    resource = f"{(spec.get('names') or {}).get('plural', '')}.{spec.get('group', '')}"
    _poll_until(context, f'the API to serve "{resource}"', lambda: _serves(driver, resource),
                DISCOVERY_SECONDS)


@step("then", 'the custom resource definition "{name:Q}" has names accepted')
def names_accepted(context: Any, name: str) -> None:
    """The CRD's NamesAccepted condition is True (no other CRD of its group holds a name).

    Example: Then the custom resource definition "crontabs.stable.example.com" has names accepted
    """
    driver = kk(context).driver

    def check() -> Observation:
        crd = driver.get(CRDS, name, "")
        ok = _condition(crd, "NamesAccepted").get("status") == "True"
        return Observation(ok, _conditions_text(crd), [crd] if crd else [])

    check_now(context, f'CustomResourceDefinition "{name}" to have its names accepted', check)


@step("then", 'the API serves "{resource:Q}"')
def the_api_serves(context: Any, resource: str) -> None:
    """The API server serves the resource (``plural.group``, or any name kubectl takes):
    listing it in the scenario's namespace works.

    Example: Then the API serves "crontabs.stable.example.com"
    """
    driver = kk(context).driver
    check_now(context, f'the API to serve "{resource}"', lambda: _serves(driver, resource))


@step("then", 'the API serves kind "{kind:Q}"')
def the_api_serves_kind(context: Any, kind: str) -> None:
    """The API server serves a resource of this kind (``CronTab``), found through discovery
    as kubectl finds it.

    Example: Then the API serves kind "CronTab"
    """
    driver = kk(context).driver
    check_now(context, f'the API to serve kind "{kind}"', lambda: _serves(driver, kind))


@step("when", 'the custom resource definition "{name:Q}" is deleted')
def delete_crd(context: Any, name: str) -> None:
    """Delete the scenario's CRD: the API server deletes its objects, then the API.

    Example: When the custom resource definition "crontabs.stable.example.com" is deleted
    """
    kk(context).driver.delete(CRDS, name, "")


@step("then", 'the API does not serve "{resource:Q}" within {d:Duration}')
def the_api_stops_serving(context: Any, resource: str, d: float) -> None:
    """The resource is gone from the API (after its CRD was deleted).

    Example: Then the API does not serve "crontabs.stable.example.com" within 1 minute
    """
    driver = kk(context).driver

    def check() -> Observation:
        seen = _serves(driver, resource)
        return Observation(not seen.ok, seen.seen)

    _poll_until(context, f'the API to stop serving "{resource}"', check, d)


@step("then", 'creating this object is refused with "{text:Q}":')
def creating_is_refused(context: Any, text: str) -> None:
    """Creating the object in the doc-string is refused by the API server (422 Invalid or
    another 4xx) with a message containing the text (a field path and what is wrong).

    Example: Then creating this object is refused with "spec.replicas: Invalid value":
    """
    driver = kk(context).driver
    for doc in _doc_string(context, "creating this object is refused"):
        name = (doc.get("metadata") or {}).get("name", "")
        try:
            driver.create(doc)
        except ApiError as exc:
            if 400 <= exc.code < 500 and text in str(exc):
                continue
            raise ExpectationNotMet(f'expected creating {doc["kind"]} "{name}" to be refused '
                                    f'with "{text}"\nobserved: {exc.code} {exc}') from None
        raise ExpectationNotMet(f'expected creating {doc["kind"]} "{name}" to be refused '
                                f'with "{text}"\nobserved: it was created')


def _field(obj: Obj | None, path: str) -> tuple[bool, Any]:
    node: Any = obj
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@step("then", 'the {kind:w} "{name:Q}" has "{path:Q}" set to "{value:Q}"')
def has_field(context: Any, kind: str, name: str, path: str, value: str) -> None:
    """The stored object has the field (a dotted path) with this value (numbers and
    booleans as JSON writes them).

    Example: Then the crontab "nightly" has "spec.image" set to "busybox"
    """
    driver = kk(context).driver

    def check() -> Observation:
        obj = driver.get(kind, name)
        found, got = _field(obj, path)
        seen = f"{path}: {_text(got)}" if found else f"{path}: not set"
        if obj is None:
            seen = f'no {kind} "{name}"'
        return Observation(found and _text(got) == value, seen, [obj] if obj else [])

    check_now(context, f'{kind} "{name}" to have {path} = {value}', check)


@step("then", 'the {kind:w} "{name:Q}" has no "{path:Q}"')
def has_no_field(context: Any, kind: str, name: str, path: str) -> None:
    """The stored object does not have the field (pruned by the schema, or never set).

    Example: Then the crontab "nightly" has no "spec.colour"
    """
    driver = kk(context).driver

    def check() -> Observation:
        obj = driver.get(kind, name)
        found, got = _field(obj, path)
        seen = f"{path}: {_text(got)}" if found else f"{path}: not set"
        if obj is None:
            seen = f'no {kind} "{name}"'
        return Observation(obj is not None and not found, seen, [obj] if obj else [])

    check_now(context, f'{kind} "{name}" to have no {path}', check)


def _patch_body(context: Any, what: str) -> Obj:
    try:
        body = safe_yaml.load(context.text or "")
    except yaml.YAMLError as exc:
        raise StepUsageError(f"{what}: the doc-string is not valid YAML: {exc}") from None
    if not isinstance(body, dict):
        raise StepUsageError(f"{what}: the doc-string must be a YAML mapping (a merge patch)")
    return body


@step("when", 'I merge into the {kind:w} "{name:Q}":')
def merge_into(context: Any, kind: str, name: str) -> None:
    """A JSON merge patch of the object through its main endpoint (with a status
    subresource, the server ignores status changes there).

    Example: When I merge into the crontab "nightly":
    """
    kk(context).driver.patch(kind, name, _patch_body(context, "I merge into"), "merge")


@step("when", 'I merge into the status of the {kind:w} "{name:Q}":')
def merge_into_status(context: Any, kind: str, name: str) -> None:
    """A JSON merge patch through the ``status`` subresource (the server keeps everything
    but the status).

    Example: When I merge into the status of the crontab "nightly":
    """
    kk(context).driver.patch(kind, name, _patch_body(context, "I merge into the status"),
                             "merge", subresource="status")


@step("when", 'I scale the {kind:w} "{name:Q}" to {n:N} replica(s)')
def scale_custom(context: Any, kind: str, name: str, n: int) -> None:
    """Set replicas through the object's ``scale`` subresource (autoscaling/v1 Scale), as
    ``kubectl scale`` and the HorizontalPodAutoscaler do.

    Example: When I scale the crontab "nightly" to 5 replicas
    """
    kk(context).driver.scale(kind, name, n)
