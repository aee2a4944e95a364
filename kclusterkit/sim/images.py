"""The image registry and what each image's process does once the kubelet starts it.

A scenario says "running nginx:1.25" or "busybox that exits 1" and expects the pod to do
what that image does on a real node: nginx serves until it is told to stop, a busybox
`sh -c 'exit 1'` dies at once and crash-loops, an image whose tag does not exist never
pulls. This module answers those questions for the kubelet: does the image exist, how it
is named and identified once pulled, and how its main process behaves (how long it runs,
with which exit code, what it prints, how it reacts to SIGTERM).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from kclusterkit.sim import shell

DEFAULT_REGISTRY = "docker.io"
MISSING_MARKERS = ("missing", "doesnotexist", "nonexistent")

# Images whose process serves until stopped when run without a command.
_SERVERS = {"nginx", "httpd", "redis", "mysql", "postgres", "pause", "mariadb", "mongo",
            "memcached", "rabbitmq", "traefik", "caddy", "haproxy", "envoy", "coredns",
            "etcd", "registry", "grafana", "prometheus", "node", "python", "openjdk"}
# Images whose default command is a shell: without a terminal it exits 0 at once, so a
# bare `busybox` pod completes and crash-loops under restartPolicy Always, as upstream.
_SHELL_IMAGES = {"busybox", "alpine", "ubuntu", "debian", "centos", "fedora", "curl",
                 "netshoot", "dnsutils", "jessie-dnsutils", "bash"}
# Rough compressed sizes (bytes) the Pulled event reports; others get a derived size.
_SIZES = {"nginx": 72_223_946, "busybox": 2_166_802, "agnhost": 51_124_612,
          "mysql": 173_534_102, "redis": 45_133_120, "postgres": 158_634_998,
          "httpd": 58_373_229, "pause": 320_368, "alpine": 3_645_003}


@dataclass(frozen=True)
class ImageRef:
    registry: str
    repository: str  # e.g. library/nginx, e2e-test-images/agnhost
    tag: str
    digest: str

    @property
    def family(self) -> str:
        """The image's short name: nginx, busybox, agnhost…"""
        return self.repository.rsplit("/", 1)[-1]

    @property
    def normalized(self) -> str:
        """The reference as containerd reports it in ``containerStatuses[].image``."""
        base = f"{self.registry}/{self.repository}"
        if self.digest:
            return f"{base}@{self.digest}"
        return f"{base}:{self.tag}"


def parse_image(image: str) -> ImageRef:
    """Split an image reference the way docker's reference parser does."""
    rest, digest = (image.split("@", 1) + [""])[:2] if "@" in image else (image, "")
    first, _, remainder = rest.partition("/")
    if remainder and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = DEFAULT_REGISTRY, rest
    tag = ""
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = path.rsplit(":", 1)
    if not tag and not digest:
        tag = "latest"
    if registry == DEFAULT_REGISTRY and "/" not in path:
        path = f"library/{path}"
    return ImageRef(registry, path, tag, digest)


# -- which tags the registry has ------------------------------------------------------
#
# For the images the simulator models, a tag exists only if it looks like one the real
# repository publishes: a version within the range it has released (nginx 1.7–1.29,
# busybox 1.21–1.37, agnhost 2.0–2.59 …), optionally with a variant suffix (-alpine,
# -perl, -musl …), or a named alias (latest, stable, lts …). Ranges are generous; they
# exclude what is plainly invented (nginx:99.99, busybox:9.9, agnhost:2.999). Any other
# repository's tags cannot be known, so every tag of it exists.


@dataclass(frozen=True)
class _Versions:
    """Releases ``major[.minor[.patch]]`` with major in majors and minor in minors."""

    majors: range
    minors: range
    patch_max: int = -1  # highest patch number; -1: tags never carry one
    major_alone: bool = True  # whether a bare ``major`` tag (nginx:1) exists


@dataclass(frozen=True)
class _Tags:
    versions: tuple[_Versions, ...]
    names: frozenset[str] = frozenset({"latest"})  # aliases that exist as they are
    flavoured: frozenset[str] = frozenset()  # aliases that also take a -variant suffix
    variants: str = ""  # regex of the variant after ``-``; "" when there are none
    bare_variants: bool = False  # a variant alone is a tag too (nginx:alpine)


