"""The command line stays thin: every command parses flags, calls the library and prints, so
no function in ``ragline.cli`` grows past a screenful; logic that needs more belongs in the
library."""

from __future__ import annotations

import ast
from pathlib import Path

import ragline.cli

MAX_LINES = 60
CLI_DIR = Path(ragline.cli.__file__).parent


def _function_lengths(path: Path) -> list[tuple[str, int]]:
    """``(file:line name, lines from def to end)`` of every function in ``path``, nested
    ones included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (f"{path.name}:{node.lineno} {node.name}", node.end_lineno - node.lineno + 1)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.end_lineno
    ]


def test_no_cli_function_is_longer_than_60_lines() -> None:
    lengths = [row for path in sorted(CLI_DIR.glob("*.py")) for row in _function_lengths(path)]
    assert len(lengths) > 20, "found too few functions: is CLI_DIR the cli package?"
    too_long = {name: n for name, n in lengths if n > MAX_LINES}
    assert not too_long, f"move logic into the library: {too_long}"


def test_the_measure_counts_a_function_from_def_to_its_last_line(tmp_path: Path) -> None:
    source = tmp_path / "sample.py"
    body = "".join(f"    x{n} = {n}\n" for n in range(MAX_LINES))
    source.write_text(f"def long(\n    a: int,\n) -> None:\n{body}\n\ndef short():\n    pass\n")
    assert dict(_function_lengths(source)) == {
        "sample.py:1 long": MAX_LINES + 3,
        f"sample.py:{MAX_LINES + 6} short": 2,
    }
