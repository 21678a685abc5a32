"""The retrieval pipeline of a knowledge base: dense and sparse search, fusion, re-ranking.

Per query, each side (``dense``, ``bm25``) returns a ranking from its index, restricted to
the chunks a metadata filter allows; hybrid mode fuses the two (reciprocal rank or score
fusion); a re-ranker, when asked for, re-scores the fused top hits (see
:mod:`ragline.retrieve.rerank_stage`). Written against the index, encoder and re-ranker
protocols only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from ragline.config import SearchConfig
from ragline.documents import Hit
from ragline.embed.base import Encoder
from ragline.errors import RaglineError
from ragline.filters import Filters
from ragline.index.base import DenseIndex, SearchParams, SparseIndex
from ragline.rerank.base import Reranker
from ragline.rerank.registry import make_reranker
from ragline.retrieve.base import Ranking, to_rankings
from ragline.retrieve.dense import dense_rankings
from ragline.retrieve.fusion import reciprocal_rank_fusion, score_fusion
from ragline.retrieve.options import SearchOptions
from ragline.retrieve.rerank_stage import rerank_stage
from ragline.store.catalog import Catalog

MODES = ("hybrid", "dense", "bm25")
FUSIONS = ("rrf", "score")


class RetrievalPipeline:
    """Searches a catalog's indexes.

    ``indexes`` returns the dense and sparse index, caught up with the catalog; ``encoder``
    the encoder that embeds queries now; both are called under ``lock``, which also guards
    the index lookups against a concurrent write. Re-rankers named in a search are made
    once and kept (``rerank_cache_dir`` holds the token caches of those that have one).
    """

    def __init__(
        self,
        catalog: Catalog,
        indexes: Callable[[], tuple[DenseIndex, SparseIndex]],
        encoder: Callable[[], Encoder],
        lock: threading.RLock,
        *,
        rerank_cache_dir: Path | None = None,
    ) -> None:
        self.catalog = catalog
        self.indexes = indexes
        self.encoder = encoder
        self.lock = lock
        self.rerank_cache_dir = rerank_cache_dir
        self._rerankers: dict[tuple[str, str], Reranker] = {}

    def search(
        self, queries: Sequence[str], defaults: SearchConfig, options: SearchOptions
    ) -> list[list[Hit]]:
        """The top hits per query, by ``defaults`` with ``options`` applied."""
        settings = options.settings(defaults)
        reranker = self.reranker(options.reranker_choice(defaults), settings.rerank_backend)
        if reranker is None:
            return self.first_stage(queries, settings, options.filters, settings.k)
        depth = settings.rerank_depth
        first = self.first_stage(queries, settings, options.filters, max(settings.k, depth))
        return rerank_stage(
            queries,
            first,
            reranker,
            depth=depth,
            fusion=settings.rerank_fusion,
            rrf_k=settings.rrf_k,
            k=settings.k,
        )

    def first_stage(
        self, queries: Sequence[str], settings: SearchConfig, filters: Filters | None, k: int
    ) -> list[list[Hit]]:
        """The top ``k`` hits per query by ``settings.mode``, before any re-ranking."""
        mode, fusion = settings.mode, settings.fusion
        if mode not in MODES:
            raise RaglineError(f"search mode {mode!r}: use hybrid, dense or bm25")
        if fusion not in FUSIONS:
            raise RaglineError(f"fusion {fusion!r}: use rrf or score")
        hybrid = mode == "hybrid"
        dense_depth = max(settings.dense_depth or settings.depth, k) if hybrid else k
        bm25_depth = max(settings.bm25_depth or settings.depth, k) if hybrid else k
        # Encoding and result assembly run outside the lock so concurrent searches overlap;
        # only the index lookups, which a concurrent write could change, hold it.
        encoder = self.encoder()
        vectors = encoder.encode_queries(list(queries)) if mode != "bm25" else None
        sides: dict[str, list[Ranking]] = {}
        with self.lock:
            dense, sparse = self.indexes()
            if vectors is not None and self.encoder() is not encoder:
                vectors = self.encoder().encode_queries(list(queries))  # re-embedded meanwhile
            allowed = self.catalog.rowids_where(filters) if filters else None
            params = SearchParams(
                nprobe=settings.nprobe, ef_search=settings.ef_search, allowed=allowed
            )
            if vectors is not None:
                sides["dense"] = dense_rankings(dense, self.catalog, vectors, dense_depth, params)
            if mode != "dense":
                found = sparse.search(list(queries), bm25_depth, params=params)
                sides["bm25"] = to_rankings(*found)
        results: list[list[Hit]] = []
        for qi in range(len(queries)):
            per_side = {name: rankings[qi] for name, rankings in sides.items()}
            fused = _fused(per_side, settings) if hybrid else per_side[mode]
            results.append(self._hits(fused[:k], per_side, mode))
        return results

    def _hits(self, fused: Ranking, per_side: dict[str, Ranking], source: str) -> list[Hit]:
        """Hits for the chunk ids of ``fused``, each with its rank and score on every side."""
        chunks = self.catalog.chunks([i for i, _ in fused])
        positions = {
            name: {item: (rank, score) for rank, (item, score) in enumerate(ranking, start=1)}
            for name, ranking in per_side.items()
        }
        hits: list[Hit] = []
        for item, score in fused:
            chunk = chunks.get(item)
            if chunk is None:
                continue
            hit = Hit(chunk, score, len(hits) + 1, source)
            for name, found in positions.items():
                if item in found:
                    hit.ranks[name], hit.scores[name] = found[item]
            hits.append(hit)
        return hits

    def reranker(self, choice: str | Reranker, backend: str = "torch") -> Reranker | None:
        """A Reranker object as given, or one made (and kept) for a name run on
        ``backend``; None for ""."""
        if not choice:
            return None
        if not isinstance(choice, str):
            return choice
        made = self._rerankers.get((choice, backend))
        if made is None:
            made = make_reranker(choice, backend=backend, cache_dir=self.rerank_cache_dir)
            self._rerankers[choice, backend] = made
        return made


def _fused(per_side: dict[str, Ranking], settings: SearchConfig) -> Ranking:
    if settings.fusion == "rrf":
        weights = {"dense": settings.dense_weight, "bm25": settings.bm25_weight}
        return reciprocal_rank_fusion(per_side, k=settings.rrf_k, weights=weights)
    return score_fusion(per_side, alpha=settings.alpha)
