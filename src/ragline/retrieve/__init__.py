"""Stage 5: retrieval — dense, BM25, hybrid fusion and re-ranking over a knowledge base's
indexes (:class:`RetrievalPipeline`, per-call :class:`SearchOptions`)."""

from __future__ import annotations

from ragline.retrieve.base import Ranking, Retriever
from ragline.retrieve.fusion import reciprocal_rank_fusion, score_fusion
from ragline.retrieve.options import SearchOptions
from ragline.retrieve.pipeline import RetrievalPipeline

__all__ = [
    "Ranking",
    "RetrievalPipeline",
    "Retriever",
    "SearchOptions",
    "reciprocal_rank_fusion",
    "score_fusion",
]
