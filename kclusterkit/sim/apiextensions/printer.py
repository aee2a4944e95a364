"""The Table a custom resource is printed as (``kubectl get crontabs``).

apiextensions-apiserver pkg/registry/customresource/tableconvertor: a ``Name`` column, then
the version's ``additionalPrinterColumns`` (each cell the first JSONPath result, typed as
the column says; a ``date`` becomes an age like "5m"), or, for a version that declares
none, the default ``Age`` column on ``.metadata.creationTimestamp``
(customresource_handler.go serveDefaultColumnsIfEmpty).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim.apiextensions.registry import Served

NAME_DOC = ("Name must be unique within a namespace. Is required when creating resources, "
            "although some resources may allow a client to request the generation of an "
            "appropriate name automatically. Name is primarily intended for creation "
            "idempotence and configuration definition. Cannot be updated. More info: "
            "https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names")
AGE_COLUMN = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp",
              "description": "CreationTimestamp is a timestamp representing the server time "
                             "when this object was created. It is not guaranteed to be set "
                             "in happens-before order across separate operations. Clients may "
                             "not set this value. It is represented in RFC3339 form and is in "
                             "UTC.\n\nPopulated by the system. Read-only. Null for lists. More "
                             "info: https://git.k8s.io/community/contributors/devel/"
                             "sig-architecture/api-conventions.md#metadata"}
_STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


def columns(served: Served, version: str) -> list[dict[str, Any]]:
    return served.columns(version) or [AGE_COLUMN]


def column_definitions(served: Served, version: str) -> list[dict[str, Any]]:
    out = [{"name": "Name", "type": "string", "format": "name", "description": NAME_DOC,
            "priority": 0}]
    for col in columns(served, version):
        out.append({"name": col.get("name", ""), "type": col.get("type", "string"),
                    "format": col.get("format", ""), "description": col.get("description", ""),
                    "priority": int(col.get("priority", 0) or 0)})
    return out


def find(obj: Any, path: str) -> Any:
    """The first result of a simple JSONPath (``.spec.replicas``, ``.status.conditions[0]``)."""
    node = obj
    text = path.strip().strip("{}")
    for match in _STEP.finditer(text):
        key, index = match.groups()
        if key is not None:
            node = node.get(key) if isinstance(node, dict) else None
        else:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) \
                else None
        if node is None:
            return None
    return node


def printer(served: Served, version: str,
            human_age: Callable[[str, datetime], str]) -> Callable[[Obj, datetime], list[Any]]:
    cols = columns(served, version)

    def cells(obj: Obj, now: datetime) -> list[Any]:
        row: list[Any] = [obj["metadata"]["name"]]
        for col in cols:
            value = find(obj, str(col.get("jsonPath", "")))
            ctype = col.get("type")
            if value is None:
                row.append(None)
            elif ctype == "string":
                row.append(value if isinstance(value, str) else json.dumps(value))
            elif ctype == "date":
                row.append(human_age(value, now) if isinstance(value, str) else None)
            else:
                row.append(value)
        return row

    return cells
