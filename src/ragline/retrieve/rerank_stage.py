"""The re-rank stage: a re-ranker re-scores the first stage's top hits, which then lead.

The first stage's top ``depth`` hits are re-scored; with ``fusion="rrf"`` they are ordered by
reciprocal rank fusion of both stages' ranks, with ``"none"`` by the re-rank score alone. Any
further first-stage hits follow in their order, ranks continuing after the re-ranked ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ragline.documents import Hit
from ragline.errors import RaglineError
from ragline.rerank.base import Reranker
from ragline.retrieve.fusion import reciprocal_rank_fusion

FUSIONS = ("none", "rrf")


def rerank_stage(
    queries: Sequence[str],
    first: Sequence[Sequence[Hit]],
    reranker: Reranker,
    *,
    depth: int,
    fusion: str,
    rrf_k: int,
    k: int,
) -> list[list[Hit]]:
    """The top ``k`` per query after re-ranking the top ``depth`` of ``first``."""
    if fusion not in FUSIONS:
        raise RaglineError(f"rerank fusion {fusion!r}: use none or rrf")
    heads = reranker.rerank_many(queries, [row[:depth] for row in first])
    if fusion == "rrf":
        heads = [fuse_with_first_stage(head, rrf_k) for head in heads]
    return [
        (head + _renumbered(row[depth:], len(head)))[:k]
        for head, row in zip(heads, first, strict=True)
    ]


def fuse_with_first_stage(hits: Sequence[Hit], rrf_k: int = 60) -> list[Hit]:
    """Re-ranked ``hits`` reordered by reciprocal rank fusion of their first-stage and
    re-rank orders: the two stages vote, so a re-ranker weaker than the first stage on some
    data moves hits less than it would alone (ties keep the re-rank order)."""
    by_first_stage = sorted(range(len(hits)), key=lambda i: hits[i].ranks["first_stage"])
    fused = reciprocal_rank_fusion(
        {
            "first_stage": [(i, 0.0) for i in by_first_stage],
            "rerank": [(i, 0.0) for i in range(len(hits))],
        },
        k=rrf_k,
    )
    return [
        replace(hits[i], score=score, rank=rank, scores={**hits[i].scores, "fused": score})
        for rank, (i, score) in enumerate(fused, start=1)
    ]


def _renumbered(hits: Sequence[Hit], after: int) -> list[Hit]:
    """First-stage hits placed after ``after`` re-ranked ones: ranks continue from there."""
    return [replace(hit, rank=after + n) for n, hit in enumerate(hits, start=1)]
