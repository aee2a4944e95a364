"""The driver for any API server reachable through a kubeconfig: a real cluster, or the
simulator's HTTP server.

On somebody's cluster the framework must be a polite guest: every scenario works in a
namespace of its own, labelled with the run, and nothing outside those namespaces is ever
written (nodes are only read). Namespaces go away as the cleanup policy says, on failure
and on Ctrl-C too. What the cluster cannot be asked to do (change its node count, fail a
node without an operator's hook) is a skipped step with the reason, not a crash.
"""

from __future__ import annotations

import os
import re
import secrets
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from kclusterkit import __version__, redact
from kclusterkit.driver import kubeaccess, kubeplugin
from kclusterkit.driver.base import (
    FIELD_MANAGER,
    AccessCheck,
    Check,
    Driver,
    ExecResult,
    Load,
    Obj,
    Observation,
    Request,
    Subject,
    WaitResult,
)
from kclusterkit.driver.errors import (
    ApiError,
    ClusterError,
    ClusterTimeout,
    ConfigurationError,
    NotSupported,
    Refused,
    Unreachable,
)
from kclusterkit.driver.hooks_exec import run_hook, validate_hooks
from kclusterkit.driver.kubeapi import (
    NO_RETRY,
    Rest,
    RetryPolicy,
    from_api_exception,
    is_conflict,
    is_retryable_create,
    is_transient_error,
    iter_json_lines,
)
from kclusterkit.driver.kubediscovery import ApiResource, Discovery, UnknownKind
from kclusterkit.driver.kubenodes import NodeChanges
from kclusterkit.driver.kubewait import WaitCache, hold, start_mirrors, wait_until

RUN_LABEL = "kclusterkit.io/run"
MANAGED_LABEL = "kclusterkit.io/managed"
SCENARIO_ANNOTATION = "kclusterkit.io/scenario"
CLEANUP_POLICIES = ("always", "on-success", "never")
CONTROL_PLANE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
#: what a wait watches when the step did not say (the check's own reads add more)
DEFAULT_WAIT_KINDS = ("pods",)
PATCH_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}
OPTIONS = ("kubeconfig", "context", "namespace_prefix", "cleanup", "allow_disruptive", "hooks",
           "request_timeout", "serve", "network_plugin_manifest")

_DNS_BAD = re.compile(r"[^a-z0-9-]+")


# -- names ---------------------------------------------------------------------------------

def dns_label(text: str, limit: int = 63) -> str:
    """``text`` made into a DNS-1123 label (lowercase alphanumerics and '-', ≤ limit)."""
    label = _DNS_BAD.sub("-", text.lower()).strip("-")
    return label[:limit].rstrip("-") or "x"


def new_run_id() -> str:
    """Short, sortable by start time, unique enough across concurrent runs."""
    stamp = time.strftime("%m%d%H%M%S", time.gmtime())
    return f"{stamp}{secrets.token_hex(2)}"


def namespace_name(prefix: str, run_id: str, n: int) -> str:
    """``<prefix>-<runid>-<n>`` as a DNS-1123 label of at most 63 characters."""
    tail = f"-{n}"
    head = dns_label(f"{prefix}-{run_id}", 63 - len(tail))
    return head + tail


def run_label_value(run_id: str) -> str:
    # Label values: ≤ 63 chars, alphanumerics plus -_. , starting and ending alphanumeric.
    return dns_label(run_id)


# -- connecting ----------------------------------------------------------------------------

def kubeconfig_path(explicit: str | None = None) -> str:
    if explicit:
        return os.path.expanduser(explicit)
    env = os.environ.get("KUBECONFIG")
    if env:
        return env  # may be a ':'-separated list; the client merges it
    return os.path.expanduser("~/.kube/config")


def load_client(kubeconfig: str | None = None, context: str | None = None) -> tuple[Any, str]:
    """An ``ApiClient`` for ``context`` of ``kubeconfig``, and the context's name.

    Every problem is an ``Unreachable`` with one line that says which file and context.
    """
    from kubernetes.client import Configuration
    from kubernetes.config import ConfigException, list_kube_config_contexts, new_client_from_config

    path = kubeconfig_path(kubeconfig)
    paths = [p for p in path.split(os.pathsep) if p]
    if not any(os.path.exists(p) for p in paths):
        raise ConfigurationError(f"kubeconfig {path} not found (set kubeconfig: in the environment "
                          "file or KUBECONFIG)")
    for one in paths:
        _looks_like_kubeconfig(one)
    try:
        contexts, current = list_kube_config_contexts(path)
    except (ConfigException, OSError, ValueError, TypeError, KeyError) as exc:
        raise ConfigurationError(f"kubeconfig {path} is not usable: {_one_line(exc)}") from exc
    except Exception as exc:  # yaml errors and the like
        raise ConfigurationError(f"kubeconfig {path} is not usable: {_one_line(exc)}") from exc
    names = [c.get("name") for c in contexts or []]
    if context and context not in names:
        known = ", ".join(n for n in names if n) or "none"
        raise ConfigurationError(f"context {context!r} not found in kubeconfig {path} "
                          f"(contexts: {known})")
    name = context or (current or {}).get("name")
    if not name:
        raise ConfigurationError(f"kubeconfig {path} has no current-context; name one with "
                                 "context:")
    configuration = type.__call__(Configuration)
    # One attempt per request at the urllib3 level: our RetryPolicy decides what to retry,
    # and an unreachable server fails in seconds instead of after urllib3's retry storm.
    configuration.retries = False
    try:
        client = new_client_from_config(path, name, persist_config=False,
                                        client_configuration=configuration)
    except Exception as exc:  # noqa: BLE001 — ConfigException, bad certificate data …
        raise ConfigurationError(f"kubeconfig {path} (context {name}) is not usable: "
                          f"{_one_line(exc)}") from exc
    # The API server names a request's field manager after its User-Agent's prefix: the
    # objects kclusterkit writes are managed by "kclusterkit" (the SimDriver says the same).
    client.user_agent = f"{FIELD_MANAGER}/{__version__}"
    bearer = (configuration.api_key or {}).get("authorization") or ""
    redact.remember(bearer.split(" ", 1)[-1])  # the kubeconfig's token never shows in a report
    return client, name


def _looks_like_kubeconfig(path: str) -> None:
    import yaml

    from kclusterkit import safe_yaml

    if not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as fh:
            data = safe_yaml.load(fh.read())
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigurationError(f"kubeconfig {path} is not readable YAML: "
                                 f"{_one_line(exc)}") from exc
    if data is not None and not isinstance(data, dict):
        raise ConfigurationError(f"kubeconfig {path} is not a kubeconfig (expected a mapping with "
                          "clusters, contexts and users)")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def connect(kubeconfig: str | None = None, context: str | None = None,
            request_timeout: float = 10.0, policy: RetryPolicy | None = None) -> Rest:
    """A checked connection: the client loads, the server answers ``/version``, and it
    accepts our credentials."""
    client, name = load_client(kubeconfig, context)
    rest = Rest(client, context=name, request_timeout=request_timeout, policy=policy)
    rest.check_reachable(timeout=min(request_timeout, 5.0))
    rest.check_credentials(timeout=min(request_timeout, 5.0))
    return rest


