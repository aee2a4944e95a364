"""A tiny in-thread HTTP API server for the KubeDriver's tests.

It serves just enough (version, discovery, namespaces, configmaps with optimistic
concurrency) to check what the driver does with answers, and can be told to fail the next
requests with a given code — which a real cluster or the full simulator cannot be made to do
on cue.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

RESOURCES = [
    {"name": "namespaces", "singularName": "namespace", "namespaced": False, "kind": "Namespace",
     "shortNames": ["ns"], "verbs": ["create", "delete", "get", "list"]},
    {"name": "configmaps", "singularName": "configmap", "namespaced": True, "kind": "ConfigMap",
     "shortNames": ["cm"], "verbs": ["create", "delete", "get", "list", "update"]},
    {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
     "shortNames": ["no"], "verbs": ["get", "list"]},
]


def status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class FakeApi:
    def __init__(self) -> None:
        self.rv = 100
        self.namespaces: dict[str, dict[str, Any]] = {}
        self.configmaps: dict[tuple[str, str], dict[str, Any]] = {}
        self.nodes: list[dict[str, Any]] = []
        # (path prefix, code, reason, message or "" for "injected <code>")
        self.failures: list[tuple[str, int, str, str]] = []
        self.log: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                url = urlparse(self.path)
                with api.lock:
                    api.log.append((method, url.path))
                    for i, (prefix, code, reason, message) in enumerate(api.failures):
                        if url.path.startswith(prefix):
                            del api.failures[i]
                            self._send(code, status(code, reason,
                                                    message or f"injected {code}"))
                            return
                    code, answer = api.route(method, url.path, parse_qs(url.query), body)
                self._send(code, answer)

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def do_PUT(self) -> None:  # noqa: N802
                self._handle("PUT")

            def do_DELETE(self) -> None:  # noqa: N802
                self._handle("DELETE")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def kubeconfig(self, directory: Path, context: str = "fake") -> Path:
        path = directory / "kubeconfig"
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": "c", "cluster": {"server": self.url}}],
            "contexts": [{"name": context, "context": {"cluster": "c", "user": "u"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
        }))
        return path

    def fail(self, prefix: str, code: int, reason: str, times: int = 1,
             message: str = "") -> None:
        with self.lock:
            self.failures.extend([(prefix, code, reason, message)] * times)

    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def route(self, method: str, path: str, query: dict[str, list[str]],
              body: Any) -> tuple[int, Any]:
        parts = [p for p in path.split("/") if p]
        if path == "/version":
            return 200, {"major": "1", "minor": "34", "gitVersion": "v1.34.1"}
        if path == "/api/v1":
            return 200, {"kind": "APIResourceList", "groupVersion": "v1", "resources": RESOURCES}
        if path == "/apis":
            return 200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        if parts[:3] == ["api", "v1", "nodes"]:
            return 200, {"kind": "NodeList", "apiVersion": "v1",
                         "metadata": {"resourceVersion": str(self.rv)}, "items": self.nodes}
        if parts[:3] == ["api", "v1", "namespaces"]:
            if len(parts) == 3:
                if method == "POST":
                    name = body["metadata"]["name"]
                    if name in self.namespaces:
                        return 409, status(409, "AlreadyExists",
                                           f'namespaces "{name}" already exists')
                    body["metadata"]["resourceVersion"] = self._next_rv()
                    body.setdefault("status", {})["phase"] = "Active"
                    self.namespaces[name] = body
                    return 201, body
                items = [o for o in self.namespaces.values()
                         if _selected(o, (query.get("labelSelector") or [""])[0])]
                return 200, {"kind": "NamespaceList", "apiVersion": "v1",
                             "metadata": {"resourceVersion": str(self.rv)},
                             "items": [{k: v for k, v in o.items() if k not in ("kind",
                                                                                "apiVersion")}
                                       for o in items]}
            name = parts[3]
            if len(parts) == 4:
                if name not in self.namespaces:
                    return 404, status(404, "NotFound", f'namespaces "{name}" not found')
                if method == "DELETE":
                    return 200, self.namespaces.pop(name)
                return 200, self.namespaces[name]
            if parts[4] == "configmaps":
                return self.configmap(method, name, parts[5] if len(parts) > 5 else None, body)
        return 404, status(404, "NotFound", "the server could not find the requested resource")

    def configmap(self, method: str, ns: str, name: str | None, body: Any) -> tuple[int, Any]:
        if ns not in self.namespaces:
            return 404, status(404, "NotFound", f'namespaces "{ns}" not found')
        if name is None:
            if method == "POST":
                body["metadata"]["namespace"] = ns
                body["metadata"]["resourceVersion"] = self._next_rv()
                self.configmaps[(ns, body["metadata"]["name"])] = body
                return 201, body
            items = [o for (n, _), o in sorted(self.configmaps.items()) if n == ns]
            return 200, {"kind": "ConfigMapList", "apiVersion": "v1",
                         "metadata": {"resourceVersion": str(self.rv)}, "items": items}
        current = self.configmaps.get((ns, name))
        if current is None:
            return 404, status(404, "NotFound", f'configmaps "{name}" not found')
        if method == "PUT":
            if body["metadata"].get("resourceVersion") != current["metadata"]["resourceVersion"]:
                return 409, status(409, "Conflict",
                                   f'Operation cannot be fulfilled on configmaps "{name}": the '
                                   "object has been modified; please apply your changes to the "
                                   "latest version and try again")
            body["metadata"]["resourceVersion"] = self._next_rv()
            self.configmaps[(ns, name)] = body
            return 200, body
        return 200, current


def _selected(obj: dict[str, Any], selector: str) -> bool:
    labels = obj["metadata"].get("labels") or {}
    for term in filter(None, selector.split(",")):
        key, equals, value = term.partition("=")
        if not equals:  # existence: "key"
            if key not in labels:
                return False
        elif labels.get(key) != value:
            return False
    return True
