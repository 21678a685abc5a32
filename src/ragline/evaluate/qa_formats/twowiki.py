"""2WikiMultiHopQA json: HotpotQA's shape (``context``, ``supporting_facts``, ``answer``,
``_id``) plus the ``evidences`` triples; its sentences carry no leading space, so they are
joined with one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline.evaluate.qa import QaDataset
from ragline.evaluate.qa_formats.context import read_context_questions
from ragline.evaluate.qa_formats.records import QaFormat


def matches(record: dict[str, Any]) -> bool:
    return "context" in record and "supporting_facts" in record and "evidences" in record


def read(path: Path, *, limit: int | None = None) -> QaDataset:
    return read_context_questions(path, "2wiki", joiner=" ", limit=limit)


FORMAT = QaFormat(matches, read)
