"""Open-domain questions over a given corpus, as Natural Questions-open and TriviaQA ship
them: JSON lines of ``question`` and a list of answers (``answer``, ``answers`` or
``golden_answers``), ids optional (``id``, ``_id``; else the line). The corpus is every
other file in the questions' folder (loaded as ``ragline index`` loads it: a BEIR-style
``corpus.jsonl`` keeps its ids). No passage is marked as the answer's source, so supporting
recall is not measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.evaluate.qa import QaDataset, Question, folder_documents
from ragline.evaluate.qa_formats.records import (
    QaFormat,
    fingerprint,
    first_record,
    need,
    read_records,
)

ANSWER_KEYS = ("answer", "answers", "golden_answers")


def matches(record: dict[str, Any]) -> bool:
    answers = [record[key] for key in ANSWER_KEYS if key in record]
    return "question" in record and bool(answers) and isinstance(answers[0], list | str)


def questions_file(folder: Path) -> Path:
    """The file of ``folder`` that holds the questions (the others are the corpus)."""
    found = [
        p
        for p in sorted(folder.glob("*.json*"))
        if p.suffix in (".json", ".jsonl") and matches(first_record(p) or {})
    ]
    if len(found) != 1:
        held = "no file" if not found else ", ".join(p.name for p in found)
        raise RaglineError(f"{folder}: expected one file of questions with answers, found {held}")
    return found[0]


def _answers(record: dict[str, Any], where: str) -> list[str]:
    key = next((k for k in ANSWER_KEYS if k in record), "answer")
    value = need(record, key, (list, str), where)
    answers = [value] if isinstance(value, str) else value
    if not all(isinstance(a, str) and a.strip() for a in answers):
        raise RaglineError(f"{where}: {key!r} must hold non-empty strings")
    return answers


def read(path: Path, *, limit: int | None = None) -> QaDataset:
    """The questions of ``path`` (a questions file, or the folder holding one) over the
    documents beside them."""
    path = questions_file(path) if path.is_dir() else path
    questions = []
    for n, (where, record) in enumerate(read_records(path)[:limit], start=1):
        raw_id = record.get("id", record.get("_id", f"{path.stem}:{n}"))
        text = need(record, "question", str, where)
        questions.append(Question(str(raw_id), text, _answers(record, where)))
    if not questions:
        raise RaglineError(f"{path}: no questions")
    documents = folder_documents(path.parent, path.name)
    return QaDataset(path.parent.name, documents, questions, fingerprint(path, "open"))


FORMAT = QaFormat(matches, read)