_DISTROS = r"(?:alpine(?:3\.\d{1,2})?|bookworm|bullseye|buster|stretch|jessie|trixie)"
_TAGS: dict[str, _Tags] = {
    "nginx": _Tags(
        (_Versions(range(1, 2), range(7, 30), 20),),
        frozenset({"latest", "stable", "mainline"}), frozenset({"stable", "mainline"}),
        rf"(?:{_DISTROS}(?:-(?:perl|slim|otel))?|perl|otel)", True),
    "busybox": _Tags(
        (_Versions(range(1, 2), range(21, 38), 9),),
        frozenset({"latest", "stable", "unstable"}), frozenset({"stable", "unstable"}),
        r"(?:musl|glibc|uclibc)", True),
    "agnhost": _Tags((_Versions(range(2, 3), range(0, 60), -1, False),), frozenset()),
    "pause": _Tags((_Versions(range(0, 1), range(8, 9), 0, False),
                    _Versions(range(1, 3), range(0, 1), -1, False),
                    _Versions(range(3, 4), range(0, 11), 3, False))),
    "mysql": _Tags(
        (_Versions(range(5, 6), range(5, 8), 62), _Versions(range(8, 9), range(0, 5), 45),
         _Versions(range(9, 10), range(0, 6), 9)),
        frozenset({"latest", "lts", "innovation"}), frozenset({"lts", "innovation"}),
        r"(?:oracle|oraclelinux[789]|debian|bookworm|bullseye|buster)", True),
    "mariadb": _Tags(
        (_Versions(range(5, 6), range(5, 6), 64), _Versions(range(10, 11), range(0, 12), 30),
         _Versions(range(11, 12), range(0, 9), 9), _Versions(range(12, 13), range(0, 3), 9)),
        frozenset({"latest", "lts", "rc"}), frozenset({"latest", "lts", "rc"}),
        r"(?:ubi9?|noble|jammy|focal|bionic|xenial)", True),
    "redis": _Tags(
        (_Versions(range(2, 3), range(6, 9), 24, False), _Versions(range(3, 6), range(0, 3), 14),
         _Versions(range(6, 7), range(0, 3), 20), _Versions(range(7, 8), range(0, 5), 20),
         _Versions(range(8, 9), range(0, 5), 9)),
        variants=rf"(?:{_DISTROS}|32bit)", bare_variants=True),
    "postgres": _Tags(
        (_Versions(range(9, 10), range(0, 7), 24), _Versions(range(10, 19), range(0, 26))),
        variants=_DISTROS, bare_variants=True),
    "httpd": _Tags((_Versions(range(2, 3), range(2, 5), 70),),
                   variants=_DISTROS, bare_variants=True),
    "alpine": _Tags(
        (_Versions(range(2, 3), range(6, 8), 3, False), _Versions(range(3, 4), range(0, 24), 12)),
        frozenset({"latest", "edge"})),
}
# Where each modelled image lives. agnhost and pause are not on Docker Hub; their short
# names still get their rules, since specs write ``agnhost:2.53`` for the e2e image.
_KNOWN_REPOS: dict[str, str] = {
    **{f"{DEFAULT_REGISTRY}/library/{name}": name for name in _TAGS},
    **{f"{registry}/{path}agnhost": "agnhost"
       for registry in ("registry.k8s.io", "k8s.gcr.io", "gcr.io")
       for path in ("e2e-test-images/", "kubernetes-e2e-test-images/")},
    **{f"{registry}/{path}pause": "pause" for registry in ("registry.k8s.io", "k8s.gcr.io")
       for path in ("", "google_containers/")},
}
_VERSION = re.compile(r"(\d+)(?:\.(\d+)(?:\.(\d+))?)?")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def known_image(image: str) -> bool:
    """Whether the simulator knows which tags this image's repository has."""
    ref = parse_image(image)
    return f"{ref.registry}/{ref.repository}" in _KNOWN_REPOS


