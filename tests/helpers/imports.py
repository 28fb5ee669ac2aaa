"""The import graph of the `reviewer` package, read from the source with `ast` (nothing is
imported), and the layer rule it must keep.

    python -m tests.helpers.imports      # prints every module -> module edge
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "reviewer"

# Top to bottom; an import may point down any number of layers, or sideways within a layer
# (as long as there is no cycle), never up.
LAYERS: list[tuple[str, ...]] = [
    ("reviewer.ui", "reviewer.gui", "reviewer.cli", "reviewer.__main__"),
    ("reviewer.context",),
    ("reviewer.services",),
    ("reviewer.export",),
    ("reviewer.models", "reviewer.rules", "reviewer.request", "reviewer.intake", "reviewer.demo"),
    ("reviewer.settings", "reviewer.errors", "reviewer.vocabulary", "reviewer.logs", "reviewer"),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "migrations" not in p.parts}


def _resolve(name: str, known: dict[str, Path]) -> str:
    """The module an imported name lives in (`reviewer.services.audit.Actor` -> the module)."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name


def imports_of(path: Path, known: dict[str, Path]) -> Iterator[tuple[str, int, bool]]:
    """(module, line, at top level) for every `reviewer` import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "reviewer":
                target = _resolve(name, known)
                if target:
                    yield target, node.lineno, id(node) in top or in_type_checking(tree, node)


def in_type_checking(tree: ast.Module, node: ast.AST) -> bool:
    for stmt in tree.body:
        if isinstance(stmt, ast.If) and "TYPE_CHECKING" in ast.unparse(stmt.test):
            if any(child is node for child in ast.walk(stmt)):
                return True
    return False


def graph() -> dict[str, set[str]]:
    known = modules()
    return {m: {t for t, _line, _top in imports_of(p, known) if t != m} for m, p in known.items()}


def layer_of(module: str) -> int:
    best, rank = -1, len(LAYERS)
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, rank = len(prefix), i
    return rank


def upward_edges(g: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in g.items() for b in targets if layer_of(b) < layer_of(a))


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g.get(v, ())):
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

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def edges_text(g: dict[str, set[str]]) -> str:
    return "\n".join(f"{a} -> {b}" for a in sorted(g) for b in sorted(g[a]))


if __name__ == "__main__":
    print(edges_text(graph()))
