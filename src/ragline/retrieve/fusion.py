"""Combine ranked lists from several retrievers: reciprocal rank fusion and score fusion.

Each input is a ranking: ids best first, with that retriever's scores. Published BEIR runs
show neither method always wins, so both are offered.
"""

from __future__ import annotations

from collections.abc import Mapping

from ragline.retrieve.base import Ranking


def reciprocal_rank_fusion(
    rankings: Mapping[str, Ranking], *, k: int = 60, weights: Mapping[str, float] | None = None
) -> Ranking:
    """Score each id by Σ_r weight_r / (k + rank_r(id)), ranks starting at 1.

    >>> reciprocal_rank_fusion({"bm25": [(1, 9.0), (2, 3.0)], "dense": [(2, 0.9), (3, 0.5)]})
    [(2, 0.03252247488101534), (1, 0.01639344262295082), (3, 0.016129032258064516)]
    """
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        weight = 1.0 if weights is None else weights.get(name, 1.0)
        for rank, (item, _) in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))


def score_fusion(
    rankings: Mapping[str, Ranking], *, alpha: float = 0.5, dense: str = "dense"
) -> Ranking:
    """Convex combination of min-max normalised scores: α·dense + (1−α)·other.

    An id missing from one ranking gets 0 from it (below that ranking's minimum).

    >>> score_fusion({"dense": [(1, 0.9), (2, 0.5)], "bm25": [(2, 12.0), (3, 4.0)]}, alpha=0.25)
    [(2, 0.75), (1, 0.25), (3, 0.0)]
    """
    fused: dict[int, float] = {}
    for name, ranking in rankings.items():
        if not ranking:
            continue
        weight = alpha if name == dense else 1.0 - alpha
        scores = [s for _, s in ranking]
        low, high = min(scores), max(scores)
        span = high - low
        for item, score in ranking:
            normalised = (score - low) / span if span > 0 else 1.0
            fused[item] = fused.get(item, 0.0) + weight * normalised
    return sorted(fused.items(), key=lambda pair: (-pair[1], pair[0]))