def _tag_exists(rules: _Tags, tag: str) -> bool:
    if tag in rules.names:
        return True
    if rules.bare_variants and re.fullmatch(rules.variants, tag):
        return True
    base, dash, variant = tag.partition("-")
    if dash and not (rules.variants and re.fullmatch(rules.variants, variant)):
        return False
    if dash and base in rules.flavoured:
        return True
    match = _VERSION.fullmatch(base)
    if match is None:
        return False
    major, minor, patch = (None if g is None else int(g) for g in match.groups())
    for rel in rules.versions:
        if major not in rel.majors:
            continue
        if minor is None:
            if rel.major_alone:
                return True
        elif minor in rel.minors and (patch is None or patch <= rel.patch_max):
            return True
    return False


def image_exists(image: str, missing_images: tuple[str, ...] | list[str] = ()) -> bool:
    """Whether the registry serves this image.

    A tag saying it is missing never exists, nor do the images the cluster spec lists as
    missing; a modelled image's tag exists only if it looks like a real one (see _TAGS);
    a digest exists if it is well formed. Unknown repositories serve every other tag.
    """
    ref = parse_image(image)
    tag = ref.tag.lower()
    if any(marker in tag for marker in MISSING_MARKERS):
        return False
    for other in missing_images:
        if other == image or parse_image(other).normalized == ref.normalized:
            return False
    family = _KNOWN_REPOS.get(f"{ref.registry}/{ref.repository}")
    if family is None:
        return True
    if ref.digest:  # containerd pulls by digest and ignores any tag beside it
        return _DIGEST.fullmatch(ref.digest) is not None
    return _tag_exists(_TAGS[family], ref.tag)


def pull_error(image: str) -> str:
    """containerd's error for a tag the registry does not have (via the CRI)."""
    full = parse_image(image).normalized
    return (f'rpc error: code = NotFound desc = failed to pull and unpack image "{full}": '
            f'failed to resolve reference "{full}": {full}: not found')


def _digest(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def image_id(image: str) -> str:
    """``containerStatuses[].imageID``: the repository digest of what was pulled."""
    ref = parse_image(image)
    digest = ref.digest or _digest(ref.normalized)
    return f"{ref.registry}/{ref.repository}@{digest}"


def image_size(image: str) -> int:
    ref = parse_image(image)
    if ref.family in _SIZES:
        return _SIZES[ref.family]
    return 20_000_000 + int(hashlib.sha256(ref.normalized.encode()).hexdigest()[:6], 16) * 10


# -- what the main process does --------------------------------------------------------


@dataclass
class Plan:
    """How a container's main process behaves from the moment it starts."""

    runs_for: float | None = None  # seconds until it exits on its own; None: serves forever
    exit_code: int = 0
    # Lines the process prints, each with the offset (seconds after start) it prints at.
    output: list[tuple[float, str]] = field(default_factory=list)
    # Seconds it needs to exit after SIGTERM; None: it ignores SIGTERM (killed at grace end).
    stop_seconds: float | None = 0.0
    stop_exit_code: int = 0
    start_error: str | None = None  # the runtime could not start it at all (StartError)
    serves: str | None = None  # what it answers on the network (see images' servers)
    argv: list[str] = field(default_factory=list)
    # A shell script the process runs live on the cluster clock (``shell.Process``): when
    # it exits and what it prints is known only by running it, so runs_for stays None.
    script: str | None = None
    # Once running it writes the node's CNI config (/etc/cni/net.d), as kindnetd does:
    # the container runtime's network turns ready on that node (sim.network.plugin).
    cni_config: bool = False


def _entrypoint(ref: ImageRef) -> tuple[list[str], list[str]]:
    """The image's ENTRYPOINT and CMD (what runs when the pod gives neither)."""
    fam = ref.family
    if fam in _SHELL_IMAGES:
        return [], ["sh"]
    if fam == "agnhost":
        return ["/agnhost"], []
    if fam == "pause":
        return ["/pause"], []
    if fam == "resource-consumer":
        return ["/consumer"], []
    if fam == "nginx":
        return ["/docker-entrypoint.sh"], ["nginx", "-g", "daemon off;"]
    if fam == "httpd":
        return [], ["httpd-foreground"]
    if fam in ("mysql", "mariadb"):
        return ["docker-entrypoint.sh"], ["mysqld"]
    if fam == "postgres":
        return ["docker-entrypoint.sh"], ["postgres"]
    if fam == "redis":
        return ["docker-entrypoint.sh"], ["redis-server"]
    return [], [fam]


def argv_of(container: dict[str, Any]) -> list[str]:
    """The process the runtime starts: command/args override ENTRYPOINT/CMD as upstream."""
    ref = parse_image(container.get("image") or "")
    entry, cmd = _entrypoint(ref)
    command = container.get("command")
    args = container.get("args")
    if command:
        return [str(a) for a in command] + [str(a) for a in (args or [])]
    return entry + [str(a) for a in (args if args is not None else cmd)]


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e.get("name", ""): str(e.get("value", "")) for e in container.get("env") or []
            if isinstance(e, dict)}


