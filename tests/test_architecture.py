"""The layering the README promises, checked on the source: ``solver/``, ``sim/`` and ``data/`` stand
on ``domain/`` and never on each other; ``domain/`` stands on nothing above it; and the packages'
dependency graph has no cycle. Imports inside functions count: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from collections import defaultdict

from conftest import ROOT

SRC = ROOT / "src" / "clinicflow"
ABOVE = {
    "whatif",
    "cli",
    "evaluation",
    "week_plan",
    "week_booking",
    "surgery_week",
    "replay",
    "backtest",
    "synthetic_flow",
}
FORBIDDEN = {
    "domain": {"solver", "sim", "data", "exports", "viz", "policies"} | ABOVE,
    "solver": {"sim", "data", "exports", "viz"} | ABOVE,
    "sim": {"solver", "data", "exports", "viz"} | ABOVE,
    "data": {"solver", "sim", "exports", "viz"} | ABOVE,
    "exports": {"solver", "sim", "data", "viz"} | ABOVE,
}


def _unit(module: str) -> str:
    """The top-level unit of ``clinicflow.x.y``: ``x`` (a package or a module)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _imports() -> dict[str, set[str]]:
    """Module -> the clinicflow modules it imports (relative imports resolved)."""
    out: dict[str, set[str]] = defaultdict(set)
    for path in SRC.rglob("*.py"):
        parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        module = ".".join(parts)
        package = parts if is_pkg else parts[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if target.startswith("clinicflow"):
                    out[module].update(f"{target}.{a.name}" for a in node.names)
            elif isinstance(node, ast.Import):
                out[module].update(a.name for a in node.names if a.name.startswith("clinicflow"))
    return out


def test_solver_sim_and_data_stand_on_domain_not_on_each_other():
    bad = sorted(
        f"{module} imports {target}"
        for module, targets in _imports().items()
        for target in targets
        if _unit(target) in FORBIDDEN.get(_unit(module), set())
    )
    assert bad == []


def test_the_packages_depend_on_each_other_without_a_cycle():
    graph: dict[str, set[str]] = defaultdict(set)
    for module, targets in _imports().items():
        for target in targets:
            a, b = _unit(module), _unit(target)
            if a and b and a != b:
                graph[a].add(b)
    assert {"domain", "solver", "sim", "data"} <= set(graph)  # the walk found the packages
    done: set[str] = set()

    def visit(unit: str, path: tuple[str, ...]) -> None:
        assert unit not in path, "import cycle: " + " -> ".join((*path, unit))
        if unit in done:
            return
        for nxt in sorted(graph.get(unit, ())):
            visit(nxt, (*path, unit))
        done.add(unit)

    for unit in sorted(graph):
        visit(unit, ())


def test_the_check_finds_a_forbidden_import(tmp_path, monkeypatch):
    """The walk resolves relative imports: a ``from ..sim import x`` in solver/ is caught."""
    pkg = tmp_path / "clinicflow"
    (pkg / "solver").mkdir(parents=True)
    (pkg / "sim").mkdir()
    for p in (pkg / "__init__.py", pkg / "sim" / "__init__.py", pkg / "solver" / "__init__.py"):
        p.write_text("")
    (pkg / "solver" / "bad.py").write_text("def f():\n    from ..sim import engine\n")
    monkeypatch.setattr(f"{__name__}.SRC", pkg)
    assert _imports()["clinicflow.solver.bad"] == {"clinicflow.sim.engine"}
