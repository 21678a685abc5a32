"""Iterative multi-hop retrieval: retrieve, ask what is still missing, retrieve again.

For a question that needs two facts (who directed the film whose lead actress also starred
in X?), the first search finds the bridge passage; its content names what to look for next.
A language model states that follow-up query (or ``DONE``); without one (the extractive
generator) the follow-up is the question expanded with the best sentence found so far.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ragline.documents import Hit
from ragline.generate.base import Generator, Message
from ragline.generate.citations import strip_citations
from ragline.generate.prompt import format_passage

FOLLOW_UP_SYSTEM = (
    "You plan searches for a question that may need several facts. Given the question and "
    "the passages found so far, write one short search query for the fact that is still "
    "missing. If the passages already contain everything needed, reply exactly: DONE"
)


def follow_up_query(question: str, passages: Sequence[Hit], generator: Generator) -> str | None:
    """The next search query, or None when the generator says nothing is missing."""
    extract = getattr(generator, "answer", None)
    if callable(extract):
        sentence, _ = extract(question, passages)
        sentence = strip_citations(sentence).strip()
        return f"{question} {sentence}" if sentence else None
    blocks = "\n\n".join(format_passage(n, hit) for n, hit in enumerate(passages, start=1))
    messages: list[Message] = [
        {"role": "system", "content": FOLLOW_UP_SYSTEM},
        {"role": "user", "content": f"Passages:\n\n{blocks}\n\nQuestion: {question}\n\nQuery:"},
    ]
    reply = generator.generate(messages, max_new_tokens=32, temperature=0.0)
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
) -> tuple[list[Hit], list[dict[str, Any]]]:
    """Up to ``hops`` rounds of retrieval; returns the merged passages and each round's log."""
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
        query = follow_up_query(question, found, generator)
        if query is not None and query.lower() in {entry["query"].lower() for entry in log}:
            query = None
    return interleave(rounds, passages + len(rounds) - 1), log
