"""Stage 5: retrieval — dense, BM25 and hybrid fusion over the knowledge base's indexes."""

from __future__ import annotations

from ragline.retrieve.base import Ranking, Retriever
from ragline.retrieve.fusion import reciprocal_rank_fusion, score_fusion

__all__ = ["Ranking", "Retriever", "reciprocal_rank_fusion", "score_fusion"]
