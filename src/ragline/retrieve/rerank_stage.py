"""The re-rank stage: a re-ranker re-scores the first stage's top hits, which then lead.

The first stage's top ``depth`` hits are re-scored; with ``fusion="rrf"`` they are ordered by
reciprocal rank fusion of both stages' ranks, with ``"doc-rrf"`` by that fusion of their
documents' ranks (a document's chunks stay together), with ``"none"`` by the re-rank score
alone. Any further first-stage hits follow in their order, ranks continuing after the
re-ranked ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from ragline.config import RERANK_FUSIONS
from ragline.documents import Hit
from ragline.errors import RaglineError
from ragline.rerank.base import Reranker
from ragline.retrieve.fusion import reciprocal_rank_fusion


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
    if fusion not in RERANK_FUSIONS:
        raise RaglineError(f"rerank fusion {fusion!r}: use {', '.join(RERANK_FUSIONS)}")
    heads = reranker.rerank_many(queries, [row[:depth] for row in first])
    if fusion != "none":
        by_document = fusion == "doc-rrf"
        heads = [fuse_with_first_stage(head, rrf_k, by_document=by_document) for head in heads]
    return [
        (head + _renumbered(row[depth:], len(head)))[:k]
        for head, row in zip(heads, first, strict=True)
    ]


def fuse_with_first_stage(
    hits: Sequence[Hit], rrf_k: int = 60, *, by_document: bool = False
) -> list[Hit]:
    """Re-ranked ``hits`` reordered by reciprocal rank fusion of their first-stage and
    re-rank orders: the two stages vote, so a re-ranker weaker than the first stage on some
    data moves hits less than it would alone (ties keep the re-rank order).

    With ``by_document`` the votes are for documents, each ranked by its best chunk in each
    stage, and a document's chunks follow each other in re-rank order: a document whose
    first-stage rank comes from one chunk and re-rank from another keeps both, and its
    other chunks do not push the next documents down either stage's list.
    """
    units = [hit.chunk.doc_id if by_document else i for i, hit in enumerate(hits)]
    members: dict[object, list[int]] = {}
    for i, unit in enumerate(units):
        members.setdefault(unit, []).append(i)
    number = {unit: n for n, unit in enumerate(members)}  # re-rank order, for ties
    by_first_stage = sorted(range(len(hits)), key=lambda i: hits[i].ranks["first_stage"])
    first_stage_units = dict.fromkeys(number[units[i]] for i in by_first_stage)
    fused = reciprocal_rank_fusion(
        {
            "first_stage": [(n, 0.0) for n in first_stage_units],
            "rerank": [(n, 0.0) for n in range(len(members))],
        },
        k=rrf_k,
    )
    groups = list(members.values())
    order = [(i, score) for n, score in fused for i in groups[n]]
    return [
        replace(hits[i], score=score, rank=rank, scores={**hits[i].scores, "fused": score})
        for rank, (i, score) in enumerate(order, start=1)
    ]


def _renumbered(hits: Sequence[Hit], after: int) -> list[Hit]:
    """First-stage hits placed after ``after`` re-ranked ones: ranks continue from there."""
    return [replace(hit, rank=after + n) for n, hit in enumerate(hits, start=1)]
