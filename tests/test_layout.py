"""The package's layout: module-level imports between adapterx modules form no cycle, and no
module imports another module's private (`_name`) names."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "adapterx"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    """`if TYPE_CHECKING:` / `if typing.TYPE_CHECKING:` (never runs, so never a cycle)."""
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _top_level(body: list[ast.stmt]):
    """Statements that run when the module is imported (not inside functions or classes)."""
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        if isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                yield from _top_level(node.body)
            yield from _top_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _top_level(block)
        elif isinstance(node, (ast.With, ast.For, ast.While)):
            yield from _top_level(node.body)
        else:
            yield node


def _absolute(module: str, node: ast.ImportFrom) -> str:
    """The absolute module name of a (possibly relative) `from ... import`."""
    if not node.level:
        return node.module or ""
    base = module.split(".")
    is_package = MODULES[module].name == "__init__.py"
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, str | None]]:
    """(imported adapterx module, imported name or None) of each module-level import."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found: list[tuple[str, str | None]] = []
    for node in _top_level(tree.body):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names if alias.name.split(".")[0] == "adapterx"]
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            if source.split(".")[0] != "adapterx":
                continue
            for alias in node.names:
                # `from adapterx.pkg import module` imports the module itself
                sub = f"{source}.{alias.name}"
                found.append((sub, None) if sub in MODULES else (source, alias.name))
    return found


def _graph() -> dict[str, set[str]]:
    return {module: {target for target, _ in _imports(module) if target in MODULES and target != module}
            for module in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle (as a path that ends where it starts), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_graph_sees_known_imports() -> None:
    """The parser finds the edges it must (else an empty graph would pass the cycle test)."""
    graph = _graph()
    assert "adapterx.api" in graph["adapterx"]  # `from adapterx.api import ...`
    assert "adapterx.errors" in graph["adapterx.composition"]
    assert "adapterx.tasks.base" in graph["adapterx.tasks"]
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    """Module-level imports between adapterx modules form no cycle."""
    cycle = _cycle(_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_private_names_across_modules() -> None:
    """No `from adapterx.X import _name` from another module: shared names are public."""
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):  # function-level imports too: a private name is private anywhere
            if not isinstance(node, ast.ImportFrom):
                continue
            source = _absolute(module, node)
            if source.split(".")[0] != "adapterx" or source == module:
                continue
            found += [f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: from {source} import {alias.name}"
                      for alias in node.names
                      if alias.name.startswith("_") and not alias.name.startswith("__")
                      and f"{source}.{alias.name}" not in MODULES]
    assert not found, "private names imported across modules:\n" + "\n".join(found)


def _all_imports(module: str) -> set[str]:
    """Every adapterx module `module` imports, in functions too."""
    found = set()
    for node in ast.walk(ast.parse(MODULES[module].read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            source = _absolute(module, node)
            found |= {f"{source}.{a.name}" if f"{source}.{a.name}" in MODULES else source for a in node.names}
    return {name for name in found if name in MODULES}


def test_setup_registry_sits_below_the_recipes() -> None:
    """composition.py names setup runners by import path and imports no recipe; the recipes do
    not import adapterx.api (which imports them), except the runners module the registry names."""
    assert not {m for m in _all_imports("adapterx.composition") if m.startswith("adapterx.recipes")}
    upward = {m: _all_imports(m) & {"adapterx.api", "adapterx.cli"} for m in MODULES
              if m.startswith("adapterx.recipes.") and m != "adapterx.recipes.setups"}
    assert not {m: found for m, found in upward.items() if found}, upward


def test_every_setup_runner_path_resolves() -> None:
    """Each registered setup names an importable runner (the registry imports none of them itself)."""
    from adapterx.composition import SETUP_RUNNERS
    from adapterx.methods.registry import resolve

    assert set(SETUP_RUNNERS) >= {"direct", "stack", "fuse", "merge", "full-stilts", "translate-test"}
    for name, spec in SETUP_RUNNERS.items():
        assert isinstance(spec.runner, str) and callable(resolve(spec.runner)), name


def test_setups_imply_their_method_whatever_is_imported_first():
    # methods.base imports composition before any method registers: a setup's method must be asked
    # of the registry on use, not fixed at import (it was None for full-stilts, so grids planned
    # full-stilts cells with the default method)
    import subprocess
    import sys

    code = ("import adapterx.composition as c; "
            "print(c.SETUP_RUNNERS['full-stilts'].method, c.SETUP_RUNNERS['merge'].method)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1])
    assert out.stdout.split() == ["full", "lora"]
