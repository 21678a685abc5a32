"""The Retriever protocol, and rankings: the arrays-level result every retriever produces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from ragline.documents import Hit
from ragline.filters import Filters

Ranking = list[tuple[int, float]]
"""Chunk row ids with scores, best first."""


@runtime_checkable
class Retriever(Protocol):
    """Anything that turns queries into ranked hits (a KnowledgeBase is one)."""

    def retrieve(
        self, queries: Sequence[str], k: int | None = None, *, filters: Filters | None = None
    ) -> list[list[Hit]]: ...


def to_rankings(scores: NDArray[np.float32], ids: NDArray[np.int64]) -> list[Ranking]:
    """Index output ``(scores, ids)`` rows as rankings, dropping the -1 padding."""
    return [
        [(int(i), float(s)) for s, i in zip(row_scores, row_ids, strict=True) if i >= 0]
        for row_scores, row_ids in zip(scores, ids, strict=True)
    ]
