"""The framework's own exceptions; a client's or simulator's error is chained as the cause."""

from __future__ import annotations

from typing import Any


class ClusterError(Exception):
    """Anything that went wrong talking to the cluster."""


class ApiError(ClusterError):
    """The API server refused a request; carries its Status (reason, code, causes)."""

    def __init__(self, code: int, reason: str, message: str,
                 status: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.status = status or {}

    @property
    def causes(self) -> list[dict[str, Any]]:
        return list((self.status.get("details") or {}).get("causes") or [])

    def __str__(self) -> str:
        return self.message


class NotSupported(ClusterError):
    """The target cannot do this (a declared capability is missing): the step is skipped."""


class Unreachable(ClusterError):
    """The cluster could not be reached at all (bad kubeconfig, closed port, no route)."""
