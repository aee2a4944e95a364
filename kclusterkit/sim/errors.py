"""API errors in the shape the Kubernetes API server returns them.

Every refusal is a ``metav1.Status`` with upstream's reason, code and message wording, so
the in-process driver and the HTTP server report the same thing a real cluster would.
"""

from __future__ import annotations

from typing import Any

from kclusterkit.errors import ApiError

# The simulator's refusals are the package's ApiError (a subclass per reason), the very
# type the real-cluster driver raises for a Status it receives.
StatusError = ApiError


def _qualified(kind_plural: str, group: str) -> str:
    # schema.GroupResource.String(): "deployments.apps", or just "pods" for the core group.
    return f"{kind_plural}.{group}" if group else kind_plural


def _details(kind: str, group: str, name: str) -> dict[str, Any]:
    """A Status's details; ``group`` is left out for the core group."""
    return {"name": name, **({"group": group} if group else {}), "kind": kind}


# NotFound, AlreadyExists and Conflict carry the resource (plural) in details.kind, as
# NewNotFound/NewAlreadyExists/NewConflict fill it from qualifiedResource.Resource.


def not_found(plural: str, group: str, name: str) -> StatusError:
    return StatusError(
        404,
        "NotFound",
        f'{_qualified(plural, group)} "{name}" not found',
        _details(plural, group, name),
    )


def already_exists(plural: str, group: str, name: str) -> StatusError:
    return StatusError(
        409,
        "AlreadyExists",
        f'{_qualified(plural, group)} "{name}" already exists',
        _details(plural, group, name),
    )


def conflict(plural: str, group: str, name: str) -> StatusError:
    return StatusError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {_qualified(plural, group)} "{name}": '
        "the object has been modified; please apply your changes to the latest version "
        "and try again",
        _details(plural, group, name),
    )


def invalid(kind: str, group: str, name: str, causes: list[tuple[str, str, str]]) -> StatusError:
    """422 Invalid; ``causes`` are (reason, field path, message) as field.Error renders them.

    ``reason`` is one of FieldValueRequired, FieldValueInvalid, FieldValueNotSupported,
    FieldValueDuplicate, FieldValueForbidden, FieldValueTooLong. As NewInvalid does
    (apimachinery api/errors/errors.go), the message aggregates the causes through
    ErrorList.ToAggregate: repeated texts are dropped, one error is printed bare and several
    inside ``[...]`` joined by ", "; ``details.kind`` is the Kind (not the resource).
    """
    qualified = _qualified(kind, group)
    seen: set[str] = set()
    texts: list[str] = []
    for _, field, msg in causes:
        text = f"{field}: {msg}"
        if text not in seen:
            seen.add(text)
            texts.append(text)
    if not texts:
        message = f'{qualified} "{name}" is invalid'
    elif len(texts) == 1:
        message = f'{qualified} "{name}" is invalid: {texts[0]}'
    else:
        message = f'{qualified} "{name}" is invalid: [' + ", ".join(texts) + "]"
    return StatusError(
        422,
        "Invalid",
        message,
        {
            **_details(kind, group, name),
            "causes": [{"reason": r, "message": m, "field": f} for r, f, m in causes],
        },
    )


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def method_not_allowed(message: str) -> StatusError:
    return StatusError(405, "MethodNotAllowed", message)


def gone(message: str) -> StatusError:
    """NewResourceExpired: 410 with reason ``Expired`` (not the deprecated ``Gone``)."""
    return StatusError(410, "Expired", message)


def too_old_resource_version(requested: int | str, oldest: int | str) -> StatusError:
    """What a watch or list from a compacted resourceVersion gets (apiserver watch cache)."""
    return gone(f"too old resource version: {requested} ({oldest})")


def unavailable(message: str) -> StatusError:
    return StatusError(503, "ServiceUnavailable", message)


def forbidden(message: str) -> StatusError:
    return StatusError(403, "Forbidden", message)
