"""The support check measured on itself: does it flag a sentence whose answer was swapped?

From a SQuAD file, for each answerable question: the gold answer sentence (the sentence of
its paragraph that holds the first gold answer span, at ``answer_start``), and the same
sentence with that span replaced by another question's gold answer of the same kind
(number, date, name or other; see :func:`answer_kind`), taken from another paragraph, not
occurring in this one (compared case- and accent-blind) and not the same value written
differently ("two" for "2"). Each sentence is checked against its own paragraph, with the question.
A good checker flags the swapped sentences (recall of "unsupported", goal ≥ 0.95) and passes
the originals (goal ≥ 0.90).

The swaps are seeded: a question's replacement depends only on the seed and its id, so a
``limit`` picks a subset of the same pairs.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.evaluate.qa import squad_paragraphs
from ragline.generate.citations import SupportChecker, sentence_spans
from ragline.generate.claims import claims, fold

KINDS = ("number", "date", "name", "other")
_TRIES = 100  # replacement candidates drawn before a question is skipped


@dataclass(frozen=True)
class Perturbation:
    """A gold answer sentence and its copy with the answer swapped, for one question."""

    id: str
    question: str
    passage: str
    original: str
    swapped: str
    answer: str
    replacement: str
    kind: str


def answer_kind(answer: str) -> str:
    """The kind of an answer: date (or year), number (or quantity), name, or other.

    >>> [answer_kind(a) for a in ("5 May 1902", "1,200 km", "Lake Kafen", "a large crater")]
    ['date', 'number', 'name', 'other']
    """
    kinds = {term.kind for term in claims(answer)}
    if "date" in kinds:
        return "date"
    if kinds & {"number", "quantity"}:
        return "number"
    return "name" if "name" in kinds else "other"


def _folded(text: str) -> str:
    return fold(text).casefold()


def _answer_sentence(context: str, start: int, end: int) -> tuple[int, int]:
    """The offsets of the sentence(s) of ``context`` that hold ``context[start:end]``."""
    spans = sentence_spans(context)
    first = next(s for s, e in spans if s <= start < e)
    last = next(e for s, e in spans if s < end <= e)
    return first, last


def build_perturbations(
    data: dict[str, Any], *, seed: int = 0, limit: int | None = None
) -> list[Perturbation]:
    """The perturbation set of parsed SQuAD ``data``: one pair per answerable question
    whose answer span is valid and for which a replacement exists, in a seeded shuffle of
    file order, the first ``limit`` of them when given.

    >>> context = "Rollo led the Normans. They reached Paris in 911."
    >>> data = {"data": [{"title": "N", "paragraphs": [
    ...     {"context": context, "qas": [{"id": "q1", "question": "Who led the Normans?",
    ...         "answers": [{"text": "Rollo", "answer_start": 0}]}]},
    ...     {"context": "Harald ruled Norway.", "qas": [{"id": "q2", "question": "Who ruled?",
    ...         "answers": [{"text": "Harald", "answer_start": 0}]}]}]}]}
    >>> [(p.original, p.swapped) for p in build_perturbations(data) if p.id == "q1"]
    [('Rollo led the Normans.', 'Harald led the Normans.')]
    """
    paragraphs = list(squad_paragraphs(data))
    pool: dict[str, list[tuple[int, str]]] = {kind: [] for kind in KINDS}
    questions: list[tuple[int, dict[str, Any], str, int]] = []
    for number, paragraph in enumerate(paragraphs):
        for qa in paragraph.qas:
            answers = qa.get("answers") or []
            if qa.get("is_impossible") or not answers:
                continue
            text, start = answers[0]["text"], int(answers[0]["answer_start"])
            if not text.strip() or paragraph.context[start : start + len(text)] != text:
                continue
            kind = answer_kind(text)
            pool[kind].append((number, text))
            questions.append((number, qa, kind, start))
    random.Random(seed).shuffle(questions)
    pairs: list[Perturbation] = []
    for number, qa, kind, start in questions:
        if limit is not None and len(pairs) >= limit:
            break
        pair = _perturb(paragraphs[number].context, number, qa, kind, start, pool[kind], seed)
        if pair is not None:
            pairs.append(pair)
    return pairs


def _perturb(
    context: str,
    number: int,
    qa: dict[str, Any],
    kind: str,
    start: int,
    pool: Sequence[tuple[int, str]],
    seed: int,
) -> Perturbation | None:
    """The pair for one question, or None when no replacement is found in :data:`_TRIES`."""
    answer = qa["answers"][0]["text"]
    end = start + len(answer)
    here = _folded(context)
    golds = {_folded(a["text"]) for a in qa["answers"]}
    stated = {term.key for term in claims(answer)}
    rng = random.Random(f"{seed}/{qa['id']}")
    for _ in range(min(_TRIES, len(pool))):
        other, replacement = pool[rng.randrange(len(pool))]
        folded = _folded(replacement)
        same = stated and {term.key for term in claims(replacement)} == stated  # "2" vs "two"
        if other != number and folded not in golds and folded not in here and not same:
            first, last = _answer_sentence(context, start, end)
            return Perturbation(
                id=qa["id"],
                question=qa["question"],
                passage=context,
                original=context[first:last].strip(),
                swapped=(context[first:start] + replacement + context[end:last]).strip(),
                answer=answer,
                replacement=replacement,
                kind=kind,
            )
    return None


def load_perturbations(
    path: str | Path, *, seed: int = 0, limit: int | None = None
) -> list[Perturbation]:
    """:func:`build_perturbations` of the SQuAD json at ``path``."""
    path = Path(path)
    if not path.is_file():
        raise RaglineError(f"{path}: no such file")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return build_perturbations(data, seed=seed, limit=limit)
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise RaglineError(f"{path}: not a SQuAD json file ({e})") from e


def _flags(checker: SupportChecker, pairs: Sequence[Perturbation]) -> Iterator[tuple[bool, bool]]:
    """(original flagged, swapped flagged) for each pair."""
    for pair in pairs:
        flagged = [
            checker.support(sentence, pair.passage, question=pair.question) < checker.threshold
            for sentence in (pair.original, pair.swapped)
        ]
        yield flagged[0], flagged[1]


def score_checker(checker: SupportChecker, pairs: Sequence[Perturbation]) -> dict[str, float]:
    """How ``checker`` does on ``pairs``: the share of swapped sentences it flags
    unsupported, the share of originals it passes, and the precision of its flags.

    >>> from ragline.generate.citations import ClaimSupport
    >>> pair = Perturbation("q", "Who led?", "Rollo led the Normans.", "Rollo led the Normans.",
    ...     "Harald led the Normans.", "Rollo", "Harald", "name")
    >>> score_checker(ClaimSupport(), [pair])
    {'flagged_swapped': 1.0, 'passed_original': 1.0, 'precision': 1.0}
    """
    return _summary(list(_flags(checker, pairs)))


def _summary(flags: Sequence[tuple[bool, bool]]) -> dict[str, float]:
    """The scores of :func:`score_checker` from (original flagged, swapped flagged) pairs."""
    flagged_originals = sum(original for original, _ in flags)
    flagged_swaps = sum(swapped for _, swapped in flags)
    flagged = flagged_originals + flagged_swaps
    n = max(len(flags), 1)
    return {
        "flagged_swapped": flagged_swaps / n,
        "passed_original": (len(flags) - flagged_originals) / n,
        "precision": flagged_swaps / flagged if flagged else 0.0,
    }


def support_report(
    pairs: Sequence[Perturbation], checkers: dict[str, SupportChecker]
) -> dict[str, Any]:
    """Each checker scored on all ``pairs`` (``results[name]``) and on each answer kind
    (``results["name · kind"]``), with the number of pairs of each kind."""
    results: dict[str, dict[str, float]] = {}
    for name, checker in checkers.items():
        flags = list(_flags(checker, pairs))
        results[name] = _summary(flags)
        for kind in KINDS:
            of_kind = [flag for flag, pair in zip(flags, pairs, strict=True) if pair.kind == kind]
            if of_kind:
                results[f"{name} · {kind}"] = _summary(of_kind)
    counts = {kind: sum(pair.kind == kind for pair in pairs) for kind in KINDS}
    return {"n": len(pairs), "counts": counts, "results": results}
