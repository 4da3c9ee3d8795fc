"""Import structure of the package: one-way layers, read from the source with ``ast``.

Imports inside functions count too: a deferred import still ties two modules
together, it only hides the loop until run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import hipdrive

SRC = Path(hipdrive.__file__).parent

#: What sits below the stages: the on-disk contracts and what they may use.
BOTTOM = ("hipdrive.contracts", "hipdrive.errors", "hipdrive.body")


def module_files() -> dict[str, Path]:
    """``hipdrive.x.y`` -> its file, for every module and package under ``SRC``."""
    out = {}
    for path in SRC.rglob("*.py"):
        parts = ("hipdrive", *path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph() -> dict[str, set[str]]:
    """Edges ``importer -> imported`` among ``hipdrive`` modules, function-level imports included.

    ``from a import b`` points at ``a.b`` when that is a module, else at ``a``; an
    import of a package's submodule does not count as an import of the package.
    """
    modules = module_files()
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [
                    f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base
                    for a in node.names
                ]
            for target in targets:
                while target and target not in modules:  # `import a.b.c` -> longest known module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_no_import_cycles():
    assert cycles(import_graph()) == []


def test_the_cycle_check_sees_function_level_imports():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert "hipdrive.pose.mediapipe_backend" in import_graph()["hipdrive.pose.driver"]


def test_figures_do_not_import_stats():
    graph = import_graph()
    bad = {
        (m, t)
        for m, targets in graph.items()
        if _within(m, "hipdrive.figures")
        for t in targets
        if _within(t, "hipdrive.stats")
    }
    assert bad == set()


def test_nothing_below_the_contracts_imports_a_stage():
    graph = import_graph()
    bad = {
        (m, t)
        for m, targets in graph.items()
        if any(_within(m, b) for b in BOTTOM)
        for t in targets
        if t != "hipdrive" and not any(_within(t, b) for b in BOTTOM)
    }
    assert bad == set()
