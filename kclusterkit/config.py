"""Loading and validating ``environments/*.yaml``: where a run points, and how.

A name is looked up in the project's ``environments/`` first, then among the files shipped
in the package (``kclusterkit/environments``), so an installed kclusterkit runs anywhere.

An environment file is the only thing that changes between running a feature on the
simulator and on a real cluster, so a mistake in it must stop the run before any scenario
with one line that names the file and the field. Validation is strict (unknown keys are
refused with the closest known key) because a misspelt timing silently ignored would make a
scenario pass or fail for the wrong reason.

Target-specific options (kubeconfig, cleanup, fault hooks, ``serve``) are checked for their
shape here and handed to the driver factory untouched in ``Environment.options``; a target
that needs more keys adds them to ``TARGET_OPTIONS``.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from math import inf
from pathlib import Path
from typing import Any

import yaml

from kclusterkit import safe_yaml
from kclusterkit.errors import ConfigurationError
from kclusterkit.sim.timings import Timings

TARGETS = ("sim", "sim-api", "kubeconfig")
DEFAULT_SEED = 1
ENVIRONMENTS_DIR = "environments"
DEFAULT_ENVIRONMENT = "sim"


class EnvironmentFileError(ConfigurationError):
    """An environment file cannot be used; the message is one line naming file and field."""


@dataclass
class NodeShapeConfig:
    cpu: str = "4"
    memory: str = "8Gi"
    pods: int = 110


@dataclass
class ClusterConfig:
    control_plane_nodes: int = 1
    worker_nodes: int = 2
    node: NodeShapeConfig = field(default_factory=NodeShapeConfig)
    network_plugin: bool = True
    default_storage_class: bool = True  # kind's "standard" (a real cluster may have none)
    network_storage_class: bool = True  # the simulator's "longhorn" (network-attached)
    zones: tuple[str, ...] = ()


@dataclass
class Environment:
    """A validated environment file."""

    name: str
    path: Path | None
    target: str = "sim"
    seed: int | None = None
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    timings: dict[str, float] = field(default_factory=dict)
    #: target-specific options (kubeconfig, context, namespace_prefix, cleanup,
    #: allow_disruptive, hooks, serve …), validated for shape, passed to the driver factory
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def display(self) -> str:
        return _display(self.path) if self.path else self.name


# -- value checkers: return the value (maybe converted) or raise _Bad(expected) -----------
class _Bad(Exception):
    pass


Checker = Callable[[Any], Any]


def _whole(minimum: int = 0) -> Checker:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise _Bad(f"a whole number >= {minimum}")
        return value

    return check


def _seconds(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _Bad("a number of seconds >= 0")
    return float(value)


def _positive(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < inf:
        raise _Bad("a number > 0")
    return float(value)


def _port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
        raise _Bad("a port number from 0 (any free port) to 65535")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise _Bad("true or false")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Bad("a non-empty string")
    return value


def _quantity(kind: str) -> Checker:
    def check(value: Any) -> str:
        from kclusterkit.kube.quantity import cpu_millis, memory_bytes

        example = "4 or 500m" if kind == "cpu" else "8Gi"
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise _Bad(f"a {kind} quantity like {example}")
        text = str(value)
        try:
            amount = cpu_millis(text) if kind == "cpu" else memory_bytes(text)
        except Exception:  # noqa: BLE001  (any parse failure is the same user error)
            raise _Bad(f"a {kind} quantity like {example}") from None
        if amount <= 0:
            raise _Bad(f"a positive {kind} quantity")
        return text

    return check


def _one_of(*choices: str) -> Checker:
    def check(value: Any) -> str:
        if value not in choices:
            raise _Bad("one of " + ", ".join(choices))
        return value

    return check


def _zones(value: Any) -> tuple[str, ...]:
    """Zone names (label values) the nodes are spread over, round robin."""
    import re

    if not isinstance(value, list) or not value or not all(
            isinstance(z, str) and re.fullmatch(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?",
                                                z) for z in value):
        raise _Bad("a list of zone names (label values, e.g. [zone-a, zone-b])")
    if len(set(value)) != len(value):
        raise _Bad("a list of distinct zone names")
    return tuple(value)


def _mapping(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Bad("a mapping")
    return dict(value)


#: ``serve:`` of target sim-api (how the served simulator runs)
SERVE_FIELDS: dict[str, Checker] = {
    "speed": _positive,
    "port": _port,
}
NODE_FIELDS: dict[str, Checker] = {
    "cpu": _quantity("cpu"),
    "memory": _quantity("memory"),
    "pods": _whole(1),
}
CLUSTER_FIELDS: dict[str, Checker] = {
    "control_plane_nodes": _whole(1),
    "worker_nodes": _whole(0),
    "node": _mapping,  # checked field by field below
    "network_plugin": _boolean,
    "default_storage_class": _boolean,
    "network_storage_class": _boolean,
    "zones": _zones,
}
#: Options the non-simulator targets read; extend here for a new target.
TARGET_OPTIONS: dict[str, Checker] = {
    "kubeconfig": _text,
    "context": _text,
    "namespace_prefix": _text,
    "cleanup": _one_of("always", "on-success", "never"),
    "allow_disruptive": _boolean,
    "hooks": _mapping,
    "serve": _mapping,
    "request_timeout": _positive,  # per API request (the driver has read it all along)
    "network_plugin_manifest": _text,  # a file, relative to the environment file
}
TOP_FIELDS: dict[str, Checker | None] = {
    "target": _one_of(*TARGETS),
    "seed": _whole(0),
    "cluster": None,
    "timings": None,
    **TARGET_OPTIONS,
}


def _display(path: Path) -> str:
    if path.parent == BUILTIN_DIR:
        return f"kclusterkit:{ENVIRONMENTS_DIR}/{path.name}"  # where the user can find it
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _unknown(where: str, key: Any, known: list[str]) -> str:
    close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.5)
    hint = f" (did you mean {close[0]!r}?)" if close else f" (known: {', '.join(known)})"
    return f"{where}{key}: unknown key{hint}"


def _check_fields(data: Mapping[str, Any], spec: Mapping[str, Checker | None], prefix: str,
                  fail: Callable[[str], Exception]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key not in spec:
            raise fail(_unknown(prefix, key, list(spec)))
        checker = spec[key]
        if checker is None:
            out[key] = value
            continue
        try:
            out[key] = checker(value)
        except _Bad as bad:
            raise fail(f"{prefix}{key}: expected {bad}, got {value!r}") from None
    return out


def parse_environment(data: Any, name: str, path: Path | None) -> Environment:
    """Validate the parsed YAML of an environment file."""
    shown = _display(path) if path else name

    def fail(message: str) -> EnvironmentFileError:
        return EnvironmentFileError(f"{shown}: {message}")

    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise fail(f"expected a mapping of settings at the top, got {type(data).__name__}")
    top = _check_fields(data, TOP_FIELDS, "", fail)
    env = Environment(name=name, path=path, target=top.get("target", "sim"), seed=top.get("seed"))

    cluster = top.get("cluster") or {}
    if not isinstance(cluster, dict):
        raise fail(f"cluster: expected a mapping, got {cluster!r}")
    checked = _check_fields(cluster, CLUSTER_FIELDS, "cluster.", fail)
    node = _check_fields(checked.pop("node", {}) or {}, NODE_FIELDS, "cluster.node.", fail)
    env.cluster = ClusterConfig(**checked, node=NodeShapeConfig(**node))

    timings = top.get("timings") or {}
    if not isinstance(timings, dict):
        raise fail(f"timings: expected a mapping, got {timings!r}")
    spec = {key: _seconds for key in Timings.names()}
    env.timings = _check_fields(timings, spec, "timings.", fail)

    if "serve" in top:
        top["serve"] = _check_fields(top["serve"], SERVE_FIELDS, "serve.", fail)
    env.options = {key: top[key] for key in TARGET_OPTIONS if key in top}
    manifest = env.options.get("network_plugin_manifest")
    if manifest and path is not None and not os.path.isabs(manifest):
        env.options["network_plugin_manifest"] = str(path.parent / manifest)
    return env


#: The environments shipped with the package (sim, sim-ha, sim-api, kubeconfig): a project
#: that has no ``environments/`` folder, or not this name in it, still runs on them.
BUILTIN_DIR = Path(__file__).resolve().parent / ENVIRONMENTS_DIR


def _is_path(name: str) -> bool:
    return "/" in name or os.sep in name or name.endswith((".yaml", ".yml"))


def environment_path(name: str, root: Path | None = None) -> Path:
    """``sim`` → ``<root>/environments/sim.yaml`` if the project has it, else the built-in
    file of that name (if any); a path (with / or .yaml) is used as is."""
    root = root or Path.cwd()
    if _is_path(name):
        path = Path(name)
        return path if path.is_absolute() else root / path
    own = root / ENVIRONMENTS_DIR / f"{name}.yaml"
    builtin = BUILTIN_DIR / f"{name}.yaml"
    return builtin if not own.is_file() and builtin.is_file() else own


def builtin() -> list[str]:
    """Names of the environments shipped with kclusterkit."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def replay_name(env: Environment, root: Path | None = None) -> str:
    """What ``-D env=…`` (and ``cleanup -e``) must say to load ``env`` again: its name when
    that resolves to its file, else its path (relative when run from the project root)."""
    root = root or Path.cwd()
    if env.path is None or environment_path(env.name, root) == env.path:
        return env.name
    relative = os.path.relpath(env.path, root)
    if root.resolve() == Path.cwd().resolve() and not relative.startswith("..") \
            and environment_path(relative, root) == env.path:
        return relative
    return str(env.path)


