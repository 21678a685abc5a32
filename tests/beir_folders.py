"""BEIR folders written for tests (tests/ is on pytest's pythonpath:
``from beir_folders import write_beir_folder``)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path


def write_beir_folder(
    root: Path,
    corpus: Iterable[Mapping[str, object]],
    queries: Iterable[Mapping[str, object]],
    qrels: Mapping[str, Iterable[tuple[str, str, int]]],
) -> Path:
    """``root`` as a BEIR folder: ``corpus`` and ``queries`` records written as given (odd
    ones too), and per split its (query id, document id, score) judgements."""
    (root / "qrels").mkdir(parents=True)
    for name, records in (("corpus", corpus), ("queries", queries)):
        lines = "".join(json.dumps(record) + "\n" for record in records)
        (root / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    for split, judged in qrels.items():
        rows = "".join(f"{query}\t{doc}\t{score}\n" for query, doc, score in judged)
        (root / "qrels" / f"{split}.tsv").write_text("query-id\tcorpus-id\tscore\n" + rows)
    return root
