"""ConfigMaps and Secrets as the API server admits them: their keys and their size.

ValidateConfigMap and ValidateSecret (pkg/apis/core/validation/validation.go): every key
of ``data`` (and ``binaryData``) must be a valid config key (IsConfigMapKey in
apimachinery's util/validation), a key may not be in both maps, and the values together
may not exceed 1 MiB. The values' types are checked before this, by ``decoding``.
"""

from __future__ import annotations

import base64
import re
from typing import TYPE_CHECKING, Any

from kclusterkit.kube.meta import Obj
from kclusterkit.sim import validation as v
from kclusterkit.sim.strategy import Strategy, register_strategy

if TYPE_CHECKING:
    from kclusterkit.sim.api import Api
from kclusterkit.sim.resources import for_kind

Cause = tuple[str, str, str]

CONFIG_KEY_FMT = "[-._a-zA-Z0-9]+"
_CONFIG_KEY = re.compile("^" + CONFIG_KEY_FMT + "$")
_CONFIG_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"
# core.MaxSecretSize: ValidateConfigMap uses the same 1 MiB bound.
MAX_SIZE = 1024 * 1024


def config_key_errors(key: str) -> list[str]:
    """IsConfigMapKey: length, the character set, and no `.`/`..` path tricks."""
    errs = []
    if len(key) > 253:
        errs.append(v.max_len_error(253))
    if not _CONFIG_KEY.match(key):
        errs.append(v.regex_error(_CONFIG_KEY_MSG, CONFIG_KEY_FMT, "key.name", "KEY_NAME",
                                  "key-name"))
    if key == ".":
        errs.append("must not be '.'")
    elif key == "..":
        errs.append("must not be '..'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs


def _keys(field: str, data: Any) -> list[Cause]:
    if not isinstance(data, dict):
        return []
    return [v.invalid(f"{field}[{key}]", key, e) for key in data
            for e in config_key_errors(str(key))]


class ConfigMapStrategy(Strategy):
    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        data = obj.get("data") or {}
        binary = obj.get("binaryData") or {}
        out = _keys("data", data)
        size = sum(len(str(val)) for val in data.values())
        for key, val in binary.items():
            out += [v.invalid(f"binaryData[{key}]", key, e) for e in config_key_errors(str(key))]
            if key in data:
                out.append(v.invalid(f"binaryData[{key}]", key,
                                     "duplicate of key present in data"))
            size += len(base64.b64decode(val)) if isinstance(val, str) else 0
        if size > MAX_SIZE:
            out.append(("FieldValueTooLong", "",
                        f"Too long: may not be more than {MAX_SIZE} bytes"))
        return out


class SecretStrategy(Strategy):
    def validate(self, api: Api, obj: Obj, old: Obj | None) -> list[Cause]:
        data = obj.get("data") or {}
        out = _keys("data", data)
        size = sum(len(base64.b64decode(val)) for val in data.values() if isinstance(val, str))
        if size > MAX_SIZE:
            out.append(("FieldValueTooLong", "data",
                        f"Too long: may not be more than {MAX_SIZE} bytes"))
        return out


register_strategy(for_kind("v1", "ConfigMap"), ConfigMapStrategy())
register_strategy(for_kind("v1", "Secret"), SecretStrategy())
