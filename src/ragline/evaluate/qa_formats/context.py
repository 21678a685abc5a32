"""Questions with their own ``context`` paragraphs, as HotpotQA and 2WikiMultiHopQA ship
them: ``context`` is ``[[title, [sentence, ...]], ...]``, ``supporting_facts`` is
``[[title, sentence index], ...]``, ``answer`` a string. Every question's paragraphs join
one corpus (retrieval runs over all of them); a question's supporting passages are the
documents of its supporting titles."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.evaluate.qa import QaDataset, Question
from ragline.evaluate.qa_formats.records import (
    Paragraphs,
    fingerprint,
    need,
    read_records,
    record_id,
)


def _context(record: dict[str, Any], where: str, joiner: str) -> dict[str, str]:
    """Title -> paragraph text of one question's ``context``."""
    paragraphs = {}
    for n, item in enumerate(need(record, "context", list, where)):
        ok = isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
        sentences = item[1] if ok else None
        if not (isinstance(sentences, list) and all(isinstance(s, str) for s in sentences)):
            raise RaglineError(f"{where}: context[{n}] is not [title, [sentence, ...]]")
        paragraphs[item[0]] = joiner.join(sentences).strip()
    return paragraphs


def _supporting(record: dict[str, Any], where: str, titles: set[str]) -> list[str]:
    found = []
    for fact in need(record, "supporting_facts", list, where):
        if not (isinstance(fact, list) and fact and isinstance(fact[0], str)):
            raise RaglineError(f"{where}: supporting_facts holds {fact!r}, not [title, index]")
        if fact[0] not in titles:
            raise RaglineError(f"{where}: supporting title {fact[0]!r} is not in its context")
        found.append(fact[0])
    return list(dict.fromkeys(found))


def read_context_questions(
    path: Path, kind: str, *, joiner: str, limit: int | None = None
) -> QaDataset:
    """The questions of ``path`` (the first ``limit``) over the paragraphs of all of them."""
    paragraphs = Paragraphs()
    questions = []
    for where, record in read_records(path):
        context = _context(record, where, joiner)
        ids = {title: paragraphs.add(title, text) for title, text in context.items()}
        supporting = [ids[t] for t in _supporting(record, where, set(context))]
        answer = need(record, "answer", str, where)
        question = need(record, "question", str, where)
        questions.append(Question(record_id(record, where), question, [answer], supporting))
    if not questions:
        raise RaglineError(f"{path}: no questions")
    digest = fingerprint(path, kind)
    return QaDataset(path.stem, paragraphs.documents, questions[:limit], digest)