# -- Ctrl-C and SIGTERM --------------------------------------------------------------------

_LIVE: weakref.WeakSet[KubeDriver] = weakref.WeakSet()
_PREVIOUS: dict[int, Any] = {}
_in_handler = False


def _install_signal_handlers() -> None:
    if threading.current_thread() is not threading.main_thread():
        return
    for sig in (signal.SIGINT, signal.SIGTERM):
        if sig in _PREVIOUS:
            continue
        previous = signal.getsignal(sig)
        if previous is signal.SIG_IGN:
            continue  # whoever started us wants this signal ignored; so do we
        _PREVIOUS[sig] = previous
        signal.signal(sig, _on_signal)


def _on_signal(signum: int, frame: Any) -> None:
    global _in_handler
    if not _in_handler:
        _in_handler = True
        try:
            for driver in list(_LIVE):
                driver.abandon(f"interrupted by {signal.Signals(signum).name}")
        finally:
            _in_handler = False
    previous = _PREVIOUS.get(signum)
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


# -- cluster time --------------------------------------------------------------------------

CLOCK_PATH = "/kclusterkit/v1/clock"
#: wall seconds a reading of an advertised clock is reused for (never ahead of the cluster)
CLOCK_FRESH = 0.005


class WallClock:
    """A real cluster's time: this machine's wall clock (its nodes keep theirs in sync)."""

    speed = 1.0

    def now(self) -> float:
        return time.time()

    def timestamp(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class ClusterClock:
    """The time a cluster advertises at ``/kclusterkit/v1/clock`` (the served simulator
    does; its clock runs ``speed`` times faster than the wall, and slows down when the
    machine is loaded). Every reading comes from the server, reused for at most
    ``CLOCK_FRESH`` wall seconds, so a wait never ends before the cluster's own deadline."""

    def __init__(self, rest: Rest, first: Mapping[str, Any]) -> None:
        self.rest = rest
        self.speed = float(first.get("speed") or 1.0)
        seed = first.get("seed")
        self.seed = seed if isinstance(seed, int) else None
        self._now = float(first["unixSeconds"])
        self._read = time.monotonic()
        self._lock = threading.Lock()

    @classmethod
    def discover(cls, rest: Rest) -> ClusterClock | None:
        try:
            info = rest.call("GET", CLOCK_PATH, policy=NO_RETRY)
        except ApiError:
            return None  # 404 on a real cluster (or 403 for a user who may not ask)
        if not isinstance(info, dict) or info.get("kind") != "ClusterClock" or \
                not isinstance(info.get("unixSeconds"), int | float):
            return None
        return cls(rest, info)

    def now(self) -> float:
        with self._lock:
            if time.monotonic() - self._read > CLOCK_FRESH:
                info = self.rest.call("GET", CLOCK_PATH, counted=False)
                self._now = max(self._now, float(info["unixSeconds"]))
                self._read = time.monotonic()
            return self._now

    def timestamp(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.now()))


# -- the driver ----------------------------------------------------------------------------