def _not_found(binary: str) -> str:
    return ("failed to create containerd task: failed to create shim task: OCI runtime create "
            "failed: runc create failed: unable to start container process: error during "
            f'container init: exec: "{binary}": executable file not found in $PATH: unknown')


_SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"}
_BUSYBOX_APPLETS = {"sleep", "echo", "true", "false", "cat", "ls", "nslookup", "wget", "env",
                    "hostname", "tail", "printf", "date", "watch", "yes", "top", "nc"}


def plan_for(container: dict[str, Any]) -> Plan:
    """What the container's main process does, from its image and command.

    A shell script (``sh -c …``, or a busybox applet as the command) is not run here: the
    plan carries it and the kubelet runs it as a live process (``Plan.script``).
    """
    ref = parse_image(container.get("image") or "")
    fam = ref.family
    argv = argv_of(container)
    env = _env(container)
    plan = Plan(argv=argv)
    binary = argv[0] if argv else ""
    base = binary.rsplit("/", 1)[-1]
    if fam == "agnhost" and base == "agnhost":
        return _agnhost_plan(argv[1:], plan)
    if fam == "kindnetd":
        plan.cni_config = True
        return plan
    if fam == "coredns":  # serves DNS on 53, /health on 8080, /ready on 8181, metrics 9153
        plan.serves = "coredns"
    if fam == "resource-consumer" and base == "consumer":
        plan.serves = "resource-consumer"  # test/images/resource-consumer: :8080
        return plan
    if base == "docker-entrypoint.sh" or (fam in _SERVERS and base == fam):
        return _server_plan(fam, env, plan)
    if fam == "nginx" and base == "nginx":
        plan.serves = "nginx"
        return plan
    if fam == "httpd" and base in ("httpd-foreground", "httpd"):
        plan.serves = "httpd"
        return plan
    if base in ("pause",):
        return plan
    if binary in _SHELLS or base in _SHELLS:
        # busybox-style sh: `sh -c SCRIPT` runs the script; bare `sh` without a terminal
        # reads EOF from stdin and exits 0.
        if len(argv) >= 3 and argv[1] == "-c":
            return _script_plan(argv[2], plan)
        plan.runs_for = 0.0
        return plan
    if base in _BUSYBOX_APPLETS:
        return _script_plan(shell.join(argv), plan)
    if fam in _SHELL_IMAGES or base in ("exit", "") or container.get("command"):
        # `command: ["exit", "1"]` names no executable: the runtime cannot start it.
        if fam in _SHELL_IMAGES or base in ("exit", ""):
            plan.start_error = _not_found(binary)
            plan.exit_code = 128
            return plan
    # Any other image: a long-running service that stops promptly on SIGTERM.
    return plan


def _script_plan(script: str, plan: Plan) -> Plan:
    plan.script = script
    # A shell as PID 1 has no SIGTERM handler: the kernel ignores the signal, the kubelet
    # SIGKILLs it when the grace period ends (exit code 137).
    plan.stop_seconds = None
    plan.stop_exit_code = 137
    return plan


