"""Raw JSON requests to a Kubernetes API server, with our errors and our retry policy.

The kubernetes client's typed methods turn every response into pydantic models, which is
slow, strict about fields, and not the shape steps expect (``kubectl get -o json``). Here
we keep its configuration, authentication and connection pool, but send requests and read
answers as plain JSON. Every failure leaves this module as one of our errors
(``ApiError`` with the server's Status, ``Unreachable`` with one readable line), and the
transient ones are retried first with bounded exponential backoff.
"""

from __future__ import annotations

import ast
import errno
import json
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential,
)

from kclusterkit.driver.errors import ApiError, ClusterError, Unreachable

Obj = dict[str, Any]

#: HTTP codes worth another try: throttled, or the server (or a proxy) failed for now.
TRANSIENT_CODES = frozenset({429, 500, 502, 503, 504})


class TransientConnectionError(Unreachable):
    """The connection broke or timed out mid-request; the next attempt may well work."""


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: ``base``·2ⁿ seconds capped at ``cap``, at most
    ``attempts`` tries and ``max_delay`` seconds in all."""

    attempts: int = 5
    max_delay: float = 20.0
    base: float = 0.1
    cap: float = 2.0
    sleep: Callable[[float], None] = time.sleep

    def retrying(self, is_transient: Callable[[BaseException], bool] | None = None) -> Retrying:
        return Retrying(
            retry=retry_if_exception(is_transient or is_transient_error),
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_delay),
            wait=wait_exponential(multiplier=self.base, min=self.base, max=self.cap),
            sleep=self.sleep,
            reraise=True,
        )

    def call(self, fn: Callable[[], Any],
             is_transient: Callable[[BaseException], bool] | None = None) -> Any:
        return self.retrying(is_transient)(fn)


NO_RETRY = RetryPolicy(attempts=1)


def is_transient_error(exc: BaseException) -> bool:
    if isinstance(exc, TransientConnectionError):
        return True
    return isinstance(exc, ApiError) and exc.code in TRANSIENT_CODES


def is_conflict(exc: BaseException) -> bool:
    return isinstance(exc, ApiError) and exc.code == 409 and exc.reason == "Conflict"


def is_retryable_create(exc: BaseException) -> bool:
    """Transient, or a pod created in a namespace whose ``default`` ServiceAccount the
    controller has not made yet (a fresh namespace on a real cluster, for a moment)."""
    if is_transient_error(exc):
        return True
    return (isinstance(exc, ApiError) and exc.code == 403
            and 'serviceaccount "default" not found' in exc.message)


# -- error translation -----------------------------------------------------------------

_REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
            405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
            415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
            500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}


def api_error(code: int, http_reason: str | None, body: bytes | str | dict | None) -> ApiError:
    """An ``ApiError`` from a failed response, using the Status body when there is one."""
    if isinstance(body, dict):
        body = json.dumps(body)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")
    status: dict[str, Any] = {}
    try:
        parsed = json.loads(text) if text.strip().startswith("{") else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        status = parsed
    code = int(status.get("code") or code or 0)
    reason = str(status.get("reason") or _REASONS.get(code) or http_reason or "Unknown")
    message = str(status.get("message") or "").strip()
    if not message:
        snippet = " ".join(text.split())[:200]
        message = f"{code} {http_reason or reason}" + (f": {snippet}" if snippet else "")
    return ApiError(code, reason, message, status=status)


_HANDSHAKE = re.compile(r"Handshake status (\d{3})(?: ([^-]*))?")


def from_api_exception(exc: Any) -> ApiError:
    """Translate a kubernetes-client ``ApiException`` (typed calls, websocket handshakes)."""
    code = int(getattr(exc, "status", 0) or 0)
    reason = getattr(exc, "reason", None)
    body = getattr(exc, "body", None)
    if code == 0 and isinstance(reason, str):
        # A websocket handshake failure: "Handshake status 404 Not Found -+-+- {hdrs} -+-+- b'…'"
        match = _HANDSHAKE.search(reason)
        if match:
            code = int(match.group(1))
            parts = reason.split(" -+-+- ")
            if len(parts) >= 3:
                try:
                    body = ast.literal_eval(parts[-1].strip())
                except (ValueError, SyntaxError):
                    body = parts[-1]
            reason = (match.group(2) or "").strip() or None
        else:
            return ApiError(0, "ClientError", reason.strip().splitlines()[0] if reason.strip()
                            else "request failed", {})
    return api_error(code, reason, body)


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    todo: list[Any] = [exc]
    while todo:
        cur = todo.pop(0)
        if not isinstance(cur, BaseException) or any(cur is seen for seen in out):
            continue
        out.append(cur)
        todo.extend([getattr(cur, "reason", None), cur.__cause__, cur.__context__])
    return out


def connection_problem(exc: BaseException) -> str:
    """A few words for why a connection failed: "connection refused", "timed out" …"""
    chain = _chain(exc)
    for cur in chain:  # the precise OS-level causes first (urllib3 wraps them in timeouts)
        if isinstance(cur, ConnectionRefusedError) or getattr(cur, "errno", None) == \
                errno.ECONNREFUSED or "Connection refused" in str(cur):
            return "connection refused"
        if isinstance(cur, ConnectionResetError):
            return "connection reset by peer"
        if isinstance(cur, socket.gaierror):
            return f"unknown host ({cur.strerror or cur})"
        if isinstance(cur, urllib3.exceptions.SSLError):
            return f"TLS handshake failed ({cur})"
    for cur in chain:
        if isinstance(cur, (urllib3.exceptions.TimeoutError, socket.timeout, TimeoutError)):
            return "timed out"
        if isinstance(cur, urllib3.exceptions.ProtocolError):
            return "connection broken"
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


# -- the client ------------------------------------------------------------------------


class Rest:
    """Plain-JSON requests through a kubernetes ``ApiClient`` (its auth, TLS and pool)."""

    def __init__(self, api_client: Any, *, context: str | None = None,
                 request_timeout: float = 10.0, policy: RetryPolicy | None = None) -> None:
        self.api_client = api_client
        self.server = str(api_client.configuration.host).rstrip("/")
        self.context = context
        self.request_timeout = request_timeout
        self.policy = policy or RetryPolicy()
        self.requests = 0  # every HTTP request sent, for benchmarks
        self.server_version: Obj | None = None  # /version, once check_reachable ran
        self._count_lock = threading.Lock()

    def where(self) -> str:
        ctx = f" (context {self.context})" if self.context else ""
        return f"{self.server}{ctx}"

    def unreachable(self, exc: BaseException) -> str:
        return f"cannot reach the cluster at {self.where()}: {connection_problem(exc)}"

    # -- one request ------------------------------------------------------------------
    def _send(self, method: str, path: str, query: dict[str, Any] | None, body: Any,
              content_type: str | None, accept: str, timeout: Any,
              counted: bool = True, extra_headers: dict[str, str] | None = None) -> Any:
        """One HTTP request; returns the open urllib3 response, or raises our error."""
        url_path = path
        if query:
            url_path += "?" + urlencode(
                {k: _query_value(v) for k, v in query.items() if v is not None}, doseq=True)
        headers = {"Accept": accept, **(extra_headers or {})}
        if content_type:
            headers["Content-Type"] = content_type
        elif body is not None:
            headers["Content-Type"] = "application/json"
        req = self.api_client.param_serialize(method=method, resource_path=url_path,
                                              header_params=headers, body=body,
                                              auth_settings=["BearerToken"])
        if counted:
            with self._count_lock:
                self.requests += 1
        try:
            return self.api_client.call_api(*req, _request_timeout=timeout)
        except urllib3.exceptions.HTTPError as exc:
            raise TransientConnectionError(self.unreachable(exc)) from exc
        except OSError as exc:
            raise TransientConnectionError(self.unreachable(exc)) from exc
        except Exception as exc:  # ApiException(status=0) for TLS errors, bad bodies …
            if type(exc).__name__ == "ApiException" and not getattr(exc, "status", 0):
                raise Unreachable(f"cannot reach the cluster at {self.where()}: "
                                  f"{str(getattr(exc, 'reason', exc)).splitlines()[-1]}") from exc
            raise

    def call(self, method: str, path: str, *, query: dict[str, Any] | None = None,
             body: Any = None, content_type: str | None = None,
             accept: str = "application/json", timeout: Any = None,
             policy: RetryPolicy | None = None,
             retry_on: Callable[[BaseException], bool] | None = None,
             counted: bool = True, headers: dict[str, str] | None = None) -> Any:
        """Send a request (retrying transient failures); JSON answers come back parsed,
        anything else as text. ``counted=False`` leaves it out of ``requests`` (reading an
        advertised clock is not traffic the benchmarks count)."""
        timeout = timeout if timeout is not None else self.request_timeout

        def attempt() -> Any:
            resp = self._send(method, path, query, body, content_type, accept, timeout, counted,
                              headers)
            try:
                data = resp.read()
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise TransientConnectionError(self.unreachable(exc)) from exc
            if not 200 <= resp.status <= 299:
                raise api_error(resp.status, resp.reason, data)
            ctype = (resp.headers.get("content-type") or "").lower()
            if "json" in ctype or (not ctype and data[:1] in (b"{", b"[")):
                return json.loads(data) if data else None
            return data.decode("utf-8", "replace")

        try:
            return (policy or self.policy).call(attempt, retry_on)
        except TransientConnectionError as exc:
            raise Unreachable(str(exc)) from exc

    def open_stream(self, path: str, query: dict[str, Any], read_timeout: float) -> Any:
        """Start a streaming GET (a watch) and return the live urllib3 response."""
        resp = self._send("GET", path, query, None, None, "application/json",
                          (min(self.request_timeout, 10.0), read_timeout))
        if resp.status != 200:
            raise api_error(resp.status, resp.reason, resp.read())
        return resp.response

    def check_reachable(self, timeout: float = 5.0) -> Obj:
        """GET /version once, without retries: fail fast with one clear line."""
        try:
            version = self.call("GET", "/version", timeout=(min(timeout, 3.0), timeout),
                                policy=NO_RETRY)
        except ApiError as exc:
            if exc.code in (401, 403):
                raise Unreachable(f"the cluster at {self.where()} refused our credentials: "
                                  f"{exc.code} {exc.reason}") from exc
            raise Unreachable(f"the cluster at {self.where()} answered /version with "
                              f"{exc.code} {exc.reason}: {exc.message}") from exc
        if not isinstance(version, dict):
            raise Unreachable(f"{self.where()} does not look like a Kubernetes API server "
                              f"(/version is not JSON)")
        self.server_version = version
        return version

    def check_credentials(self, timeout: float = 5.0) -> None:
        """One call that needs a user: ``/version`` answers anybody, so a wrong token would
        pass ``check_reachable`` and then fail every scenario with 401.

        Listing one namespace is what a least-privileged user can be asked for: 200 or 403
        both mean the server knows who we are (a user allowed to create its namespaces may
        still not list them); 401 means it does not, and a 403 to ``system:anonymous``
        means the context sent no credentials the server took.
        """
        try:
            self.call("GET", "/api/v1/namespaces", query={"limit": 1},
                      timeout=(min(timeout, 3.0), timeout), policy=NO_RETRY)
        except ApiError as exc:
            if exc.code == 401:
                raise Unreachable(f"the cluster at {self.where()} refused our credentials: "
                                  f"401 {exc.reason} (check the token or certificate of "
                                  f"context {self.context or '(current)'})") from exc
            if exc.code == 403 and "system:anonymous" in exc.message:
                raise Unreachable(f"the cluster at {self.where()} took us for "
                                  "system:anonymous: the context's credentials were not "
                                  "accepted") from exc
            if exc.code != 403:
                raise Unreachable(f"the cluster at {self.where()} answered a namespace list "
                                  f"with {exc.code} {exc.reason}: {exc.message}") from exc


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def iter_json_lines(resp: Any, chunk: int = 65536) -> Iterator[Obj]:
    """The JSON documents of a watch body, one per line, as soon as each line arrives."""
    buf = b""
    while True:
        try:
            data = resp.read1(chunk)
        except (urllib3.exceptions.HTTPError, OSError, ValueError, AttributeError):
            # ValueError/AttributeError: the response was shut down under us.
            return
        if not data:
            if buf.strip():
                yield json.loads(buf)
            return
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            if line.strip():
                try:
                    yield json.loads(line)
                except ValueError as exc:
                    raise ClusterError(f"bad watch event: {line[:200]!r}") from exc
