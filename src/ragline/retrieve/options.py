"""Per-call search options: what a caller may override of ``SearchConfig`` for one search."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ragline.config import SearchConfig
from ragline.filters import Filters
from ragline.rerank.base import Reranker


@dataclass(frozen=True)
class SearchOptions:
    """Overrides for one search; None (and 0 for counts) keeps the configured value.

    ``filters`` restrict hits by metadata (applied inside each index). ``rerank`` is a
    Reranker or a re-ranker name; ``""`` turns the configured one off; ``rerank_backend``
    runs a named one on ``torch`` or ``openvino``.

    >>> SearchOptions(k=3, mode="bm25").settings(SearchConfig()).k
    3
    """

    k: int | None = None
    mode: str | None = None
    filters: Filters | None = None
    fusion: str | None = None
    depth: int | None = None
    rrf_k: int | None = None
    alpha: float | None = None
    nprobe: int | None = None
    ef_search: int | None = None
    rerank: str | Reranker | None = None
    rerank_depth: int | None = None
    rerank_fusion: str | None = None
    rerank_backend: str | None = None

    def settings(self, defaults: SearchConfig) -> SearchConfig:
        """``defaults`` with these overrides applied (the re-ranker and filters aside)."""
        return replace(
            defaults,
            k=self.k or defaults.k,
            mode=self.mode or defaults.mode,
            fusion=self.fusion or defaults.fusion,
            depth=self.depth or defaults.depth,
            rrf_k=self.rrf_k or defaults.rrf_k,
            alpha=defaults.alpha if self.alpha is None else self.alpha,
            nprobe=self.nprobe or defaults.nprobe,
            ef_search=self.ef_search or defaults.ef_search,
            rerank_depth=self.rerank_depth or defaults.rerank_depth,
            rerank_fusion=self.rerank_fusion or defaults.rerank_fusion,
            rerank_backend=self.rerank_backend or defaults.rerank_backend,
        )

    def reranker_choice(self, defaults: SearchConfig) -> str | Reranker:
        """The re-ranker asked for: this call's, else the configured name ("" for none)."""
        return defaults.rerank if self.rerank is None else self.rerank
