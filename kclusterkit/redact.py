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


def remember_secrets_in(manifest_text: str) -> None:
    """Remember the values of every Secret in a YAML stream (a step's doc-string), so they
    are masked wherever they show up later: a container printing them, the step's text."""
    import base64

    import yaml

    try:
        docs = list(yaml.safe_load_all(manifest_text))
    except yaml.YAMLError:
        return
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("kind") != "Secret":
            continue
        for value in (doc.get("stringData") or {}).values():
            remember(str(value))
        for value in (doc.get("data") or {}).values():
            remember(str(value))
            try:
                remember(base64.b64decode(str(value)).decode())
            except (ValueError, UnicodeDecodeError):
                pass


def redact_files(folder: Any) -> int:
    """Mask credentials in every text file of a results folder, in place (what a reporter
    wrote before the run knew a value was secret, e.g. a step's doc-string); how many."""
    from pathlib import Path

    changed = 0
    root = Path(folder)
    if not root.is_dir():
        return 0
    for path in root.iterdir():
        if not path.is_file() or path.suffix not in (".txt", ".json", ".yaml", ".yml",
                                                     ".csv", ".svg", ".xml"):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        masked = redact_text(text)
        if masked != text:
            path.write_text(masked, encoding="utf-8")
            changed += 1
    return changed
