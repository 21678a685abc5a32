"""Retrieval-only evaluation of multi-hop follow-ups: the supporting-passage recall of the
passages read after each hop, judged apart from any reader, and cheap (no generator is
needed unless a follow-up asks one).

Per follow-up strategy, for each question with supporting passages, multi-hop retrieval
runs as ``ask`` runs it (:func:`~ragline.generate.multihop.hop_rounds`); after hop ``h``
the passages read are ``k + h - 1`` (:func:`~ragline.generate.multihop.passages_read`),
and a question whose retrieval stopped early keeps what it read. ``none`` is one hop that
reads as many passages as ``h`` hops would (the top ``k + h - 1`` of one search): the
baseline a follow-up must beat, since it too reads one more passage per hop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from ragline.config import Config
from ragline.evaluate.qa import QaDataset, Question
from ragline.evaluate.qa_metrics import supporting_recall
from ragline.generate.base import Generator
from ragline.generate.follow_up import ContextBudget, FollowUpTools, check_follow_up, make_follow_up
from ragline.generate.multihop import Search, hop_rounds, passages_read, scoped_search

NO_FOLLOW_UP = "none"
"""One hop, reading as many passages as the hops would."""


def hop_recalls(
    question: Question,
    search: Search,
    follow_up: str,
    tools: FollowUpTools,
    *,
    hops: int,
    k: int,
) -> tuple[list[float], int]:
    """Supporting recall of the passages read after each of ``hops`` hops for one
    question, and how many hops ran.

    >>> from ragline.documents import Chunk, Hit
    >>> def search(query, documents=None, k=None):
    ...     return [Hit(Chunk(f"{d}#0", d, "", 0, 0), 1.0, 1, "") for d in "abcd"]
    >>> hop_recalls(Question("q", "Q?", ["x"], ["a", "d"]), search, "none",
    ...     FollowUpTools(), hops=2, k=3)
    ([0.5, 1.0], 1)
    """
    if follow_up == NO_FOLLOW_UP:
        hits = search(question.text, None, k + hops - 1)
        read = [hits[: k + hop] for hop in range(hops)]
        ran = 1
    else:
        strategy = make_follow_up(follow_up, tools)
        rounds, _ = hop_rounds(question.text, search, strategy, hops=hops, passages=k)
        read = [passages_read(rounds[: hop + 1], k) for hop in range(hops)]
        ran = len(rounds)
    recalls = [
        supporting_recall([hit.chunk.doc_id for hit in passages], question.supporting)
        for passages in read
    ]
    return recalls, ran


def evaluate_multihop(
    kb: Any,
    data: QaDataset,
    follow_ups: Sequence[str],
    *,
    hops: int = 2,
    k: int = 5,
    search_mode: str | None = None,
    generator: Generator | None = None,
    on_question: Callable[[int], None] | None = None,
) -> dict[str, dict[str, float]]:
    """Per follow-up (or ``none``): mean supporting recall after each hop (``recall_hop1``
    …), the mean number of hops run and of passages read, over ``data``'s questions that
    have supporting passages, retrieving from the knowledge base ``kb``."""
    for name in follow_ups:
        if name != NO_FOLLOW_UP:
            check_follow_up(name)
    questions = [q for q in data.questions if q.supporting]
    budget = ContextBudget(kb.config.generate.context_tokens)
    tools = FollowUpTools(generator, budget, kb.documents_named_in)
    search = scoped_search(partial(kb.search, mode=search_mode), k=k)
    results: dict[str, dict[str, float]] = {}
    for name in follow_ups:
        totals = [0.0] * hops
        ran = 0
        for question in questions:
            recalls, hops_run = hop_recalls(question, search, name, tools, hops=hops, k=k)
            totals = [t + r for t, r in zip(totals, recalls, strict=True)]
            ran += hops_run
            if on_question:
                on_question(1)
        n = len(questions) or 1
        row = {f"recall_hop{h + 1}": total / n for h, total in enumerate(totals)}
        hops_mean = ran / n if name != NO_FOLLOW_UP else float(hops)
        results[name] = {**row, "hops_run": ran / n, "passages_read": k + hops_mean - 1}
    return results


def evaluate_multihop_set(
    data: QaDataset,
    follow_ups: Sequence[str],
    *,
    config: Config | None = None,
    use_cache: bool = True,
    generator: str | None = None,
    on_progress: Callable[[str, int, int | None], None] | None = None,
    **options: Any,
) -> dict[str, Any]:
    """:func:`evaluate_multihop` over the (cached) knowledge base built from ``data``'s
    documents with ``config``; ``generator`` names one for the follow-ups that ask it.
    Returns ``dataset``, ``questions``, ``hops``, ``k`` and ``results``."""
    from ragline.evaluate.beir import cached_kb

    config = config or Config()
    report = on_progress or (lambda stage, done, total: None)
    kb = cached_kb(data.name, data.fingerprint, config, lambda: data.documents, use_cache=use_cache)
    total = len([q for q in data.questions if q.supporting]) * len(follow_ups)
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        report("retrieving", done, total)

    with kb:
        model = kb.answering.generator(generator, kb.config.generate) if generator else None
        results = evaluate_multihop(
            kb, data, follow_ups, generator=model, on_question=advance, **options
        )
    return {
        "dataset": data.name,
        "questions": len(data.questions),
        "hops": options.get("hops", 2),
        "k": options.get("k", 5),
        "results": results,
    }