def _server_plan(fam: str, env: dict[str, str], plan: Plan) -> Plan:
    if fam in ("mysql", "mariadb") and not any(
            k in env for k in ("MYSQL_ROOT_PASSWORD", "MYSQL_ALLOW_EMPTY_PASSWORD",
                               "MYSQL_RANDOM_ROOT_PASSWORD", "MARIADB_ROOT_PASSWORD")):
        plan.runs_for = 0.5
        plan.exit_code = 1
        plan.output = [(0.0, "2026-01-01 00:00:00+00:00 [ERROR] [Entrypoint]: Database is "
                        "uninitialized and password option is not specified"),
                       (0.0, "    You need to specify one of the following as an environment "
                        "variable:"),
                       (0.0, "    - MYSQL_ROOT_PASSWORD"),
                       (0.0, "    - MYSQL_ALLOW_EMPTY_PASSWORD"),
                       (0.0, "    - MYSQL_RANDOM_ROOT_PASSWORD")]
        return plan
    if fam == "postgres" and "POSTGRES_PASSWORD" not in env and \
            env.get("POSTGRES_HOST_AUTH_METHOD") != "trust":
        plan.runs_for = 0.2
        plan.exit_code = 1
        plan.output = [(0.0, "Error: Database is uninitialized and superuser password is not "
                        "specified.")]
        return plan
    plan.serves = fam
    if fam == "nginx":
        plan.output = [(0.0, line) for line in _NGINX_START]
    return plan


def _agnhost_plan(args: list[str], plan: Plan) -> Plan:
    sub = args[0] if args else ""
    if sub in ("netexec", "serve-hostname", "pause", "porter", "liveness", "test-webserver",
               "fake-gitserver", "guestbook", "webhook", "resource-consumer"):
        plan.serves = f"agnhost-{sub}"
        if sub == "netexec":
            port = _flag(args, "http-port", "8080")
            prefix = "I0101 00:00:00.000000       1 log.go:245]"
            plan.output = [(0.0, f"{prefix} Started HTTP server on port {port}"),
                           (0.0, f"{prefix} Started UDP server on port  8081")]
        return plan
    if not sub:
        # The root command without a subcommand prints its usage and exits 0.
        plan.runs_for = 0.0
        plan.output = [(0.0, "agnhost is a test image containing several commands used in "
                        "Kubernetes end-to-end tests.")]
        return plan
    plan.runs_for = 0.0
    plan.exit_code = 1
    plan.output = [(0.0, f'Error: unknown command "{sub}" for "agnhost"')]
    return plan


def _flag(args: list[str], name: str, default: str) -> str:
    for i, arg in enumerate(args):
        if arg.startswith(f"--{name}="):
            return arg.split("=", 1)[1]
        if arg == f"--{name}" and i + 1 < len(args):
            return args[i + 1]
    return default


_NGINX_START = [
    "/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform "
    "configuration",
    "/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/",
    "/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh",
    "/docker-entrypoint.sh: Configuration complete; ready for start up",
]


# -- what a container answers on the network -------------------------------------------

NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""
HTTPD_WORKS = "<html><body><h1>It works!</h1></body></html>\n"
_NGINX_PATCH = {"1.21": "1.21.6", "1.22": "1.22.1", "1.23": "1.23.4", "1.24": "1.24.0",
                "1.25": "1.25.5", "1.26": "1.26.3", "1.27": "1.27.5", "1.28": "1.28.0",
                "1.29": "1.29.1", "latest": "1.29.1", "stable": "1.28.0",
                "alpine": "1.29.1"}
# Ports the servers listen on without being told otherwise.
_TCP_ONLY = {"redis": {6379}, "mysql": {3306, 33060}, "mariadb": {3306},
             "postgres": {5432}, "memcached": {11211}, "mongo": {27017},
             "rabbitmq": {5672}, "etcd": {2379, 2380}}
