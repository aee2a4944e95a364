"""The package's exceptions, one tree, chosen by whose fault it was.

A failed scenario must say whether the cluster misbehaved, the run was set up wrong, or the
target simply cannot do what a step asks; a report that blames the step for a cluster that
stopped answering sends people looking in the wrong place. So (kopf's model):

- ``ConfigurationError`` — an environment file, a kubeconfig, a hook template is unusable;
- ``Refused`` — kclusterkit will not do it here (write outside the run's own namespaces);
- ``NotSupported`` — the target lacks a capability (the step is skipped with the reason);
- ``ClusterError`` — the cluster, or an operator's hook, failed us: ``Unreachable``,
  ``ClusterTimeout``, ``HookFailed``, and ``ApiError`` for every refusal an API server
  answers with a ``Status``, one subclass per reason (``NotFound``, ``Conflict``,
  ``Invalid`` …). The simulator raises the very same ``ApiError`` its HTTP server turns
  into a Status, and the real-cluster driver builds it from the Status it receives, with
  the client's exception chained as the cause: one type, not two translated by hand.

This module imports nothing of kclusterkit, so every layer may use it.
"""

from __future__ import annotations

from typing import Any


class KclusterkitError(Exception):
    """Anything kclusterkit reports as its own."""


class ConfigurationError(KclusterkitError):
    """An environment file, kubeconfig or hook setting cannot be used (one line, which file)."""


class Refused(KclusterkitError):
    """kclusterkit will not do this on this target (e.g. write in a namespace it did not
    create)."""


class NotSupported(KclusterkitError):
    """The target cannot do this (a declared capability is missing): the step is skipped."""


class ClusterError(KclusterkitError):
    """The cluster (or an operator's hook acting on it) failed."""


class Unreachable(ClusterError):
    """The cluster could not be reached at all (closed port, no route, refused credentials)."""


class ClusterTimeout(ClusterError):
    """The cluster did not finish something in time (an exec, a hook command)."""


class HookFailed(ClusterError):
    """An environment's hook command exited non-zero; carries its command, code and output."""


class ApiError(ClusterError):
    """The API server refused a request: its Status (code, reason, message, details).

    ``ApiError(code, reason, …)`` makes the subclass for the reason (or, failing that, the
    code), so ``except NotFound`` works whoever raised it."""

    def __new__(cls, code: int = 500, reason: str = "", message: str = "",
                details: dict[str, Any] | None = None, *,
                status: dict[str, Any] | None = None) -> ApiError:
        if cls is ApiError:
            cls = _BY_REASON.get(reason) or _BY_CODE.get(code) or \
                (ServerError if code >= 500 else ApiError)
        return super().__new__(cls)

    def __init__(self, code: int = 500, reason: str = "", message: str = "",
                 details: dict[str, Any] | None = None, *,
                 status: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        if details is None and status:
            details = status.get("details")
        self.details: dict[str, Any] = details or {}
        self._status = status

    @property
    def status(self) -> dict[str, Any]:
        """The Status object a client receives (as the server sent it, when one did)."""
        if self._status:
            return self._status
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message,
                                "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body

    @property
    def causes(self) -> list[dict[str, Any]]:
        return list(self.details.get("causes") or [])

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.code, self.reason, self.message, self.details, self._status))


def _rebuild(code: int, reason: str, message: str, details: dict[str, Any],
             status: dict[str, Any] | None) -> ApiError:
    return ApiError(code, reason, message, details, status=status)


class BadRequest(ApiError):
    """400."""


class Unauthorized(ApiError):
    """401: no or bad credentials."""


class Forbidden(ApiError):
    """403: authenticated, not allowed."""


class NotFound(ApiError):
    """404."""


class MethodNotAllowed(ApiError):
    """405."""


class Conflict(ApiError):
    """409 Conflict: someone else wrote first (a stale resourceVersion)."""


class AlreadyExists(ApiError):
    """409 AlreadyExists."""


class Gone(ApiError):
    """410 (reason Expired or Gone): a resourceVersion too old to watch or list from."""


class RequestEntityTooLarge(ApiError):
    """413."""


class UnsupportedMediaType(ApiError):
    """415."""


class Invalid(ApiError):
    """422: the object failed validation; ``causes`` name the fields."""


class TooManyRequests(ApiError):
    """429: throttled, or an eviction a disruption budget forbids for now."""


class ServerError(ApiError):
    """5xx: InternalError, ServiceUnavailable, Timeout …"""


_BY_REASON: dict[str, type[ApiError]] = {
    "BadRequest": BadRequest, "Unauthorized": Unauthorized, "Forbidden": Forbidden,
    "NotFound": NotFound, "MethodNotAllowed": MethodNotAllowed, "Conflict": Conflict,
    "AlreadyExists": AlreadyExists, "Gone": Gone, "Expired": Gone,
    "RequestEntityTooLarge": RequestEntityTooLarge,
    "UnsupportedMediaType": UnsupportedMediaType, "Invalid": Invalid,
    "TooManyRequests": TooManyRequests, "InternalError": ServerError,
    "ServiceUnavailable": ServerError, "Timeout": ServerError, "ServerTimeout": ServerError,
}
_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    409: Conflict, 410: Gone, 413: RequestEntityTooLarge, 415: UnsupportedMediaType,
    422: Invalid, 429: TooManyRequests,
}
