"""Iterative multi-hop retrieval: retrieve, ask what is still missing, retrieve again.

For a question that needs two facts (who directed the film whose lead actress also starred
in X?), the first search finds the bridge passage; its content names what to look for next.
The follow-up search is a query a language model writes for the fact still missing (or
``DONE``); the question expanded with the answer so far (the generator's answer from the
passages found, or the extractive generator's best-matching sentence); or the question
again, searched only within the documents that the passages found name by title
(``links``; see :mod:`ragline.generate.links`), which needs no language model.
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

FOLLOW_UPS = ("missing", "answer", "links")
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
    if follow_up not in ("missing", "answer"):
        raise RaglineError(f"follow-up {follow_up!r} is not a query: use missing or answer")
    extract = getattr(generator, "partial", None) or getattr(generator, "answer", None)
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


def check_follow_up(follow_up: str) -> str:
    """``follow_up`` if it is one of :data:`FOLLOW_UPS`, else a one-line error."""
    if follow_up not in FOLLOW_UPS:
        raise RaglineError(f"follow-up {follow_up!r}: use {', '.join(FOLLOW_UPS)}")
    return follow_up


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


Search = Callable[[str, Sequence[str] | None], list[Hit]]
"""``search(query, documents)``: the top hits for ``query``, only from ``documents`` (ids)
when that is not None."""


def multihop_retrieve(
    question: str,
    search: Search,
    generator: Generator,
    *,
    hops: int,
    passages: int,
    follow_up: str = "missing",
    budget: ContextBudget = ContextBudget(),
    named_documents: Callable[[Sequence[str]], list[str]] | None = None,
) -> tuple[list[Hit], list[dict[str, Any]]]:
    """Up to ``hops`` rounds of retrieval; returns the merged passages and each round's log.

    ``follow_up`` chooses what is searched for after the first round, with the passages
    packed into ``budget`` (see :func:`follow_up_query`); ``links`` searches the question
    again within the documents that ``named_documents`` finds named in the passages so far
    (and not yet among them), and stops when there are none."""
    if check_follow_up(follow_up) == "links" and named_documents is None:
        raise RaglineError("follow-up 'links' needs a way to find the documents passages name")
    rounds: list[list[Hit]] = []
    log: list[dict[str, Any]] = []
    query: str | None = question
    documents: list[str] | None = None
    while query is not None and len(rounds) < hops:
        hits = search(query, documents)
        rounds.append(hits)
        entry: dict[str, Any] = {"query": query, "chunk_ids": [hit.chunk.id for hit in hits]}
        if documents is not None:
            entry["documents"] = documents
        log.append(entry)
        if len(rounds) == hops:
            break
        found = interleave(rounds, passages)
        if follow_up == "links":
            assert named_documents is not None
            seen = {hit.chunk.doc_id for hits in rounds for hit in hits}
            named = named_documents([hit.chunk.text for hit in found])
            documents = [doc_id for doc_id in named if doc_id not in seen]
            query = question if documents else None
            continue
        query = follow_up_query(question, found, generator, follow_up, budget)
        if query is not None and query.lower() in {entry["query"].lower() for entry in log}:
            query = None
    return interleave(rounds, passages + len(rounds) - 1), log