_HTTP_DEFAULT = {"nginx": {80}, "httpd": {80}, "agnhost-serve-hostname": {9376},
                 "agnhost-liveness": {8080}, "agnhost-test-webserver": {80},
                 "agnhost-porter": set(), "agnhost-resource-consumer": {8080},
                 "agnhost-fake-gitserver": {8000}, "agnhost-guestbook": {3000},
                 "agnhost-webhook": {443}, "coredns": {53, 8080, 8181, 9153},
                 "resource-consumer": {8080}}


def nginx_version(image: str) -> str:
    tag = parse_image(image).tag.split("-", 1)[0]
    if tag.count(".") >= 2:
        return tag
    return _NGINX_PATCH.get(tag, "1.29.1")


def listening_ports(plan: Plan, container: dict[str, Any]) -> tuple[set[int], bool]:
    """(TCP ports the process listens on, whether it speaks HTTP on them)."""
    serves = plan.serves
    declared = {p.get("containerPort") for p in container.get("ports") or []
                if isinstance(p, dict) and p.get("containerPort")
                and p.get("protocol", "TCP") == "TCP"}
    if serves is None:
        if plan.runs_for is None and not plan.start_error and not _is_script(plan):
            return {int(p) for p in declared}, True  # a generic service: what it declares
        return set(), False
    if serves in _TCP_ONLY:
        return set(_TCP_ONLY[serves]), False
    if serves == "agnhost-netexec":
        return {int(_flag(plan.argv[2:], "http-port", "8080"))}, True
    if serves == "agnhost-serve-hostname":
        return {int(_flag(plan.argv[2:], "port", "9376"))}, True
    if serves == "agnhost-porter":
        ports = {int(v) for k, v in _env_pairs(container) if k.startswith("SERVE_PORT_")
                 and v.isdigit()}
        return ports, True
    if serves in _HTTP_DEFAULT:
        return set(_HTTP_DEFAULT[serves]), True
    return {int(p) for p in declared}, True


def _is_script(plan: Plan) -> bool:
    return bool(plan.argv) and (plan.argv[0] in _SHELLS
                                or plan.argv[0].rsplit("/", 1)[-1] in _BUSYBOX_APPLETS)


def _env_pairs(container: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.get("name", ""), str(e.get("value", ""))) for e in container.get("env") or []
            if isinstance(e, dict)]


@dataclass
class Request:
    path: str
    hostname: str  # the pod's name
    now: Any  # datetime of the request
    uptime: float  # seconds since the container started
    client_ip: str = "10.244.0.1"
    user_agent: str = "curl/8.5.0"
    env: dict[str, str] = field(default_factory=dict)
    method: str = "GET"


@dataclass
class Response:
    status: int
    body: str
    log: list[str] = field(default_factory=list)
    exit_code: int | None = None  # the request made the process exit (netexec /exit)
    # What serving it makes the process burn, when the image says (resource-consumer):
    cpu: tuple[float, float] | None = None  # (cores, seconds)
    memory: tuple[int, float] | None = None  # (bytes, seconds)


def serve(plan: Plan, container: dict[str, Any], req: Request) -> Response:
    """What the container's process answers to ``GET req.path``."""
    serves = plan.serves or "generic"
    bare, _, query = req.path.partition("?")
    params = _query(query)
    if serves == "nginx":
        version = nginx_version(container.get("image") or "")
        if bare in ("/", "/index.html"):
            status, body = 200, NGINX_WELCOME
        else:
            status, body = 404, (f"<html>\r\n<head><title>404 Not Found</title></head>\r\n"
                                 f"<body>\r\n<center><h1>404 Not Found</h1></center>\r\n"
                                 f"<hr><center>nginx/{version}</center>\r\n</body>\r\n"
                                 f"</html>\r\n")
        stamp = req.now.strftime("%d/%b/%Y:%H:%M:%S +0000")
        line = (f'{req.client_ip} - - [{stamp}] "GET {req.path} HTTP/1.1" {status} '
                f'{len(body.encode())} "-" "{req.user_agent}" "-"')
        return Response(status, body, [line])
    if serves == "httpd":
        if bare in ("/", "/index.html"):
            return Response(200, HTTPD_WORKS)
        return Response(404, "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n"
                             "<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n"
                             "<p>The requested URL was not found on this server.</p>\n"
                             "</body></html>\n")
    if serves == "agnhost-netexec":
        return _netexec(bare, params, req)
    if serves == "resource-consumer":
        return _resource_consumer(req.method, bare, params)
    if serves == "agnhost-serve-hostname":
        return Response(200, req.hostname)
    if serves == "agnhost-liveness":
        # /healthz answers 200 for the first 10 seconds, then 500 (agnhost liveness).
        if bare == "/healthz" and req.uptime > 10:
            return Response(500, f"error: {req.uptime:.6f}")
        return Response(200, "ok")
    if serves == "agnhost-porter":
        for key, value in _env_pairs(container):
            if key.startswith("SERVE_PORT_"):
                return Response(200, value if not value.isdigit() else "foo")
        return Response(200, "")
    return Response(200, "OK\n" if bare in ("/", "") else "OK\n")


