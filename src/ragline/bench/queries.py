"""Queries for the query, generation and answer benchmarks: a BEIR folder, its
``queries.jsonl`` (field ``text``), or a text file with one query a line."""

from __future__ import annotations

import json
from pathlib import Path

from ragline.errors import RaglineError


def read_queries(path: Path, limit: int | None = None) -> list[str]:
    """The queries at ``path``, in file order; the first ``limit`` of them when given."""
    if path.is_dir():
        path = path / "queries.jsonl"
    if not path.is_file():
        raise RaglineError(f"{path}: no such queries file")
    queries: list[str] = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            if not line.strip():
                continue
            if path.suffix == ".jsonl":
                try:
                    queries.append(json.loads(line)["text"])
                except (json.JSONDecodeError, KeyError, TypeError) as e:
                    raise RaglineError(f"{path}:{number}: expected a JSON object with text") from e
            else:
                queries.append(line.strip())
    return queries[:limit] if limit else queries
