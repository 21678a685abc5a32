"""The data of end-to-end RAG training: (question, answer) pairs read from SQuAD, HotpotQA-style
json or JSONL, SQuAD split by paragraph, and the dev pairs held out of training."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError

log = logging.getLogger(__name__)

QaPair = tuple[str, str]


def clean_pair(question: Any, answer: Any) -> QaPair | None:
    """``(question, answer)`` stripped, or None unless both are non-empty strings."""
    if not (isinstance(question, str) and isinstance(answer, str)):
        return None
    return (question.strip(), answer.strip()) if question.strip() and answer.strip() else None


def _paragraph_pairs(qas: Sequence[dict[str, Any]]) -> list[QaPair]:
    """A SQuAD paragraph's answerable pairs (first gold answer each), in file order."""
    pairs: list[QaPair] = []
    for qa in qas:
        answers = [] if qa.get("is_impossible") else qa.get("answers", [])
        pair = clean_pair(qa.get("question"), answers[0].get("text") if answers else "")
        if pair is not None:
            pairs.append(pair)
    return pairs


def _records(path: Path) -> tuple[Any, int]:
    """The parsed json file, or the parsed lines of a JSONL file and how many were not JSON."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".jsonl":
        try:
            return json.loads(text), 0
        except json.JSONDecodeError as e:
            raise RaglineError(f"{path}: not valid JSON ({e})") from e
    records, bad = [], 0
    for line in text.splitlines():
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                bad += 1
    return records, bad


def read_qa_pairs(path: str | Path) -> list[QaPair]:
    """(question, answer) pairs from SQuAD json (answerable questions, first gold answer),
    a HotpotQA-style json list or JSONL of ``{"question", "answer"}`` records.

    Skipped records (unanswerable, missing or empty fields, unparsable lines) are counted
    and logged as a warning.

    >>> import json, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = Path(tmp) / "pairs.jsonl"
    ...     _ = path.write_text(json.dumps({"question": "Who?", "answer": "Ada"}) + "\\n{}\\n")
    ...     read_qa_pairs(path)
    [('Who?', 'Ada')]
    """
    path = Path(path)
    if not path.is_file():
        raise RaglineError(f"{path}: no such file")
    data, skipped = _records(path)
    if isinstance(data, dict) and "data" in data:
        from ragline.evaluate.qa import squad_paragraphs

        paragraphs = list(squad_paragraphs(data))
        pairs = [pair for p in paragraphs for pair in _paragraph_pairs(p.qas)]
        skipped += sum(len(p.qas) for p in paragraphs) - len(pairs)
    elif isinstance(data, list):
        found = [
            clean_pair(r.get("question"), r.get("answer")) if isinstance(r, dict) else None
            for r in data
        ]
        pairs = [pair for pair in found if pair is not None]
        skipped += len(found) - len(pairs)
    else:
        raise RaglineError(f"{path}: expected SQuAD json, a json list or JSONL of records")
    if skipped:
        log.warning("%s: read %d pairs, skipped %d records", path, len(pairs), skipped)
    return pairs


def split_squad_by_paragraph(
    path: str | Path, test_fraction: float, seed: int = 0
) -> tuple[list[QaPair], list[QaPair]]:
    """Train and test pairs of a SQuAD file, split by paragraph so that no test question's
    paragraph was seen in training.

    The split is fixed (``ragline.evaluate.qa.squad_paragraphs``, which ``ragline eval qa
    --held-out`` uses too): paragraphs numbered in file order, shuffled with
    ``random.Random(seed)``, the first ``round(test_fraction · paragraphs)`` to test. Each
    side keeps the answerable questions of its paragraphs (first gold answer), in file
    order.
    """
    from ragline.evaluate.qa import squad_paragraphs

    path = Path(path)
    data, _ = _records(path)
    if not (isinstance(data, dict) and "data" in data):
        raise RaglineError(f"{path}: not a SQuAD json file")
    sides: dict[bool, list[QaPair]] = {False: [], True: []}
    for paragraph in squad_paragraphs(data, test_fraction, seed):
        sides[paragraph.held_out] += _paragraph_pairs(paragraph.qas)
    return sides[False], sides[True]


def split_dev(
    pairs: Sequence[QaPair], dev_pairs: Sequence[QaPair] | None, fraction: float, seed: int
) -> tuple[list[QaPair], list[QaPair]]:
    """Training and dev pairs: ``dev_pairs`` when given, else a ``fraction`` of ``pairs``
    drawn with ``random.Random(seed)``."""
    for n, pair in enumerate([*pairs, *(dev_pairs or [])]):
        if len(pair) != 2 or clean_pair(*pair) is None:
            raise RaglineError(f"pair {n} {pair!r}: need a non-empty question and answer")
    if dev_pairs is not None:
        return list(pairs), list(dev_pairs)
    order = list(range(len(pairs)))
    random.Random(seed).shuffle(order)
    held = set(order[: round(fraction * len(pairs))])
    train = [p for n, p in enumerate(pairs) if n not in held]
    return train, [p for n, p in enumerate(pairs) if n in held]


def training_pairs(
    *,
    squad: str | Path | None = None,
    pairs: str | Path | None = None,
    test_fraction: float = 0.2,
    split_seed: int = 0,
    limit: int | None = None,
    seed: int = 42,
) -> tuple[list[QaPair], set[str]]:
    """The pairs ``ragline train rag`` trains on, from exactly one source, and the documents
    training must never retrieve.

    From ``squad``: the training side of its by-paragraph split
    (:func:`split_squad_by_paragraph`), with the test side's paragraphs hidden; from
    ``pairs``: every pair of the file (:func:`read_qa_pairs`), nothing hidden. With ``limit``,
    a sample of that many pairs drawn with ``random.Random(seed)``.
    """
    hidden: set[str] = set()
    if squad is not None and pairs is None:
        from ragline.evaluate.qa import held_out_documents

        data, _ = split_squad_by_paragraph(squad, test_fraction, split_seed)
        hidden = held_out_documents(squad, test_fraction, split_seed)
    elif pairs is not None and squad is None:
        data = read_qa_pairs(pairs)
    else:
        raise RaglineError("train rag: give one of --squad or --pairs")
    if limit is not None and limit < len(data):
        data = random.Random(seed).sample(list(data), limit)
    return data, hidden
