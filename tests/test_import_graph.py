"""No import cycles among the simulator's modules (TYPE_CHECKING imports aside).

Function-level imports count; a submodule importing its parent package does not.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in (root / "kclusterkit").rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    def resolve(target: str) -> str | None:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        return target or None

    found: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_If(self, node: ast.If) -> None:
            test = node.test
            if getattr(test, "id", None) == "TYPE_CHECKING" or \
                    getattr(test, "attr", None) == "TYPE_CHECKING":
                for child in node.orelse:
                    self.visit(child)
                return
            self.generic_visit(node)

        def visit_Import(self, node: ast.Import) -> None:
            for alias in node.names:
                if (target := resolve(alias.name)) is not None:
                    found.add(target)

        def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
            base = node.module or ""
            if node.level:
                package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            for alias in node.names:
                full = f"{base}.{alias.name}"
                target = resolve(full) if full in modules else resolve(base)
                if target is not None:
                    found.add(target)

    Visitor().visit(ast.parse(path.read_text()))
    # A module importing a package it lives in is the package importing itself.
    return {t for t in found if t != name and not name.startswith(t + ".")}


def _cycles(prefix: str, root: Path = ROOT) -> list[list[str]]:
    modules = _modules(root)
    graph = {m: {t for t in _imports(m, p, modules) if t.startswith(prefix)}
             for m, p in modules.items() if m.startswith(prefix)}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return out


def test_the_simulator_has_no_import_cycles() -> None:
    assert _cycles("kclusterkit.sim") == []


def test_the_check_finds_a_cycle(tmp_path: Path) -> None:
    # The check itself must be able to fail: two modules importing each other, one of
    # them inside a function.
    pkg = tmp_path / "kclusterkit" / "sim"
    pkg.mkdir(parents=True)
    (tmp_path / "kclusterkit" / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from kclusterkit.sim import b\n")
    (pkg / "b.py").write_text("from kclusterkit.sim.a import f\n")
    assert _cycles("kclusterkit.sim", tmp_path) == [["kclusterkit.sim.a", "kclusterkit.sim.b"]]
