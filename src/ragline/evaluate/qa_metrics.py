"""Answer metrics: SQuAD exact match and token F1, abstention, HotpotQA supporting recall."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Sequence

from ragline.abstention import is_abstention

_ARTICLES = re.compile(r"\b(a|an|the)\b", re.UNICODE)
_PUNCTUATION = set(string.punctuation)


def normalize_answer(s: str) -> str:
    """Lower-case, drop punctuation and the articles a/an/the, collapse whitespace.

    The official SQuAD normalisation, so that scores compare with published ones.

    >>> normalize_answer("The  Eiffel Tower!")
    'eiffel tower'
    """
    s = "".join(ch for ch in s.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", s).split())


def _answerable_golds(golds: str | Sequence[str]) -> list[str]:
    if isinstance(golds, str):
        golds = [golds]
    # as SQuAD 2.0's script: golds empty after normalisation mean "unanswerable"
    return [g for g in golds if normalize_answer(g)]


def _token_f1(prediction: str, gold: str) -> float:
    pred_tokens = normalize_answer(prediction).split()
    gold_tokens = normalize_answer(gold).split()
    if not pred_tokens or not gold_tokens:
        return float(pred_tokens == gold_tokens)
    same = sum((Counter(pred_tokens) & Counter(gold_tokens)).values())
    if same == 0:
        return 0.0
    precision = same / len(pred_tokens)
    recall = same / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, golds: str | Sequence[str]) -> float:
    """1.0 if ``prediction`` equals any gold answer after :func:`normalize_answer`, else 0.0.

    With no (non-empty) gold answer the question is unanswerable, and the score is 1.0 iff
    the prediction abstains (SQuAD 2.0's rule, extended to abstention phrases).

    >>> exact_match("The Eiffel Tower", ["eiffel tower", "Tour Eiffel"])
    1.0
    >>> exact_match("I don't know.", [])
    1.0
    """
    answers = _answerable_golds(golds)
    if not answers:
        return float(is_abstention(prediction))
    normalized = normalize_answer(prediction)
    return float(any(normalized == normalize_answer(g) for g in answers))


def f1(prediction: str, golds: str | Sequence[str]) -> float:
    """Best token-level F1 between ``prediction`` and any gold answer (SQuAD's F1).

    Gives partial credit for answers that overlap the gold span; unanswerable questions are
    scored as in :func:`exact_match`.

    >>> round(f1("the cat sat", ["a cat sat down"]), 4)
    0.8
    """
    answers = _answerable_golds(golds)
    if not answers:
        return float(is_abstention(prediction))
    return max(_token_f1(prediction, g) for g in answers)


def abstention_accuracy(predictions: Sequence[str], answerable: Sequence[bool]) -> float:
    """Fraction of questions where the system abstained exactly when it should have.

    Measures whether a RAG system says "I don't know" on unanswerable questions and
    answers the others.

    >>> abstention_accuracy(["Paris", "no answer", ""], [True, False, True])
    0.6666666666666666
    """
    if len(predictions) != len(answerable):
        raise ValueError(f"{len(predictions)} predictions but {len(answerable)} answerable flags")
    if not predictions:
        raise ValueError("no predictions to score")
    right = sum(is_abstention(p) == (not ok) for p, ok in zip(predictions, answerable, strict=True))
    return right / len(predictions)


def supporting_recall(
    retrieved_titles_or_ids: Sequence[str], supporting: Sequence[str], k: int | None = None
) -> float:
    """Fraction of the distinct supporting passages found among the top ``k`` retrieved.

    HotpotQA's multi-hop retrieval measure: did retrieval bring back every passage the
    answer needs? ``k=None`` looks at the whole list.

    >>> supporting_recall(["A", "C", "B"], ["A", "B"], k=2)
    0.5
    """
    if k is not None and k < 0:
        raise ValueError(f"k must be >= 0 or None, got {k}")
    needed = set(supporting)
    if not needed:
        raise ValueError("no supporting passages given")
    top = retrieved_titles_or_ids if k is None else retrieved_titles_or_ids[:k]
    return len(needed.intersection(top)) / len(needed)
