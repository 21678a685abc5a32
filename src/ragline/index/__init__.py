"""Stage 4: derived indexes — dense (FAISS), sparse (BM25) — and metadata filters."""

from __future__ import annotations

from ragline.index.base import DenseIndex, SearchParams, SparseIndex
from ragline.index.filters import Filters, parse_filters

__all__ = ["DenseIndex", "Filters", "SearchParams", "SparseIndex", "parse_filters"]
