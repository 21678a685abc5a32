"""Stage 4: derived indexes — dense (FAISS) and sparse (BM25) — behind two protocols."""

from __future__ import annotations

from ragline.index.base import DenseIndex, SearchParams, SparseIndex

__all__ = ["DenseIndex", "SearchParams", "SparseIndex"]
