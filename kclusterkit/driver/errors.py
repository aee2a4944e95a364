"""The errors drivers raise are the package's own (``kclusterkit.errors``); this module names
the ones the driver layer uses, so ``from kclusterkit.driver.errors import …`` keeps working
for users' steps."""

from __future__ import annotations

from kclusterkit.errors import (
    ApiError,
    ClusterError,
    ClusterTimeout,
    ConfigurationError,
    HookFailed,
    NotSupported,
    Refused,
    Unreachable,
)

__all__ = ["ApiError", "ClusterError", "ClusterTimeout", "ConfigurationError", "HookFailed",
           "NotSupported", "Refused", "Unreachable"]
