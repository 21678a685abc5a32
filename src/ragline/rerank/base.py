"""The Reranker protocol: re-score a first stage's candidates with a slower, sharper model.

A re-ranker reorders the hits it is given and keeps their first-stage facts: each hit keeps
``ranks``/``scores`` of its retrievers, gains ``"first_stage"`` (its rank and score before
re-ranking) and ``"rerank"`` (the re-ranker's score and rank), and its ``score`` becomes the
re-rank score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ragline.documents import Hit


@runtime_checkable
class Reranker(Protocol):
    """Anything that can score (query, passage) pairs and reorder hits by those scores."""

    name: str

    def score(self, query: str, passages: Sequence[str]) -> NDArray[np.float32]:
        """One relevance score per passage (higher is more relevant)."""
        ...

    def rerank(self, query: str, hits: Sequence[Hit], top_k: int | None = None) -> list[Hit]:
        """``hits`` reordered by score, the best ``top_k`` (all when None)."""
        ...

    def rerank_many(
        self, queries: Sequence[str], hits: Sequence[Sequence[Hit]], top_k: int | None = None
    ) -> list[list[Hit]]:
        """``rerank`` for several queries at once."""
        ...


def reorder(hits: Sequence[Hit], scores: NDArray[np.float32], top_k: int | None) -> list[Hit]:
    """New Hit objects sorted by ``scores`` (stable: ties keep first-stage order), each
    keeping its first-stage rank and score beside the re-rank ones."""
    if len(scores) != len(hits):
        raise ValueError(f"{len(scores)} scores for {len(hits)} hits")
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    if top_k is not None:
        order = order[:top_k]
    out: list[Hit] = []
    for new_rank, index in enumerate(order.tolist(), start=1):
        hit = hits[index]
        ranks = {**hit.ranks, "first_stage": hit.rank, "rerank": new_rank}
        values = {**hit.scores, "first_stage": hit.score, "rerank": float(scores[index])}
        out.append(
            replace(hit, score=float(scores[index]), rank=new_rank, ranks=ranks, scores=values)
        )
    return out


class PairScoringReranker:
    """``rerank`` and ``rerank_many`` for a class that defines ``score`` (and ``name``)."""

    name = "reranker"

    def score(self, query: str, passages: Sequence[str]) -> NDArray[np.float32]:
        raise NotImplementedError

    def rerank(self, query: str, hits: Sequence[Hit], top_k: int | None = None) -> list[Hit]:
        if not hits:
            return []
        scores = self.score(query, [hit.chunk.indexed_text for hit in hits])
        return reorder(hits, scores, top_k)

    def rerank_many(
        self, queries: Sequence[str], hits: Sequence[Sequence[Hit]], top_k: int | None = None
    ) -> list[list[Hit]]:
        return [self.rerank(q, h, top_k) for q, h in zip(queries, hits, strict=True)]