class KubeDriver(Driver):
    """Drive a cluster through its API server; see the module docstring for the rules."""

    def __init__(self, rest: Rest, *, target: str = "kubeconfig", run_id: str | None = None,
                 namespace_prefix: str = "kk", cleanup: str = "always",
                 allow_disruptive: bool = False, hooks: Mapping[str, str] | None = None,
                 on_close: Callable[[], None] | None = None,
                 log: Callable[[str], None] | None = None,
                 kubeconfig: str | None = None,
                 network_plugin_manifest: str | None = None) -> None:
        if cleanup not in CLEANUP_POLICIES:
            raise ConfigurationError(f"cleanup: expected one of "
                                     f"{', '.join(CLEANUP_POLICIES)}, got {cleanup!r}")
        self.rest = rest
        self.target = target
        self.run_id = run_label_value(run_id or new_run_id())
        self.namespace_prefix = dns_label(namespace_prefix, 20)
        self.cleanup = cleanup
        self.allow_disruptive = allow_disruptive
        self.hooks = validate_hooks(hooks)
        self.discovery = Discovery(lambda path: self.rest.call("GET", path))
        self.scenario = ""
        self.namespace = "default"
        self.kept: list[str] = []  # namespaces left behind on purpose (cleanup policy)
        self._owned: list[str] = []  # namespaces of this run still to delete
        self._exec_clients = threading.local()  # one exec client per thread (see _exec_api)
        self._exec_client_list: list[Any] = []
        self._failed_nodes: list[str] = []  # nodes this scenario failed and did not recover
        self._mine: set[str] = set()  # every namespace this run created
        # Scenarios (by namespace) that created ClusterRoles/Bindings (kubeaccess removes them).
        self.cluster_scoped_scenarios: set[str] = set()
        self._creating: str | None = None  # a namespace whose create call is on its way
        self._abandoned = False  # a signal has run abandon()
        #: namespaces that could not be deleted, with why (reported with the cleanup command)
        self.leftover: dict[str, str] = {}
        #: why the cluster is taken for lost (it stopped answering), or None
        self.lost: str | None = None
        #: the command that removes this run's namespaces (the hooks add the environment)
        self.cleanup_hint: str | None = None
        self._count = 0
        self._cache: WaitCache | None = None
        self._cache_thread: int | None = None
        self._on_close = on_close
        # behave captures sys.stderr in hooks; what the user must act on goes to the terminal
        self._log = log or (lambda line: print(line, file=sys.__stderr__ or sys.stderr,
                                               flush=True))
        # what hooks may name as {kubeconfig} and {context}
        self.kubeconfig = kubeconfig or kubeconfig_path(None)
        # Cluster time: the wall clock, unless the cluster advertises a clock of its own (a
        # served simulator runs ``speed`` times faster than the wall; see ClusterClock).
        self.clock: WallClock | ClusterClock = WallClock()
        self.seed: int | None = None
        self._traffic: Any = None  # kclusterkit.driver.kubetraffic.KubeTraffic of the scenario
        self._lock = threading.RLock()
        self.node_changes = NodeChanges(rest, allow_disruptive, self._log)
        caps = {"exec", "logs", "container-crash", "traffic", "node-maintenance", "namespaces"}
        self._extra: list[str] = []  # the scenario's other namespaces (create_namespace)
        if allow_disruptive and self.hooks.get("fail_node"):
            caps.add("node-failure")
        if self.hooks.get("make_unready"):
            caps.add("readiness-fault")
        if allow_disruptive and self.hooks.get("stop_component") \
                and self.hooks.get("start_component"):
            caps.add("control-plane-fault")
        if allow_disruptive and self.hooks.get("stop_cluster_dns") \
                and self.hooks.get("start_cluster_dns"):
            caps.add("cluster-dns-fault")
        caps.add("api-probe")
        self._dns_stopped = False
        self._stopped_components: list[tuple[str, str | None]] = []
        # Installing: the manifest through the API (kubeplugin), else the hook.
        self.network_plugin_manifest = network_plugin_manifest
        if allow_disruptive and self.hooks.get("remove_network_plugin") and \
                (network_plugin_manifest or self.hooks.get("install_network_plugin")):
            caps.add("network-plugin")
        self._plugin_removed = False  # the scenario took the network plugin away
        if allow_disruptive:
            caps.add("disruptive")
        self.capabilities = frozenset(caps)
        _LIVE.add(self)
        _install_signal_handlers()

    # -- construction -------------------------------------------------------------------
    @classmethod
    def from_config(cls, options: Mapping[str, Any], run_id: str | None = None,
                    target: str = "kubeconfig", **extra: Any) -> KubeDriver:
        """Build from an environment's options (kubeconfig, context, namespace_prefix,
        cleanup, allow_disruptive, hooks, request_timeout); checks the server answers."""
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise ConfigurationError(f"{unknown[0]}: unknown option for target {target!r} "
                                     f"(known: {', '.join(OPTIONS)})")
        timeout = float(options.get("request_timeout", 10.0))
        rest = connect(options.get("kubeconfig"), options.get("context"), timeout)
        driver = cls(rest, target=target, run_id=run_id,
                     namespace_prefix=options.get("namespace_prefix", "kk"),
                     cleanup=options.get("cleanup", "always"),
                     allow_disruptive=bool(options.get("allow_disruptive", False)),
                     hooks=options.get("hooks"),
                     kubeconfig=kubeconfig_path(options.get("kubeconfig")),
                     network_plugin_manifest=options.get("network_plugin_manifest"), **extra)
        advertised = ClusterClock.discover(rest)
        if advertised is not None:
            driver.clock = advertised
            driver.seed = advertised.seed
        return driver

    # -- life cycle ---------------------------------------------------------------------
    def open_scenario(self, name: str) -> None:
        self.scenario = name
        for _ in range(5):
            with self._lock:
                self._count += 1
                ns = namespace_name(self.namespace_prefix, self.run_id, self._count)
                # Owned before the create call returns: an interrupt that lands while it is
                # on its way (sent, not yet answered) must delete it too.
                self._owned.append(ns)
                self._mine.add(ns)
                self._creating = ns
                self.namespace = ns
            body = {
                "apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": ns,
                             "labels": {RUN_LABEL: self.run_id, MANAGED_LABEL: "true"},
                             "annotations": {SCENARIO_ANNOTATION: name}},
            }
            try:
                self.rest.call("POST", "/api/v1/namespaces", body=body)
                break
            except ApiError as exc:
                # AlreadyExists: a retried create of ours that got through the first time,
                # or a run with the same id; then take the next name.
                if exc.code == 409 and self._is_ours(ns):
                    break
                self._disown(ns)
                if exc.code != 409:
                    raise
            finally:
                self._creating = None
        else:
            raise ClusterError(f"could not create a namespace for scenario {name!r}: "
                               f"{ns} and the ones before it already exist")

    def log_line(self, line: str) -> None:
        """Tell the user something about the run's cleanup (stderr unless told otherwise)."""
        self._log(line)

    def owns_namespace(self, ns: str) -> bool:
        """Whether this run created ``ns`` (the only namespaces it writes or probes in)."""
        return ns in self._mine

    # -- access (kubeaccess) -------------------------------------------------------------
    def can(self, subject: Subject, verb: str, resource: str, namespace: str | None = None,
            name: str | None = None) -> AccessCheck:
        return kubeaccess.can(self, subject, verb, resource, namespace, name)

    def anonymous_request(self, path: str) -> tuple[int, str]:
        return kubeaccess.anonymous_request(self, path)

    def _is_ours(self, ns: str) -> bool:
        try:
            found = self.rest.call("GET", f"/api/v1/namespaces/{ns}")
        except ClusterError:
            return False
        labels = ((found or {}).get("metadata") or {}).get("labels") or {}
        return labels.get(RUN_LABEL) == self.run_id

    def _disown(self, ns: str) -> None:
        with self._lock:
            if ns in self._owned:
                self._owned.remove(ns)
            self._mine.discard(ns)

    def create_namespace(self, name: str, labels: Mapping[str, str] | None = None) -> str:
        """``<scenario namespace>-<name>``, labelled with the run like the scenario's own;
        owned before the create call returns (an interrupt meanwhile deletes it too)."""
        real = dns_label(f"{self.namespace}-{name}")
        with self._lock:
            self._owned.append(real)
            self._mine.add(real)
            self._extra.append(real)
            self._creating = real
        body = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": real,
                             "labels": {**(labels or {}), RUN_LABEL: self.run_id,
                                        MANAGED_LABEL: "true"},
                             "annotations": {SCENARIO_ANNOTATION: self.scenario}}}
        try:
            self.rest.call("POST", "/api/v1/namespaces", body=body)
        except ApiError as exc:
            if exc.code != 409 or not self._is_ours(real):
                self._disown(real)
                with self._lock:
                    self._extra.remove(real)
                raise
        finally:
            with self._lock:
                self._creating = None
        return real

    def close_scenario(self, passed: bool) -> None:
        with self._lock:
            extra, self._extra = self._extra, []
        for ns in extra:  # the scenario's other namespaces go as its own does
            self._close_namespace(ns, passed)
        ns = self.namespace
        self._stop_traffic()
        if not self.lost:
            self._restart_stopped_components()
            self._recover_failed_nodes()
            if ns in self.cluster_scoped_scenarios:  # they would change the next scenarios
                self.cluster_scoped_scenarios.discard(ns)
                kubeaccess.remove_cluster_objects(self, RUN_LABEL, scenario=ns,
                                                  why="scenario ended")
            self._reinstall_network_plugin()
            self.node_changes.undo()
        self._close_namespace(ns, passed)

    def _close_namespace(self, ns: str, passed: bool) -> None:
        """Delete or keep one of the scenario's namespaces, as the cleanup policy says."""
        with self._lock:
            if ns not in self._owned:
                return
        if self.cleanup == "always" or (self.cleanup == "on-success" and passed):
            # Owned until the delete is through: an interrupt meanwhile still deletes it.
            self._delete_owned(ns, policy=NO_RETRY if self.lost else None)
        else:
            with self._lock:
                self._owned.remove(ns)
            self.kept.append(ns)

    def close(self) -> None:
        """Delete namespaces of scenarios that never closed, then let go of the client."""
        self._stop_traffic()
        if not self.lost and self.node_changes.pending:
            self.node_changes.undo(quick=True)
        for ns in list(self._owned):
            self._delete_owned(ns, policy=NO_RETRY, timeout=5.0)
        if self._abandoned and not self.lost:
            self._sweep("interrupted")
        _LIVE.discard(self)
        if self.leftover:
            self._log(self.leftover_line())
        for client in [self.rest.api_client, *self._exec_client_list]:
            try:
                client.close()
            except Exception:  # noqa: BLE001 — closing is best effort
                pass
        if self._on_close is not None:
            self._on_close()
            self._on_close = None

    def _delete_owned(self, ns: str, policy: RetryPolicy | None = None,
                      timeout: float | None = None) -> bool:
        """Delete one of our namespaces; one that cannot be is remembered in ``leftover``
        (and reported at the end with the cleanup command), never silently dropped."""
        if self.lost:
            # the cluster stopped answering: one quick try, not a retry storm per namespace
            policy, timeout = NO_RETRY, min(timeout or 3.0, 3.0)
        try:
            self._delete_namespace(ns, policy=policy, timeout=timeout)
            ok = True
        except ClusterError as exc:
            if isinstance(exc, Unreachable):
                self.lost = self.lost or str(exc)
            self.leftover[ns] = str(exc)
            ok = False
        with self._lock:
            if ns in self._owned:
                self._owned.remove(ns)
        return ok

    def leftover_line(self) -> str:
        """One line naming the namespaces that could not be deleted, and how to."""
        names = ", ".join(self.leftover)
        why = next(iter(self.leftover.values()), "")
        return (f"kclusterkit: could not delete namespace(s) {names} ({why}); remove them "
                f"with {self.cleanup_command}")

    @property
    def cleanup_command(self) -> str:
        return self.cleanup_hint or f"kclusterkit cleanup --run {self.run_id}"

    def abandon(self, why: str) -> None:
        """The run is being killed: give nodes back as they were, delete every namespace
        still open, quickly."""
        self._abandoned = True
        if not self.lost and self.node_changes.pending:
            self.node_changes.undo(quick=True)
            self._log(f"kclusterkit: {why}: restored the nodes the scenario changed")
        if not self.lost:
            self._reinstall_network_plugin()
        with self._lock:
            owned, self._owned = list(self._owned), []
            creating = self._creating
        for ns in owned:
            try:
                self._delete_namespace(ns, policy=NO_RETRY, timeout=5.0)
                self._log(f"kclusterkit: {why}: deleted namespace {ns}")
            except ClusterError as exc:
                self.leftover[ns] = str(exc)
                self._log(f"kclusterkit: {why}: could not delete namespace {ns}: {exc}; "
                          f"remove it with {self.cleanup_command}")
        if self.lost:
            return
        if self.cluster_scoped_scenarios:
            kubeaccess.remove_cluster_objects(self, RUN_LABEL, scenario=None, why=why)
        # A create that was on its way may land after those deletes (a DELETE on another
        # connection can overtake it): find the run's namespaces by its label, and look
        # again a moment later when a create was in flight.
        self._sweep(why)
        if creating is not None:
            time.sleep(0.3)
            self._sweep(why)

    def _sweep(self, why: str) -> None:
        """Delete every namespace of this run that is not being deleted yet (kept ones
        aside): the run label finds what was created but not (yet) recorded."""
        try:
            found = self.rest.call("GET", "/api/v1/namespaces",
                                   query={"labelSelector": f"{RUN_LABEL}={self.run_id}"},
                                   policy=NO_RETRY, timeout=5.0)
        except ClusterError as exc:
            self._log(f"kclusterkit: {why}: could not list the run's namespaces: {exc}; "
                      f"check with {self.cleanup_command}")
            return
        for item in (found or {}).get("items") or []:
            meta = item.get("metadata") or {}
            ns = meta.get("name", "")
            if meta.get("deletionTimestamp") or ns in self.kept or ns not in self._mine:
                continue
            try:
                self._delete_namespace(ns, policy=NO_RETRY, timeout=5.0)
                self.leftover.pop(ns, None)
                self._log(f"kclusterkit: {why}: deleted namespace {ns}")
            except ClusterError as exc:
                self.leftover[ns] = str(exc)
                self._log(f"kclusterkit: {why}: could not delete namespace {ns}: {exc}; "
                          f"remove it with {self.cleanup_command}")

    def _delete_namespace(self, ns: str, policy: RetryPolicy | None = None,
                          timeout: float | None = None) -> None:
        try:
            self.rest.call("DELETE", f"/api/v1/namespaces/{ns}",
                           body={"propagationPolicy": "Background"}, policy=policy,
                           timeout=timeout)
        except ApiError as exc:
            if exc.code != 404:
                raise

    @property
    def kubernetes_version(self) -> str | None:
        """The server's gitVersion (``/version``, read when connecting)."""
        version = getattr(self.rest, "server_version", None)
        return version.get("gitVersion") if isinstance(version, dict) else None

    # -- cluster shape ------------------------------------------------------------------
    def configure_cluster(self, control_plane_nodes: int, worker_nodes: int) -> None:
        """A real cluster's shape is checked, not built: NotSupported when it differs."""
        nodes = self.list("nodes")
        ready = [n for n in nodes if _node_ready(n)]
        cp = [n for n in ready if _is_control_plane(n)]
        workers = [n for n in ready if not _is_control_plane(n)]
        not_ready = len(nodes) - len(ready)
        visible_cp = any(_is_control_plane(n) for n in nodes)
        problems = []
        if visible_cp and len(cp) != control_plane_nodes:
            problems.append(f"{len(cp)} Ready control-plane node(s), not {control_plane_nodes}")
        if len(workers) != worker_nodes:
            problems.append(f"{len(workers)} Ready worker node(s), not {worker_nodes}")
        if not_ready:
            problems.append(f"{not_ready} node(s) not Ready")
        if problems:
            how = ("the served cluster is built once per run from the environment file's "
                   "cluster: section (control_plane_nodes, worker_nodes)"
                   if self.target == "sim-api" else "a real cluster's shape is checked, "
                   "not changed")
            raise NotSupported(f"the cluster has {'; '.join(problems)} ({how})")

    # -- objects ------------------------------------------------------------------------
    def _resource(self, kind: str) -> ApiResource:
        try:
            return self.discovery.resolve(kind)
        except UnknownKind as exc:
            raise ApiError(404, "NotFound", str(exc)) from exc

    def _ns(self, res: ApiResource, namespace: str | None) -> str:
        if not res.namespaced:
            return ""
        return self.namespace if namespace is None else namespace

    def _placed(self, obj: Obj) -> tuple[ApiResource, str]:
        """The resource an object's apiVersion/kind names, and the namespace it goes in."""
        try:
            res = self.discovery.for_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
        except UnknownKind as exc:
            raise ApiError(404, "NotFound", str(exc)) from exc
        return res, self._ns(res, (obj.get("metadata") or {}).get("namespace"))

    def _writable(self, res: ApiResource, ns: str, what: str, name: str | None = None) -> None:
        """Refuse a write outside what this run made. Namespaced: only in the run's own
        namespaces. Cluster-scoped: only the kinds a scenario may declare (or objects of a
        CRD this run made), and an existing object (``name``) only when it carries this
        run's label: a scenario never changes the cluster's own ClusterRoles or CRDs."""
        if not res.namespaced:
            if not (kubeaccess.may_write_cluster_scoped(res) or self._crd_is_ours(res)):
                raise NotSupported(f"{what}: kclusterkit does not write cluster-scoped "
                                   f"objects ({res.kind}) on target {self.target!r}")
            if name is not None:
                try:
                    found = self.rest.call("GET", res.path("", name))
                except ApiError as exc:
                    if exc.code == 404:
                        return  # nothing there: the write itself answers (or creates it)
                    raise
                labels = (found.get("metadata") or {}).get("labels") or {}
                if labels.get(RUN_LABEL) != self.run_id:
                    raise Refused(f"{what}: refusing to change {res.kind} {name!r}, which "
                                  f"this run did not create (kclusterkit only changes its own)")
            return
        if ns not in self._mine:
            raise Refused(f"{what}: refusing to write in namespace {ns!r}, which this "
                          f"run did not create (kclusterkit only writes to its own)")

    def _crd_is_ours(self, res: ApiResource) -> bool:
        """Whether ``res`` is served by a CustomResourceDefinition this run created (its
        objects then go with it when the run removes the CRD)."""
        try:
            crd = self.rest.call(
                "GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{res.key}")
        except ApiError as exc:
            if exc.code in (403, 404):
                return False
            raise
        return ((crd.get("metadata") or {}).get("labels") or {}).get(RUN_LABEL) == self.run_id

    def create(self, obj: Obj) -> Obj:
        res, ns = self._placed(obj)
        meta = obj.get("metadata") or {}
        self._writable(res, ns, f"creating {res.kind} {meta.get('name', '')}".rstrip())
        if not res.namespaced:  # found and removed by its labels (kubeaccess)
            obj = kubeaccess.labelled(self, obj, RUN_LABEL)
            self.cluster_scoped_scenarios.add(self.namespace)
        return self.rest.call("POST", res.path(ns), body=obj, retry_on=is_retryable_create)

    def get(self, kind: str, name: str, namespace: str | None = None) -> Obj | None:
        res = self._resource(kind)
        ns = self._ns(res, namespace)
        cached = self._mirror(res, ns)
        if cached is not None:
            cache, ref = cached
            return cache.get(ref, ns, name)
        try:
            return self.rest.call("GET", res.path(ns, name))
        except ApiError as exc:
            if exc.code == 404:
                return None
            raise

    def list(self, kind: str, namespace: str | None = None, labels: str | None = None) -> list[Obj]:
        res = self._resource(kind)
        ns = self._ns(res, namespace)
        cached = self._mirror(res, ns)
        if cached is not None:
            cache, ref = cached
            return cache.list(ref, ns, labels)
        result = self.rest.call("GET", res.path(ns), query={"labelSelector": labels or None})
        return _with_kind(res, result.get("items") or [])

    def update(self, obj: Obj) -> Obj:
        """PUT ``obj``. On 409 Conflict (someone else wrote first) the object is read again
        and the caller's spec, labels and annotations are put on the fresh copy."""
        res, ns = self._placed(obj)
        name = (obj.get("metadata") or {}).get("name", "")
        self._writable(res, ns, f"updating {res.kind} {name}", name)
        body = obj

        def attempt() -> Obj:
            nonlocal body
            try:
                return self.rest.call("PUT", res.path(ns, name), body=body)
            except ApiError as exc:
                if is_conflict(exc):
                    fresh = self.rest.call("GET", res.path(ns, name))
                    body = _rebase(obj, fresh)
                raise

        return self.rest.policy.call(attempt, lambda e: is_conflict(e) or is_transient_error(e))

    def patch(self, kind: str, name: str, body: Any, patch_type: str = "merge",
              namespace: str | None = None, subresource: str | None = None) -> Obj:
        if patch_type not in PATCH_TYPES:
            raise ValueError(f"patch_type must be one of {', '.join(PATCH_TYPES)}")
        res = self._resource(kind)
        ns = self._ns(res, namespace)
        self._writable(res, ns, f"patching {res.kind} {name}", name)
        return self.rest.call("PATCH", res.path(ns, name, subresource), body=body,
                              content_type=PATCH_TYPES[patch_type])

    def apply(self, obj: Obj, field_manager: str, force: bool = False) -> Obj:
        res, ns = self._placed(obj)
        name = (obj.get("metadata") or {}).get("name", "")
        self._writable(res, ns, f"applying {res.kind} {name}", name)
        if not res.namespaced:  # an apply may create it: labelled like a created one
            obj = kubeaccess.labelled(self, obj, RUN_LABEL)
            self.cluster_scoped_scenarios.add(self.namespace)
        return self.rest.call("PATCH", res.path(ns, name), body=obj,
                              query={"fieldManager": field_manager,
                                     "force": "true" if force else None},
                              content_type="application/apply-patch+yaml")

    def delete(self, kind: str, name: str, namespace: str | None = None,
               grace_period: int | None = None) -> None:
        res = self._resource(kind)
        ns = self._ns(res, namespace)
        self._writable(res, ns, f"deleting {res.kind} {name}", name)
        options: dict[str, Any] = {"apiVersion": "v1", "kind": "DeleteOptions"}
        if grace_period is not None:
            options["gracePeriodSeconds"] = grace_period
        self.rest.call("DELETE", res.path(ns, name), body=options)

    def scale(self, kind: str, name: str, replicas: int, namespace: str | None = None) -> None:
        res = self._resource(kind)
        ns = self._ns(res, namespace)
        self._writable(res, ns, f"scaling {res.kind} {name}", name)
        path = res.path(ns, name, "scale")

        def attempt() -> None:
            current = self.rest.call("GET", path)
            current.setdefault("spec", {})["replicas"] = replicas
            self.rest.call("PUT", path, body=current)

        self.rest.policy.call(attempt, lambda e: is_conflict(e) or is_transient_error(e))

    def events(self, namespace: str | None = None) -> list[Obj]:
        items = self.list("events", namespace)

        def order(event: Obj) -> tuple[str, int]:
            stamp = event.get("lastTimestamp") or event.get("eventTime") or \
                event.get("firstTimestamp") or event["metadata"].get("creationTimestamp") or ""
            rv = event["metadata"].get("resourceVersion") or "0"
            return (stamp, int(rv) if rv.isdigit() else 0)

        return sorted(items, key=order)

    # -- inside pods --------------------------------------------------------------------
    def _exec_api(self) -> Any:
        """CoreV1Api on a client of this thread's own, for exec only.

        ``kubernetes.stream.stream`` swaps the client's ``request`` for a websocket one while
        it runs; on the shared client a PATCH made meanwhile by another thread (a step, while
        a steady load execs in the background) went out as a websocket handshake and failed.
        """
        from kubernetes.client import ApiClient, CoreV1Api

        client = getattr(self._exec_clients, "client", None)
        if client is None:
            client = ApiClient(configuration=self.rest.api_client.configuration)
            self._exec_clients.client = client
            with self._lock:
                self._exec_client_list.append(client)
        return CoreV1Api(client)

    def exec(self, pod: str, command: Sequence[str], container: str | None = None,
             namespace: str | None = None, timeout: float = 60.0) -> ExecResult:
        from kubernetes.client.exceptions import ApiException
        from kubernetes.stream import stream

        self._note_uncached()
        ns = namespace or self.namespace
        try:
            ws = stream(self._exec_api().connect_get_namespaced_pod_exec, pod, ns,
                        command=list(command), container=container, stderr=True, stdin=False,
                        stdout=True, tty=False, _preload_content=False)
        except ApiException as exc:
            raise from_api_exception(exc) from exc
        try:
            ws.run_forever(timeout=timeout)
            stdout = ws.read_channel(1)
            stderr = ws.read_channel(2)
            error = ws.read_channel(3)
            still_open = ws.is_open()
        finally:
            ws.close()
        if still_open:
            raise ClusterTimeout(f"command {list(command)} in pod {pod} did not finish "
                                 f"within {timeout:g} s")
        return ExecResult(_exit_code(error, pod), stdout, stderr)

    def logs(self, pod: str, container: str | None = None, namespace: str | None = None,
             previous: bool = False, timestamps: bool = False) -> str:
        """The container's log; with ``timestamps`` each line starts with the time the
        kubelet logged it (RFC 3339, nanoseconds) and a space, as ``kubectl logs
        --timestamps`` prints it."""
        self._note_uncached()
        ns = namespace or self.namespace
        query = {"container": container, "previous": previous or None,
                 "timestamps": timestamps or None}
        text = self.rest.call("GET", f"/api/v1/namespaces/{ns}/pods/{pod}/log", query=query,
                              accept="*/*")
        return text if isinstance(text, str) else str(text)

    # -- traffic (see kubetraffic) --------------------------------------------------------
    @property
    def traffic(self) -> Any:
        """The scenario's KubeTraffic (its probe pod and loads), made on first use."""
        from kclusterkit.driver.kubetraffic import KubeTraffic

        if self._traffic is None or self._traffic.namespace != self.namespace:
            self._stop_traffic()
            self._traffic = KubeTraffic(self)
        return self._traffic

    def _stop_traffic(self) -> None:
        traffic, self._traffic = self._traffic, None
        if traffic is not None:
            traffic.stop_all()

    def send_requests(self, url: str, count: int) -> list[Request]:
        return self.traffic.send(url, count)

    def start_load(self, url: str, rate: float, method: str = "GET") -> Load:
        return self.traffic.start_load(url, rate, method)

    def request_from_outside(self, url: str) -> Request:
        self._note_uncached()  # a wait re-evaluates such a check on a back-off, too
        return self.traffic.from_outside(url)

    def resource_metrics(self, kind: str, namespace: str | None = None) -> list[Obj]:
        """metrics.k8s.io/v1beta1, served by metrics-server through the aggregator; a
        cluster without it (404, or 503 while its APIService is unavailable) cannot say."""
        if kind not in ("pods", "nodes"):
            raise ValueError(f"resource metrics are of pods or nodes, not {kind!r}")
        self._note_uncached()  # metrics are not watched: a wait re-checks on a back-off
        base = "/apis/metrics.k8s.io/v1beta1"
        ns = self.namespace if namespace is None else namespace
        path = f"{base}/nodes" if kind == "nodes" else (
            f"{base}/namespaces/{ns}/pods" if ns else f"{base}/pods")
        try:
            found = self.rest.call("GET", path)
        except ApiError as exc:
            if exc.code in (404, 503):
                raise NotSupported(
                    f"the cluster does not serve the resource metrics API metrics.k8s.io "
                    f"(install metrics-server): GET {path} answered {exc.code} "
                    f"{exc.reason}") from None
            raise
        return list((found or {}).get("items") or [])

    def make_unready(self, pod: str, namespace: str | None = None) -> None:
        self.require("readiness-fault", f"making pod {pod} unready (no make_unready hook: "
                     "there is no image-independent way on a real cluster)")
        ns = namespace or self.namespace
        if ns not in self._mine:
            raise Refused(f"making pod {pod} unready: refusing to touch namespace {ns!r}, "
                          "which this run did not create")
        self._hook("make_unready", namespace=ns, pod=pod)

    # -- faults -------------------------------------------------------------------------
    def _disruptive(self, hook: str, what: str) -> None:
        """A hook that touches shared machines runs only where the environment allows it."""
        if self.hooks.get(hook) and not self.allow_disruptive:
            raise Refused(f"{what}: disruptive on a shared cluster, and the environment file "
                          "does not set allow_disruptive: true")

    def _hook(self, name: str, **fields: Any) -> None:
        run_hook(self.hooks, name, kubeconfig=self.kubeconfig, context=self.rest.context,
                 **fields)

    def crash_container(self, pod: str, container: str | None = None,
                        namespace: str | None = None, exit_code: int = 1) -> None:
        """The environment's ``crash_container`` hook when it names one; otherwise SIGTERM
        to the container's PID 1 from inside (``kill 1``).

        Upstream has no API for this; without a hook we knowingly differ from the simulator
        in that the exit code is the process's own (``exit_code`` cannot be chosen), and a
        PID 1 that ignores SIGTERM (a bare ``sleep``) does not crash.
        """
        ns = namespace or self.namespace
        if ns not in self._mine:
            raise Refused(f"crashing a container: refusing to touch pod {pod} in "
                          f"namespace {ns!r}, which this run did not create")
        if self.hooks.get("crash_container"):
            self._hook("crash_container", namespace=ns, pod=pod, container=container,
                       exit_code=exit_code)
            return
        result = self.exec(pod, ["kill", "1"], container=container, namespace=ns)
        if result.exit_code != 0:
            result = self.exec(pod, ["sh", "-c", "kill 1"], container=container, namespace=ns)
        if result.exit_code != 0:
            raise ClusterError(f"could not crash the container of pod {pod}: kill 1 exited "
                               f"{result.exit_code}: {(result.stderr or result.stdout).strip()}")

    def fail_node(self, name: str) -> None:
        self._disruptive("fail_node", f"failing node {name}")
        self.require("node-failure", f"failing node {name}")
        self._hook("fail_node", node=name)
        self._failed_nodes.append(name)

    def recover_node(self, name: str) -> None:
        self._disruptive("recover_node", f"recovering node {name}")
        self.require("node-failure", f"recovering node {name}")
        self._hook("recover_node", node=name)
        if name in self._failed_nodes:
            self._failed_nodes.remove(name)

    # -- the control plane ----------------------------------------------------------------
    def stop_component(self, component: str, node: str | None = None) -> None:
        self.require("control-plane-fault", f"stopping {component}")
        self._hook("stop_component", component=component, node=node)
        self._stopped_components.append((component, node))

    def start_component(self, component: str, node: str | None = None) -> None:
        self.require("control-plane-fault", f"starting {component}")
        self._hook("start_component", component=component, node=node)
        for stopped in [s for s in self._stopped_components
                        if s[0] == component and (node is None or s[1] in (node, None))]:
            self._stopped_components.remove(stopped)

    def stop_cluster_dns(self) -> None:
        self.require("cluster-dns-fault", "stopping cluster DNS")
        self._hook("stop_cluster_dns")
        self._dns_stopped = True

    def start_cluster_dns(self) -> None:
        self.require("cluster-dns-fault", "starting cluster DNS")
        self._hook("start_cluster_dns")
        self._dns_stopped = False

    #: wall seconds "the API server answers" waits for an answer
    API_PROBE_TIMEOUT = 2.0

    def api_answers(self) -> Observation:
        """GET /readyz on the kubeconfig's endpoint, once, with a short timeout: a refused
        connection, a timeout or an error status is "does not answer"."""
        timeout = (self.API_PROBE_TIMEOUT, self.API_PROBE_TIMEOUT)
        try:
            said = self.rest.call("GET", "/readyz", policy=NO_RETRY, timeout=timeout,
                                  accept="text/plain, application/json", counted=False)
        except ApiError as exc:
            return Observation(False, f"{exc.code} {exc.reason}: {exc.message}".strip())
        except Unreachable as exc:
            return Observation(False, str(exc))
        return Observation(True, f"/readyz: {str(said).strip()[:200]}")

    def _restart_stopped_components(self) -> None:
        """A scenario that stopped a component starts it again, as it recovers nodes."""
        if self._dns_stopped:
            try:
                self.start_cluster_dns()
            except (ClusterError, NotSupported) as exc:
                self._dns_stopped = False
                print(f"kclusterkit: cluster DNS was stopped by the scenario and could not "
                      f"be started again: {exc}", file=sys.stderr)
        for component, node in reversed(list(self._stopped_components)):
            try:
                self.start_component(component, node)
            except (ClusterError, NotSupported) as exc:
                self._stopped_components.remove((component, node))
                print(f"kclusterkit: {component} was stopped by the scenario and could not "
                      f"be started again: {exc}", file=sys.stderr)
    # -- nodes (node maintenance; kclusterkit.driver.kubenodes) -------------------------
    def set_node_unschedulable(self, name: str, unschedulable: bool) -> None:
        self.node_changes.set_unschedulable(name, unschedulable)

    def set_node_label(self, name: str, key: str, value: str | None) -> None:
        self.node_changes.set_label(name, key, value)

    def set_node_taint(self, name: str, taint: Obj, present: bool) -> None:
        self.node_changes.set_taint(name, taint, present)

    def evict(self, pod: str, namespace: str | None = None) -> None:
        """One eviction, not retried here: a 429 is the budget's answer for the caller."""
        ns = self.namespace if namespace is None else namespace
        if ns not in self._mine:
            self.node_changes.refuse_unless_allowed(
                f"evicting pod {pod} of namespace {ns!r}, which this run did not create")
        body = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": pod, "namespace": ns}}
        self.rest.call("POST", f"/api/v1/namespaces/{ns}/pods/{pod}/eviction", body=body,
                       policy=NO_RETRY)

    def set_network_plugin(self, installed: bool) -> None:
        """Removing: the environment's remove_network_plugin hook. Installing: the objects
        of its network_plugin_manifest created through the API (kubeplugin), else its
        install_network_plugin hook. A plugin the scenario removed is installed again when
        it ends."""
        hook = "install_network_plugin" if installed else "remove_network_plugin"
        what = f"{'installing' if installed else 'removing'} the network plugin"
        if not self.allow_disruptive and (self.hooks.get(hook) or (
                installed and self.network_plugin_manifest)):
            raise Refused(f"{what}: disruptive on a shared cluster, and the environment file "
                          "does not set allow_disruptive: true")
        self.require("network-plugin", f"{what} (needs the remove_network_plugin hook and "
                     "network_plugin_manifest or the install_network_plugin hook)")
        if installed and self.network_plugin_manifest:
            kubeplugin.apply_manifest(self, self.network_plugin_manifest)
        else:
            self._hook(hook)
        self._plugin_removed = not installed

    def _reinstall_network_plugin(self) -> None:
        if self._plugin_removed:
            try:
                self.set_network_plugin(True)
            except (ClusterError, NotSupported) as exc:
                self._log(f"kclusterkit: the network plugin the scenario removed could not be "
                          f"installed again: {exc}")
                self._plugin_removed = False

    def _recover_failed_nodes(self) -> None:
        """A scenario that failed a node gives it back: the next scenario, and whoever owns
        the cluster, find it as it was. Without a recover hook, say so instead."""
        for name in list(self._failed_nodes):
            try:
                self.recover_node(name)
            except (ClusterError, NotSupported) as exc:
                self._failed_nodes.remove(name)
                print(f"kclusterkit: node {name} was failed by the scenario and could not be "
                      f"recovered: {exc}", file=sys.stderr)

    # -- time ---------------------------------------------------------------------------
    def now(self) -> float:
        """Cluster time as seconds since the Unix epoch (the cluster's own clock)."""
        return self.clock.now()

    @property
    def speed(self) -> float:
        return self.clock.speed

    def timestamp(self) -> str:
        return self.clock.timestamp()

    def to_wall(self, seconds: float) -> float:
        """Wall seconds that ``seconds`` of cluster time take (roughly: a loaded server's
        clock may lag, so waits always compare against ``now()``)."""
        return seconds / self.speed

    def sleep(self, seconds: float) -> None:
        end = self.now() + max(0.0, seconds)
        while (left := end - self.now()) > 0:
            time.sleep(max(self.to_wall(left), 0.005))

    @contextmanager
    def _watching(self, kinds: Sequence[str]) -> Iterator[WaitCache]:
        cache = WaitCache(self)
        rows = []
        for kind in kinds or DEFAULT_WAIT_KINDS:
            res = self._resource(kind)
            rows.append((res, self._ns(res, None)))
        previous = self._cache, self._cache_thread
        self._cache, self._cache_thread = cache, threading.get_ident()
        beating = threading.Event()
        heart = threading.Thread(target=self._heartbeat, args=(cache, beating), daemon=True,
                                 name="kk-heartbeat")
        try:
            start_mirrors(cache, rows)
            heart.start()
            yield cache
        finally:
            beating.set()
            self._cache, self._cache_thread = previous
            cache.close()

    #: during a wait, how often (wall seconds) the server is asked whether it still answers,
    #: and after how many unanswered asks in a row the wait ends as Unreachable
    HEARTBEAT = 4.0
    HEARTBEAT_MISSES = 2

    def _heartbeat(self, cache: WaitCache, done: threading.Event) -> None:
        """A wait reads its mirrors, and a watch of a stopped server is merely silent: ask
        ``/version`` now and then, and end the wait when the server stops answering."""
        misses = 0
        while not done.wait(self.HEARTBEAT):
            try:
                self.rest.call("GET", "/version", policy=NO_RETRY, timeout=(3.0, 3.0))
                misses = 0
            except Unreachable as exc:
                misses += 1
                if misses >= self.HEARTBEAT_MISSES:
                    cache.fail(Unreachable(f"{exc} (no answer for the last {misses} "
                                           f"checks, {self.HEARTBEAT * misses:g} s)"))
                    return
            except ClusterError:
                misses = 0  # it answered, if not with what /version should say

    def wait_until(self, check: Check, timeout: float, kinds: Sequence[str] = ()) -> WaitResult:
        with self._watching(kinds) as cache:
            result = wait_until(cache, check, timeout, self.now, self.to_wall)
        if not result.ok:
            # One last look with fresh reads: a change made before the deadline may still
            # have been on its way through the watch (a loaded machine, a fast clock).
            try:
                last = check()
            except ClusterError:
                last = None
            if last is not None:
                if last.ok:
                    return WaitResult(True, result.waited, last)
                result.last = last
        if not result.ok and result.failed_at is None:
            result.failed_at = self.now()
        return result

    def hold(self, check: Check, duration: float, kinds: Sequence[str] = ()) -> WaitResult:
        with self._watching(kinds) as cache:
            return hold(cache, check, duration, self.now, self.to_wall)

    # -- the wait's mirrors ---------------------------------------------------------------
    def _mirror(self, res: ApiResource, ns: str) -> tuple[WaitCache, Any] | None:
        cache = self._cache
        if cache is None or self._cache_thread != threading.get_ident():
            return None
        ref = cache.ensure(res, ns)
        if ref is None:
            cache.uncached += 1
            return None
        return cache, ref

    def _note_uncached(self) -> None:
        cache = self._cache
        if cache is not None and self._cache_thread == threading.get_ident():
            cache.uncached += 1

    # WatchSource, used by the mirrors (from their own threads)
    def list_for_watch(self, res: ApiResource, namespace: str) -> tuple[list[Obj], str]:
        result = self.rest.call("GET", res.path(namespace))
        rv = (result.get("metadata") or {}).get("resourceVersion") or ""
        return _with_kind(res, result.get("items") or []), rv

    def open_watch(self, res: ApiResource, namespace: str, resource_version: str) -> _Watch:
        query = {"watch": True, "allowWatchBookmarks": True,
                 "resourceVersion": resource_version or None, "timeoutSeconds": 300}
        resp = self.rest.open_stream(res.path(namespace), query, read_timeout=330)
        return _Watch(resp)


