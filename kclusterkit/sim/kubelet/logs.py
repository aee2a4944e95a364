"""Container logs as the kubelet hands them out (pkg/kubelet/kuberuntime/logs/logs.go).

The runtime keeps every line with the instant it was written; ``kubectl logs`` options
select from them as ReadLogs does: ``tailLines`` first (the last N lines of the file), then
``sinceTime``/``sinceSeconds`` drop older lines, ``timestamps`` prefixes each line with its
time in RFC3339NanoFixed and a space, and ``limitBytes`` cuts what is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

# A container log: (cluster seconds it was written, the line without its newline).
LogLine = tuple[float, str]


@dataclass(frozen=True)
class LogOptions:
    """What PodLogOptions select (``since`` is already in cluster seconds)."""

    timestamps: bool = False
    since: float | None = None
    tail: int | None = None
    limit_bytes: int | None = None


def nano_timestamp(epoch: datetime, at: float) -> str:
    """types.RFC3339NanoFixed: ``2006-01-02T15:04:05.000000000Z07:00`` (always 9 digits)."""
    whole = math.floor(at)
    nanos = round((at - whole) * 1e9)
    if nanos >= 1_000_000_000:
        whole, nanos = whole + 1, nanos - 1_000_000_000
    moment = epoch + timedelta(seconds=whole)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{nanos:09d}Z"


def render(lines: list[LogLine], options: LogOptions, epoch: datetime) -> str:
    """The log text ReadLogs writes for ``options``."""
    if options.tail is not None and options.tail >= 0:
        lines = lines[len(lines) - options.tail:] if options.tail else []
    if options.since is not None:
        since = options.since
        lines = [entry for entry in lines if entry[0] >= since - 1e-9]
    if options.timestamps:
        text = "".join(f"{nano_timestamp(epoch, at)} {line}\n" for at, line in lines)
    else:
        text = "".join(line + "\n" for _, line in lines)
    if options.limit_bytes is not None and options.limit_bytes > 0:
        text = text.encode()[:options.limit_bytes].decode(errors="ignore")
    return text