def _query(query: str) -> dict[str, str]:
    from urllib.parse import parse_qs

    return {k: v[0] for k, v in parse_qs(query).items()}


def _netexec(path: str, params: dict[str, str], req: Request) -> Response:
    log = [f"I0101 00:00:00.000000       1 log.go:245] GET {path}"]
    if path == "/":
        stamp = req.now.strftime("%Y-%m-%d %H:%M:%S.%f000 +0000 UTC")
        return Response(200, f"NOW: {stamp}", log)
    if path == "/hostname":
        return Response(200, req.hostname, log)
    if path == "/echo":
        return Response(200, params.get("msg", ""), log)
    if path in ("/healthz", "/readyz"):
        return Response(200, "", log)
    if path == "/clientip":
        return Response(200, f"{req.client_ip}:{40000 + int(req.uptime) % 20000}", log)
    if path == "/header":
        return Response(200, "", log)
    if path == "/exit":
        code = params.get("code", "0")
        return Response(200, "", log, exit_code=int(code) if code.isdigit() else 0)
    if path == "/shell":
        return Response(200, '{"output":""}', log)
    return Response(404, "404 page not found\n", log)


# test/images/resource-consumer (common/common.go, resource_consumer_handler.go): every
# function but /Metrics wants a POST; ConsumeCPU burns ``millicores`` for ``durationSec``
# (consume-cpu), ConsumeMem holds ``megabytes`` for ``durationSec`` (stress --vm-bytes).
_RC_BAD_REQUEST = "Bad request. Not a POST request\n"
_RC_NOT_GIVEN = "not given function argument\n"
_RC_INCORRECT = "incorrect function argument\n"


def _resource_consumer(method: str, path: str, params: dict[str, str]) -> Response:
    if path == "/Metrics":
        return Response(200, "")
    if method != "POST":
        return Response(400, _RC_BAD_REQUEST)
    if path in ("/ConsumeCPU", "/ConsumeMem"):
        amount_key = "millicores" if path == "/ConsumeCPU" else "megabytes"
        amount, seconds = params.get(amount_key, ""), params.get("durationSec", "")
        if not amount or not seconds:
            return Response(400, _RC_NOT_GIVEN)
        if not (amount.lstrip("-").isdigit() and seconds.lstrip("-").isdigit()):
            return Response(400, _RC_INCORRECT)
        value, duration = int(amount), int(seconds)
        body = f"{path[1:]}\n{value} {amount_key}\n{duration} durationSec\n"
        if path == "/ConsumeCPU":
            return Response(200, body, cpu=(max(value, 0) / 1000.0, float(max(duration, 0))))
        return Response(200, body, memory=(max(value, 0) * 2 ** 20, float(max(duration, 0))))
    if path == "/GetCurrentStatus":
        return Response(200, "Warning: not implemented!\nGetCurrentStatus")
    if path == "/BumpMetric":
        metric, delta = params.get("metric", ""), params.get("delta", "")
        seconds = params.get("durationSec", "")
        if not metric or not delta or not seconds:
            return Response(400, _RC_NOT_GIVEN)
        return Response(200, f"BumpMetric\n{metric} metric\n{delta} delta\n{seconds} "
                             "durationSec\n")
    return Response(404, "unknown function\n")