class _Watch:
    """One open watch response: iterate its events; ``close`` from any thread stops it.

    The connection goes back to the pool from the thread that read it, once it is done."""

    def __init__(self, resp: Any) -> None:
        self.resp = resp
        self._reading = False
        self._released = False

    def __iter__(self) -> Iterator[Obj]:
        self._reading = True
        try:
            yield from iter_json_lines(self.resp)
        finally:
            self._release()

    def _release(self) -> None:
        if self._released:
            return
        self._released = True
        try:
            self.resp.close()
            self.resp.release_conn()
        except Exception:  # noqa: BLE001 — already closed or released
            pass

    def close(self) -> None:
        try:
            self.resp.shutdown()  # wakes the reader: its read returns at once
        except Exception:  # noqa: BLE001 — already closed or released
            pass
        if not self._reading:
            self._release()


# -- helpers -------------------------------------------------------------------------------

def _with_kind(res: ApiResource, items: list[Obj]) -> list[Obj]:
    # List items come without apiVersion/kind; kubectl get -o json puts them back, so do we.
    for item in items:
        item.setdefault("apiVersion", res.api_version)
        item.setdefault("kind", res.kind)
    return items


def _rebase(mine: Obj, fresh: Obj) -> Obj:
    """The fresh object with the caller's spec, labels and annotations on top."""
    out = dict(fresh)
    if "spec" in mine:
        out["spec"] = mine["spec"]
    meta = dict(fresh.get("metadata") or {})
    for field in ("labels", "annotations"):
        if (mine.get("metadata") or {}).get(field) is not None:
            meta[field] = {**(meta.get(field) or {}), **mine["metadata"][field]}
    out["metadata"] = meta
    return out