def available(root: Path | None = None) -> list[str]:
    """Names a run can use: the project's own environments, then the built-in ones."""
    folder = (root or Path.cwd()) / ENVIRONMENTS_DIR
    own = {p.stem for p in folder.glob("*.yaml")} if folder.is_dir() else set()
    return sorted(own | set(builtin()))


def load_environment(name: str = DEFAULT_ENVIRONMENT, root: Path | None = None) -> Environment:
    """Read and validate an environment by name or path; raises EnvironmentFileError.

    A name resolves from the project's ``environments/`` first, then the built-ins."""
    path = environment_path(name, root)
    if not path.is_file() and name == DEFAULT_ENVIRONMENT:
        # no sim.yaml anywhere (cannot happen with an intact installation): the defaults
        return Environment(name=name, path=None)
    if not path.is_file():
        known = available(root)
        hint = f" (available: {', '.join(known)})" if known else ""
        close = difflib.get_close_matches(name, known, n=1)
        if close:
            hint = f" (did you mean {close[0]!r}?)"
        raise EnvironmentFileError(f"{_display(path)}: no such environment file{hint}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise EnvironmentFileError(
            f"{_display(path)}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
            "save the file as UTF-8") from None
    except OSError as exc:
        raise EnvironmentFileError(f"{_display(path)}: cannot read: {exc.strerror}") from None
    try:
        data = safe_yaml.load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "invalid YAML"
        raise EnvironmentFileError(
            f"{_display(path)}{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as exc:
        raise EnvironmentFileError(f"{_display(path)}: YAML syntax error: {exc}") from None
    return parse_environment(data, path.stem, path)


def resolve_seed(userdata_seed: Any, env: Environment) -> int:
    """``-D seed=N`` wins, then the environment file's seed, then DEFAULT_SEED."""
    if userdata_seed in (None, ""):
        return env.seed if env.seed is not None else DEFAULT_SEED
    try:
        seed = int(str(userdata_seed))
    except ValueError:
        raise EnvironmentFileError(
            f"-D seed={userdata_seed}: expected a whole number >= 0") from None
    if seed < 0:
        raise EnvironmentFileError(f"-D seed={userdata_seed}: expected a whole number >= 0")
    return seed
