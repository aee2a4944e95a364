"""The parameter types steps share, so every step reads numbers and durations alike.

Durations are cluster time said out loud (``30 seconds``, ``1 minute``, ``90s``,
``1m30s``); CPU and memory are Kubernetes quantities (``100m``, ``0.5``, ``256Mi``); quoted
names never contain a double quote, which keeps patterns with several quoted fields
unambiguous. A value that is in the right place but does not parse becomes a ``BadValue``,
which the step's guard turns into a failure naming the value and what is accepted.
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
_NUMBER = r"\d+(?:\.\d+)?"
# What a duration's place in a step accepts: number-and-word parts, so a value that is
# almost right (``-1 seconds``, ``5 days``, ``30``) reaches the step, which says what is
# wrong with it, instead of making the whole step unknown.
DURATION_PATTERN = (rf"-?{_NUMBER} ?[a-zA-Z]*(?:(?:,? (?:and )?| ?){_NUMBER} ?[a-zA-Z]*)*")
_PART_RE = re.compile(rf"({_NUMBER}) ?([a-zA-Z]*)")
DURATION_EXPECTED = "a duration like 30 seconds, 2 minutes, 1m30s or 1 minute 30 seconds"


class BadValue:
    """A value that took its place in a step's pattern but does not parse: the step is
    not run, and the failure says which value and what is accepted."""

    def __init__(self, text: str, expected: str, why: str = "") -> None:
        self.text = text
        self.expected = expected
        self.why = why

    def __str__(self) -> str:
        why = f" ({self.why})" if self.why else ""
        return f'"{self.text}" is not accepted here{why}: expected {self.expected}'

    def __repr__(self) -> str:
        return f"BadValue({self.text!r})"


@parse.with_pattern(DURATION_PATTERN)
def parse_duration(text: str) -> float | BadValue:
    """``30 seconds``, ``1 minute``, ``90s``, ``2m``, ``1m30s``, ``1 minute 30 seconds``
    → seconds."""
    if text.startswith("-"):
        return BadValue(text, DURATION_EXPECTED, "a duration cannot be negative")
    parts = _PART_RE.findall(text)
    total = 0.0
    for amount, unit in parts:
        if not unit:
            return BadValue(text, DURATION_EXPECTED, f"{amount} has no unit")
        if unit.lower() not in _UNITS:
            return BadValue(text, DURATION_EXPECTED, f"unknown unit {unit!r}")
        total += float(amount) * _UNITS[unit.lower()]
    return total


@parse.with_pattern(r"[^\"]*")
def parse_quoted(text: str) -> str:
    """The text between double quotes (no quote inside)."""
    return text


# Numbers' places accept anything that starts like a number (``-1``, ``1.5``, ``3k``), for
# the same reason as durations.
_NUMBERISH = r"-?\d[\w.]*"
_CPU = re.compile(r"\d+(?:\.\d+)?m?")
_MEMORY = re.compile(r"\d+(?:\.\d+)?(?:Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?")


@parse.with_pattern(_NUMBERISH)
def parse_cpu(text: str) -> str | BadValue:
    """A CPU quantity: ``100m``, ``0.5``, ``2``."""
    if not _CPU.fullmatch(text):
        return BadValue(text, "a CPU quantity like 100m, 0.5 or 2")
    return text


@parse.with_pattern(_NUMBERISH)
def parse_memory(text: str) -> str | BadValue:
    """A memory quantity: ``256Mi``, ``1Gi``, ``500M``."""
    if not _MEMORY.fullmatch(text):
        return BadValue(text, "a memory quantity like 256Mi, 1Gi or 500M")
    return text


@parse.with_pattern(_NUMBERISH)
def parse_count(text: str) -> int | BadValue:
    """A whole number >= 0."""
    if not text.isdigit():
        return BadValue(text, "a whole number, 0 or more (like 3)")
    return int(text)


@parse.with_pattern(r"(?!cluster DNS\b)[A-Za-z][A-Za-z -]*[A-Za-z]")
def parse_component(text: str) -> str:
    """A control-plane component's words, with or without "the" (the scheduler, etcd …);
    steps.control_plane says which words name a component."""
    return text[4:] if text.lower().startswith("the ") else text


TYPES = {
    "Duration": parse_duration,
    "Q": parse_quoted,
    "Cpu": parse_cpu,
    "Memory": parse_memory,
    "N": parse_count,
    "Component": parse_component,
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
