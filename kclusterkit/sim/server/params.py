"""Reading a request's query the way the API server does (flags, integers, dryRun,
selectors, the container a pod subresource names), shared by the REST handlers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from kclusterkit.kube.meta import SelectorError, dig, parse_field_selector, parse_label_selector
from kclusterkit.sim import errors, field_labels
from kclusterkit.sim import patch as patching
from kclusterkit.sim.errors import StatusError
from kclusterkit.sim.resources import Resource

PATCH_TYPES = (patching.JSON_PATCH, patching.MERGE_PATCH, patching.STRATEGIC_MERGE_PATCH,
               patching.APPLY_PATCH)


def flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("true", "1")


def dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise errors.bad_request(f'Invalid dry run value: "{value}": supported values: "All"')
    return bool(values)


def int_param(request: web.Request, name: str) -> int | None:
    value = request.query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise errors.bad_request(f'{name}: Invalid value: "{value}": must be an integer') from None


def not_allowed(*allow: str) -> StatusError:
    err = errors.method_not_allowed("the server does not allow this method on the requested "
                                    "resource")
    if allow:  # RFC 9110: a 405 names the methods the resource does allow
        err.headers = {"Allow": ", ".join(allow)}  # type: ignore[attr-defined]
    return err


def selectors(request: web.Request,
              res: Resource | None = None) -> tuple[list[Any], list[Any]]:
    try:
        labels = parse_label_selector(request.query.get("labelSelector"))
        fields_ = parse_field_selector(request.query.get("fieldSelector"))
        if res is not None:  # handlers/get.go: each term through the kind's label conversion
            fields_ = [(field_labels.convert(res, f), eq, v) for f, eq, v in fields_]
    except (SelectorError, field_labels.FieldLabelError) as exc:
        raise errors.bad_request(str(exc)) from None
    return labels, fields_


def container_of(pod: dict[str, Any], wanted: str | None) -> str:
    """The container a pods/log or pods/exec request means (kubectl's default-container
    annotation, or the only one)."""
    names = [c["name"] for c in dig(pod, "spec", "containers", default=[])]
    name = pod["metadata"]["name"]
    if wanted:
        init = [c["name"] for c in dig(pod, "spec", "initContainers", default=[])]
        if wanted not in names and wanted not in init:
            raise errors.bad_request(f"container {wanted} is not valid for pod {name}")
        return wanted
    default = dig(pod, "metadata", "annotations", "kubectl.kubernetes.io/default-container")
    if default in names:
        return default
    if len(names) == 1:
        return names[0]
    raise errors.bad_request(f"a container name must be specified for pod {name}, choose one "
                             f"of: [{' '.join(names)}]")
