"""Keeping credentials out of what a run leaves behind: reports, logs, failure messages.

A spec about access handles bearer tokens (service account JWTs, the admin token), and any
scenario may show a Secret or a kubeconfig. None of that may reach an Allure attachment, a
log line or a failure message: tokens and secret values are replaced by ``***`` there.
What is recognised: JWTs, ``Authorization: Bearer …`` and ``--token`` values, kubeconfig
credential fields (token, client-key-data, client-certificate-data, password), and the
values of a Secret's ``data``/``stringData`` and a TokenRequest's ``status.token``.
Tokens the process itself registers (``remember``) are replaced wherever they appear.
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "***"
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")
_TOKEN_FLAG = re.compile(r"(--token[= ])\S+")
_FIELDS = re.compile(r"(?m)\b((?:token|client-key-data|client-certificate-data|password|"
                     r"id-token|refresh-token|access-token)\s*[:=]\s*)(\"?)[^\s\"]+(\"?)")
_known: set[str] = set()


def remember(secret: str) -> None:
    """A credential this process holds (a kubeconfig's token): mask it wherever it shows."""
    if secret and len(secret) >= 8:
        _known.add(secret)


def redact_text(text: str) -> str:
    if not text:
        return text
    for secret in _known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _JWT.sub(MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    text = _TOKEN_FLAG.sub(lambda m: m.group(1) + MASK, text)
    return _FIELDS.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}{m.group(3)}", text)


def redact_object(obj: Any) -> Any:
    """A copy of an object (or list) with Secret values and issued tokens masked, and every
    string passed through ``redact_text``."""
    if isinstance(obj, list):
        return [redact_object(o) for o in obj]
    if isinstance(obj, str):
        return redact_text(obj)
    if not isinstance(obj, dict):
        return obj
    out = {k: redact_object(v) for k, v in obj.items()}
    kind = obj.get("kind")
    if kind == "Secret":
        for field in ("data", "stringData"):
            if isinstance(out.get(field), dict):
                out[field] = {k: MASK for k in out[field]}
        annotations = (out.get("metadata") or {}).get("annotations")
        if isinstance(annotations, dict) and \
                "kubectl.kubernetes.io/last-applied-configuration" in annotations:
            annotations["kubectl.kubernetes.io/last-applied-configuration"] = MASK
    if kind == "TokenRequest" and isinstance(out.get("status"), dict) \
            and "token" in out["status"]:
        out["status"]["token"] = MASK
    return out


def redact_exception(exc: BaseException) -> None:
    """Mask credentials in an exception's message, in place."""
    exc.args = tuple(redact_text(a) if isinstance(a, str) else a for a in exc.args)


_installed = False


def install_logging() -> None:
    """Every log record from now on has its message and arguments redacted."""
    global _installed
    if _installed:
        return
    _installed = True
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if isinstance(record.msg, str):
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact_text(a) if isinstance(a, str) else a
                                for a in record.args)
        return record

    logging.setLogRecordFactory(factory)
