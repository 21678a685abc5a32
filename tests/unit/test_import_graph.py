"""The package's import graph has no cycles and no upward edges between layers.

The graph is read from the source with ``ast`` (imports inside functions and under
``TYPE_CHECKING`` count too), so it covers lazy imports that a runtime check would miss.
Layers are listed bottom-up; a module may import from its own layer or any layer below.
``docs/architecture.md`` shows the same table.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import ragline

PACKAGE_DIR = Path(ragline.__file__).parent

LAYERS: tuple[tuple[str, ...], ...] = (
    # 0 foundation: plain data, errors, and helpers every layer may use
    (
        "ragline.errors",
        "ragline._optional",
        "ragline.registry",
        "ragline.files",
        "ragline.cache",
        "ragline.filters",
        "ragline.abstention",
        "ragline.packaged_models",
        "ragline.precision",
        "ragline.documents",
        "ragline.config",
        "ragline.keystore",
        "ragline.stack",
    ),
    # 1 the catalog, readers and encoders
    ("ragline.store", "ragline.load", "ragline.embed"),
    # 2 derived indexes, chunking, and writing documents into the catalog
    ("ragline.index", "ragline.chunk", "ragline.ingest", "ragline.writer"),
    # 3 re-rankers
    ("ragline.rerank",),
    # 4 the retrieval pipeline
    ("ragline.retrieve",),
    # 5 answering
    ("ragline.generate",),
    # 6 the facade, and the package's public names
    ("ragline.kb", "ragline"),
    # 7 what runs or checks a knowledge base: evaluation, benchmarks, training, the demo
    # corpus, the conformance suites, the index/delete workflows the CLI runs
    (
        "ragline.manage",
        "ragline.snapshot",
        "ragline.watch",
        "ragline.evaluate",
        "ragline.bench",
        "ragline.train",
        "ragline.demo_corpus",
        "ragline.testing",
        "ragline.distributed",
    ),
    # 8 the user's entry points
    ("ragline.serve", "ragline.cli", "ragline.mcp", "ragline.integrations", "ragline.__main__"),
)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def imported_modules(name: str, path: Path, known: set[str]) -> Iterator[str]:
    """The package modules ``path`` imports, wherever the import statement is.

    ``from a import b`` is an import of module ``a.b`` when that is a module, else of ``a``.
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            for alias in node.names:
                if f"{base}.{alias.name}" in known:
                    yield f"{base}.{alias.name}"
                elif base in known:
                    yield base


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    known = modules()
    return {
        name: set(imported_modules(name, path, set(known))) - {name} for name, path in known.items()
    }


def layer_of(module: str) -> int:
    """The layer of the longest entry of :data:`LAYERS` that is ``module`` or holds it (the
    package itself holds only its ``__init__``: a new top-level module needs its own entry)."""
    matches = [
        (len(prefix), rank)
        for rank, prefixes in enumerate(LAYERS)
        for prefix in prefixes
        if module == prefix or (prefix != "ragline" and module.startswith(prefix + "."))
    ]
    if not matches:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS and the docs")
    return max(matches)[1]


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first = last), or None."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target in on_stack:
                return stack[stack.index(target) :] + [target]
            if target not in done:
                found = visit(target)
                if found:
                    return found
        stack.pop()
        on_stack.discard(node)
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done:
            found = visit(start)
            if found:
                return found
    return None


def test_every_module_has_a_layer() -> None:
    for module in modules():
        layer_of(module)


def test_no_import_cycles() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_upward_imports() -> None:
    upward = [
        f"{source} (layer {layer_of(source)}) -> {target} (layer {layer_of(target)})"
        for source, targets in sorted(import_graph().items())
        for target in sorted(targets)
        if layer_of(target) > layer_of(source)
    ]
    assert not upward, "upward imports:\n" + "\n".join(upward)


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, None),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, ["a", "b", "c", "a"]),
    ],
)
def test_find_cycle(graph: dict[str, set[str]], cycle: list[str] | None) -> None:
    assert find_cycle(graph) == cycle