def _node_ready(node: Obj) -> bool:
    for cond in (node.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def _is_control_plane(node: Obj) -> bool:
    labels = (node.get("metadata") or {}).get("labels") or {}
    return any(label in labels for label in CONTROL_PLANE_LABELS)


def _exit_code(error_channel: str, pod: str) -> int:
    """The exit code from the exec error channel's Status (v4 protocol)."""
    import json

    if not error_channel.strip():
        return 0
    try:
        status = json.loads(error_channel)
    except ValueError:
        raise ClusterError(f"exec in pod {pod}: unreadable status {error_channel[:200]!r}") \
            from None
    if status.get("status") == "Success":
        return 0
    for cause in (status.get("details") or {}).get("causes") or []:
        if cause.get("reason") == "ExitCode":
            return int(cause.get("message") or 1)
    raise ApiError(int(status.get("code") or 500), status.get("reason") or "InternalError",
                   status.get("message") or "exec failed", status=status)


# -- environments --------------------------------------------------------------------------

def from_environment(env: Any, seed: int, run_id: str | None = None) -> KubeDriver:
    """The factory's entry point for ``kubeconfig`` (``kclusterkit.driver.factory.BUILDERS``);
    the seed is the cluster's own, where it advertises one."""
    return KubeDriver.from_config(dict(env.options), run_id=run_id, target=env.target)
