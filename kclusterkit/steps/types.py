"""The parameter types steps share, so every step reads numbers and durations alike.

Durations are cluster time said out loud (``30 seconds``, ``1 minute``, ``90s``); CPU and
memory are Kubernetes quantities (``100m``, ``0.5``, ``256Mi``); quoted names never contain
a double quote, which keeps patterns with several quoted fields unambiguous.
"""

from __future__ import annotations

import re

import parse
from behave import register_type

_UNITS = {
    "s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1,
    "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60,
    "h": 3600, "hour": 3600, "hours": 3600,
}
_PART = r"\d+(?:\.\d+)? ?(?:seconds?|secs?|s|minutes?|mins?|m|hours?|h)"
DURATION_PATTERN = rf"{_PART}(?: (?:and )?{_PART})?"
_PART_RE = re.compile(r"(\d+(?:\.\d+)?) ?([a-z]+)")


@parse.with_pattern(DURATION_PATTERN)
def parse_duration(text: str) -> float:
    """``30 seconds``, ``1 minute``, ``90s``, ``2m``, ``1 minute 30 seconds`` → seconds."""
    total = 0.0
    for amount, unit in _PART_RE.findall(text):
        total += float(amount) * _UNITS[unit]
    return total


@parse.with_pattern(r"[^\"]*")
def parse_quoted(text: str) -> str:
    """The text between double quotes (no quote inside)."""
    return text


@parse.with_pattern(r"\d+(?:\.\d+)?m?")
def parse_cpu(text: str) -> str:
    """A CPU quantity: ``100m``, ``0.5``, ``2``."""
    return text


@parse.with_pattern(r"\d+(?:\.\d+)?(?:Ki|Mi|Gi|Ti|k|M|G|T)?")
def parse_memory(text: str) -> str:
    """A memory quantity: ``256Mi``, ``1Gi``, ``500M``."""
    return text


@parse.with_pattern(r"\d+")
def parse_count(text: str) -> int:
    return int(text)


TYPES = {
    "Duration": parse_duration,
    "Q": parse_quoted,
    "Cpu": parse_cpu,
    "Memory": parse_memory,
    "N": parse_count,
}
register_type(**TYPES)


def format_duration(seconds: float) -> str:
    """Cluster seconds for people: ``30s``, ``1m30s``, ``0.5s``, ``1h2m``."""
    if seconds < 60:
        text = f"{seconds:.1f}".rstrip("0").rstrip(".")
        return f"{text}s"
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    out = f"{hours}h" if hours else ""
    if minutes:
        out += f"{minutes}m"
    if secs:
        out += f"{secs}s"
    return out
