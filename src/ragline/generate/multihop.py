"""Iterative multi-hop retrieval: retrieve, ask what is still missing, retrieve again.

For a question that needs two facts (who directed the film whose lead actress also starred
in X?), the first search finds the bridge passage; its content names what to look for next.
The follow-up search is either a query a language model writes for the fact still missing
(or ``DONE``), or the question expanded with the answer so far: the generator's answer
from the passages found, or the extractive generator's best-supported sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ragline.documents import Hit
from ragline.errors import RaglineError
from ragline.generate.answer import first_answer
from ragline.generate.base import Generator, Message
from ragline.generate.citations import is_abstention_text, strip_citations
from ragline.generate.prompt import build_messages, format_passage

FOLLOW_UPS = ("missing", "answer")
FOLLOW_UP_TOKENS = 32
"""Longest follow-up a generator writes between hops (a query or a short answer)."""

FOLLOW_UP_SYSTEM = (
    "You plan searches for a question that may need several facts. Given the question and "
    "the passages found so far, write one short search query for the fact that is still "
    "missing. If the passages already contain everything needed, reply exactly: DONE"
)


@dataclass(frozen=True)
class ContextBudget:
    """How passages are packed into a prompt and the answer asked for: the final answer's
    settings, so that the answer follow-up reads the same passages and answers in the same
    style as the answer would."""

    tokens: int = 1536
    count_tokens: Callable[[str], int] | None = None
    answer_style: str = "sentence"


def follow_up_query(
    question: str,
    passages: Sequence[Hit],
    generator: Generator,
    follow_up: str = "missing",
    budget: ContextBudget = ContextBudget(),
) -> str | None:
    """The next search query, or None when nothing is missing or nothing was found.

    ``follow_up`` is ``missing`` (the generator writes a query for the missing fact) or
    ``answer`` (the question plus the generator's answer so far, from the passages packed
    into ``budget``).
    """
    if follow_up not in FOLLOW_UPS:
        raise RaglineError(f"follow-up {follow_up!r}: use {', '.join(FOLLOW_UPS)}")
    extract = getattr(generator, "answer", None)
    if callable(extract):
        partial, _ = extract(question, passages)
    elif follow_up == "answer":
        messages, _ = build_messages(
            question,
            passages,
            count_tokens=budget.count_tokens,
            context_tokens=budget.tokens,
            answer_style=budget.answer_style,
        )
        reply = generator.generate(messages, max_new_tokens=FOLLOW_UP_TOKENS, temperature=0.0)
        partial = first_answer(reply)
    else:
        return _missing_fact_query(question, passages, generator)
    partial = strip_citations(partial).strip()
    if not partial or is_abstention_text(partial):
        return None
    return f"{question} {partial}"


def _missing_fact_query(question: str, passages: Sequence[Hit], generator: Generator) -> str | None:
    """The generator's query for the fact still missing, or None when it says ``DONE``."""
    blocks = "\n\n".join(format_passage(n, hit) for n, hit in enumerate(passages, start=1))
    messages: list[Message] = [
        {"role": "system", "content": FOLLOW_UP_SYSTEM},
        {"role": "user", "content": f"Passages:\n\n{blocks}\n\nQuestion: {question}\n\nQuery:"},
    ]
    reply = generator.generate(messages, max_new_tokens=FOLLOW_UP_TOKENS, temperature=0.0)
    lines = [line.strip() for line in reply.strip().splitlines() if line.strip()]
    query = lines[0].removeprefix("Query:").strip().strip('"') if lines else ""
    if not query or query.upper().startswith("DONE"):
        return None
    return query


def interleave(rounds: Sequence[Sequence[Hit]], limit: int) -> list[Hit]:
    """Hits of several rounds merged by rank (1st of each round, then 2nd, …), de-duplicated.

    >>> from ragline.documents import Chunk
    >>> def hit(cid):
    ...     return Hit(Chunk(cid, cid, "", 0, 0), 1.0, 1, "bm25")
    >>> [h.chunk.id for h in interleave([[hit("a"), hit("b")], [hit("a"), hit("c")]], 3)]
    ['a', 'b', 'c']
    """
    merged: dict[str, Hit] = {}
    for rank in range(max((len(r) for r in rounds), default=0)):
        for hits in rounds:
            if rank < len(hits) and hits[rank].chunk.id not in merged:
                merged[hits[rank].chunk.id] = hits[rank]
    return list(merged.values())[:limit]


def multihop_retrieve(
    question: str,
    search: Callable[[str], list[Hit]],
    generator: Generator,
    *,
    hops: int,
    passages: int,
    follow_up: str = "missing",
    budget: ContextBudget = ContextBudget(),
) -> tuple[list[Hit], list[dict[str, Any]]]:
    """Up to ``hops`` rounds of retrieval; returns the merged passages and each round's log.

    ``follow_up`` chooses what is searched for after the first round, with the passages
    packed into ``budget`` (see :func:`follow_up_query`)."""
    rounds: list[list[Hit]] = []
    log: list[dict[str, Any]] = []
    query: str | None = question
    while query is not None and len(rounds) < hops:
        hits = search(query)
        rounds.append(hits)
        log.append({"query": query, "chunk_ids": [hit.chunk.id for hit in hits]})
        if len(rounds) == hops:
            break
        found = interleave(rounds, passages)
        query = follow_up_query(question, found, generator, follow_up, budget)
        if query is not None and query.lower() in {entry["query"].lower() for entry in log}:
            query = None
    return interleave(rounds, passages + len(rounds) - 1), log
