"""MuSiQue (json or jsonl): each question with its ``paragraphs`` (``title``,
``paragraph_text``, ``is_supporting``), ``answer`` and ``answer_aliases``; a question
marked ``"answerable": false`` (MuSiQue-Full) is one the paragraphs do not answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.evaluate.qa import QaDataset, Question
from ragline.evaluate.qa_formats.records import (
    Paragraphs,
    QaFormat,
    fingerprint,
    need,
    read_records,
    record_id,
)


def matches(record: dict[str, Any]) -> bool:
    paragraphs = record.get("paragraphs")
    return isinstance(paragraphs, list) and "answer" in record


def _question(record: dict[str, Any], where: str, paragraphs: Paragraphs) -> Question:
    supporting = []
    for n, paragraph in enumerate(need(record, "paragraphs", list, where)):
        here = f"{where}: paragraphs[{n}]"
        if not isinstance(paragraph, dict):
            raise RaglineError(f"{here}: not a JSON object")
        doc_id = paragraphs.add(
            need(paragraph, "title", str, here), need(paragraph, "paragraph_text", str, here)
        )
        if need(paragraph, "is_supporting", bool, here):
            supporting.append(doc_id)
    answers = [need(record, "answer", str, where)]
    aliases = record.get("answer_aliases", [])
    if not (isinstance(aliases, list) and all(isinstance(a, str) for a in aliases)):
        raise RaglineError(f"{where}: 'answer_aliases' must be a list of strings")
    answerable = record.get("answerable", True) is not False
    golds = [*answers, *aliases] if answerable else []
    text = need(record, "question", str, where)
    return Question(record_id(record, where), text, golds, supporting if answerable else [])


def read(path: Path, *, limit: int | None = None) -> QaDataset:
    """The questions of ``path`` (the first ``limit``) over the paragraphs of all of them."""
    paragraphs = Paragraphs()
    questions = [_question(r, where, paragraphs) for where, r in read_records(path)]
    if not questions:
        raise RaglineError(f"{path}: no questions")
    digest = fingerprint(path, "musique")
    return QaDataset(path.stem, paragraphs.documents, questions[:limit], digest)


FORMAT = QaFormat(matches, read)
