"""The official HotpotQA json, distractor or fullwiki: a list of questions, each with its
``context`` paragraphs (sentences that begin with their own space), ``supporting_facts``
and ``answer``; ids in ``_id`` (or ``id``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline.evaluate.qa import QaDataset
from ragline.evaluate.qa_formats.context import read_context_questions
from ragline.evaluate.qa_formats.records import QaFormat


def matches(record: dict[str, Any]) -> bool:
    return "context" in record and "supporting_facts" in record and "evidences" not in record


def read(path: Path, *, limit: int | None = None) -> QaDataset:
    return read_context_questions(path, "hotpotqa", joiner="", limit=limit)


FORMAT = QaFormat(matches, read)
