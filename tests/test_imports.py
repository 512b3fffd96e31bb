"""Imports go one way. Every `import` in mlib and benchmarks is read with `ast` (those inside functions
too, which is where a cycle hides), and the graph of modules must have no cycle.

An import depends on the module it names: `import a.b` and `from a.b import c` on `a.b`, and on `a.b.c`
too when `c` is a module. That Python runs a package's `__init__` before any of its submodules is
import order, not a use of the package's names, so a package may re-export its own submodules."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("mlib", "benchmarks")


def module_files(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, Path]:
    """Dotted module name -> source file, for every .py file under the packages."""
    out = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _type_checking_only(node: ast.AST) -> bool:
    test = getattr(node, "test", None)
    return isinstance(node, ast.If) and (
        (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING")
        or (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")
    )


def _imports(tree: ast.AST):
    """Every import node, at any depth, except those under `if TYPE_CHECKING:` (never run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if _type_checking_only(node):
            stack.extend(node.orelse)
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def imported_modules(name: str, source: str, known: set[str], is_package: bool = False) -> set[str]:
    """The known modules that module `name` (source text `source`) imports."""
    package = name if is_package else name.rpartition(".")[0]
    out = set()
    for node in _imports(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:  # relative: resolve against the importing module's package
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        out.update(t for t in targets if t in known)
    out.discard(name)
    return out


def import_graph(root: Path = ROOT, packages: tuple[str, ...] = PACKAGES) -> dict[str, set[str]]:
    files = module_files(root, packages)
    known = set(files)
    return {
        name: imported_modules(name, path.read_text(), known, path.name == "__init__.py") for name, path in files.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as a closed path [a, b, ..., a], or None. Depth-first search with colours."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_find_cycle_on_small_graphs():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"d"}, "c": {"d"}, "d": set()}) is None  # a diamond is no cycle
    assert find_cycle({"x": set(), "a": {"b"}, "b": {"b2"}, "b2": {"b"}}) == ["b", "b2", "b"]


def test_function_level_imports_count(tmp_path):
    # the two cycles this test was written for: a package whose function imports a submodule that
    # imports the package back, and a module importing, inside a function, a module that imports it
    pkg = tmp_path / "p"
    (pkg / "data").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "data" / "__init__.py").write_text("def load():\n    from p.data.generate import build\n")
    (pkg / "data" / "generate.py").write_text("from p.data import cache\n")
    (pkg / "data" / "cache.py").write_text("")
    (pkg / "evaluate.py").write_text("def main():\n    if True:\n        from p.plots import draw\n")
    (pkg / "plots.py").write_text("from p.evaluate import metric\n")
    graph = import_graph(tmp_path, ("p",))
    assert graph["p.data.generate"] == {"p.data", "p.data.cache"}
    assert graph["p.data"] == {"p.data.generate"}
    assert find_cycle(graph) in (["p.data", "p.data.generate", "p.data"], ["p.evaluate", "p.plots", "p.evaluate"])
    (pkg / "data" / "generate.py").write_text("from p.data.cache import x\n")  # names the submodule only
    assert find_cycle(graph := import_graph(tmp_path, ("p",))) == ["p.evaluate", "p.plots", "p.evaluate"]
    (pkg / "evaluate.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from p.plots import draw\n")
    assert find_cycle(import_graph(tmp_path, ("p",))) is None


def test_imports_have_no_cycle():
    graph = import_graph()
    assert "mlib.train" in graph and "mlib.data.generate" in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_relative_imports_resolve():
    known = {"p", "p.a", "p.a.b", "p.c"}
    assert imported_modules("p.a.b", "from . import x\nfrom .. import c\n", known) == {"p.a", "p", "p.c"}
    assert imported_modules("p.a", "from .b import y\n", known, is_package=True) == {"p.a.b"}


def test_public_api_names_resolve_lazily():
    import subprocess
    import sys

    code = (
        "import sys, mlib\n"
        "assert 'mlib.train' not in sys.modules and 'mlib.data.generate' not in sys.modules\n"
        "missing = [n for n in mlib.__all__ if getattr(mlib, n, None) is None]\n"
        "assert not missing, missing\n"
        "from mlib.data import load_splits, sensor_stats\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
