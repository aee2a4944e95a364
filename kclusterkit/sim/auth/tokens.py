"""Service account tokens: the JWTs the TokenRequest API issues (pkg/serviceaccount/claims.go).

Claims as upstream: ``iss``, ``aud``, ``sub`` (``system:serviceaccount:NS:NAME``), ``iat``,
``nbf``, ``exp`` and the private ``kubernetes.io`` claim naming the namespace, the service
account and, for a token projected into a pod, the pod (then the token dies with the pod).
Knowingly different: signed HS256 with the cluster's key, where upstream signs RS256/ES256 with
the service account key pair; nobody outside the cluster verifies these tokens.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

ISSUER = "https://kubernetes.default.svc.cluster.local"
# TokenRequest defaults (pkg/apis/authentication/v1/defaults.go) and the kubelet's projected
# token (pkg/volume/projected: 3607 s, the extended expiry window's "warn after" marker).
DEFAULT_EXPIRATION = 3600
PROJECTED_EXPIRATION = 3607
MIN_EXPIRATION = 600  # validation: "may not specify a duration less than 10 minutes"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue(key: bytes, claims: dict[str, Any]) -> str:
    header = _b64(json.dumps({"alg": "HS256", "kid": _b64(hashlib.sha256(key).digest()[:12])},
                             separators=(",", ":")).encode())
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def verify(key: bytes, token: str) -> dict[str, Any] | None:
    """The claims of a token this key signed, None for anything else."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    expected = hmac.new(key, f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(expected, _unb64(parts[2])):
            return None
        claims = json.loads(_unb64(parts[1]))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def claims_for(now: float, expiration: int, audiences: list[str], namespace: str,
               sa: dict[str, Any],
               pod: dict[str, Any] | None) -> dict[str, Any]:
    private: dict[str, Any] = {
        "namespace": namespace,
        "serviceaccount": {"name": sa["metadata"]["name"], "uid": sa["metadata"]["uid"]},
    }
    if pod is not None:
        private["pod"] = {"name": pod["metadata"]["name"], "uid": pod["metadata"]["uid"]}
    issued = int(now)
    return {"aud": audiences or [ISSUER], "exp": issued + expiration, "iat": issued,
            "iss": ISSUER, "nbf": issued, "jti": "",
            "sub": f"system:serviceaccount:{namespace}:{sa['metadata']['name']}",
            "kubernetes.io": private}
