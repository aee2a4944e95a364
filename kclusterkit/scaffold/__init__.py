"""``kclusterkit init``: a spec repository a team would commit, ready to run.

What it writes is what a team needs and nothing it would delete: one example feature per
behaviour domain it picks, the library's steps and hooks wired in the way plain ``behave``
expects (``steps/``, ``environment.py``), one commented custom step using the public step
API, copies of the built-in environments to edit (plus one for kind), ``pyproject.toml``
with ``[tool.behave]`` and the dependency on kclusterkit, and CI for GitHub Actions and
GitLab CI (a job on the simulator, a job on kind, reports uploaded). The templates are
package data under ``templates/``; existing files are never overwritten unless asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kclusterkit import __version__
from kclusterkit.config import BUILTIN_DIR, builtin

TEMPLATES = Path(__file__).resolve().parent / "templates"

#: domain → its example feature; `--domains` picks from these
DOMAINS: dict[str, str] = {
    "smoke": "smoke.feature",
    "healing": "healing.feature",
    "scaling": "scaling.feature",
    "discovery": "discovery.feature",
    "load-balancing": "load-balancing.feature",
    "rollout": "rollout.feature",
    "storage": "storage.feature",
    "access": "access.feature",
    "autoscaling": "autoscaling.feature",
    "maintenance": "maintenance.feature",
    "network-policy": "network-policy.feature",
}
DEFAULT_DOMAINS = tuple(DOMAINS)

#: template → where it goes in the new project
FILES: dict[str, str] = {
    "environment.py.tmpl": "environment.py",
    "library.py.tmpl": "steps/library.py",
    "team_steps.py.tmpl": "steps/team_steps.py",
    "pyproject.toml.tmpl": "pyproject.toml",
    "gitignore.tmpl": ".gitignore",
    "README.md.tmpl": "README.md",
    "kind.yaml.tmpl": "environments/kind.yaml",
    "kind-cluster.yaml.tmpl": "ci/kind-cluster.yaml",
    "github.yml.tmpl": ".github/workflows/kclusterkit.yml",
    "gitlab.yml.tmpl": ".gitlab-ci.yml",
}


class InitError(Exception):
    """The project cannot be written as asked; the message says why in one line."""


@dataclass
class Planned:
    path: Path
    text: str


def parse_domains(text: str | None) -> list[str]:
    if not text:
        return list(DEFAULT_DOMAINS)
    picked = [d.strip() for d in text.split(",") if d.strip()]
    unknown = [d for d in picked if d not in DOMAINS]
    if unknown:
        raise InitError(f"--domains: unknown domain {unknown[0]!r} "
                        f"(known: {', '.join(DOMAINS)})")
    return list(dict.fromkeys(picked))


def project_name(folder: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-._")
    return name or "cluster-specs"


def plan(folder: Path, domains: list[str]) -> list[Planned]:
    """Every file of the new project, with its text."""
    fields = {"name": project_name(folder), "version": __version__}
    out: list[Planned] = []
    for domain in domains:
        template = TEMPLATES / "features" / DOMAINS[domain]
        out.append(Planned(folder / "features" / DOMAINS[domain], template.read_text("utf-8")))
    for template, target in FILES.items():
        text = (TEMPLATES / template).read_text("utf-8")
        if template in ("pyproject.toml.tmpl", "README.md.tmpl"):
            text = text.replace("{name}", fields["name"]).replace("{version}", fields["version"])
        out.append(Planned(folder / target, text))
    for name in builtin():
        out.append(Planned(folder / "environments" / f"{name}.yaml",
                           (BUILTIN_DIR / f"{name}.yaml").read_text("utf-8")))
    return out


def init(folder: Path, domains: list[str], force: bool = False) -> list[Path]:
    """Write the project into ``folder``; refuses to overwrite unless ``force``."""
    files = plan(folder, domains)
    existing = [f.path for f in files if f.path.exists()]
    if existing and not force:
        shown = ", ".join(str(p.relative_to(folder)) for p in existing[:3])
        more = f" and {len(existing) - 3} more" if len(existing) > 3 else ""
        raise InitError(f"{folder}: would overwrite {shown}{more} (--force overwrites)")
    for f in files:
        f.path.parent.mkdir(parents=True, exist_ok=True)
        f.path.write_text(f.text, encoding="utf-8")
    return [f.path for f in files]
