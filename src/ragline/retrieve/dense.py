"""Dense retrieval: cosine top-k from the dense index, exact over the allowed set when a
selective filter would starve an approximate index."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ragline.index.base import DenseIndex, SearchParams
from ragline.retrieve.base import Ranking, to_rankings
from ragline.store.catalog import Catalog

SELECTIVE_FILTER_FRACTION = 0.2


def dense_rankings(
    index: DenseIndex,
    catalog: Catalog,
    query_vectors: NDArray[np.float32],
    k: int,
    params: SearchParams,
) -> list[Ranking]:
    """Top-``k`` chunk ids per query vector, restricted to ``params.allowed`` if given.

    HNSW and IVF visit a bounded part of the data, so a filter that leaves few chunks could
    return fewer than ``k`` hits; then the allowed vectors are scored exactly instead.
    """
    allowed = params.allowed
    if (
        allowed is not None
        and not index.exact
        and len(allowed) < SELECTIVE_FILTER_FRACTION * max(len(index), 1)
    ):
        ids, vectors = catalog.vectors(allowed.tolist())
        if not len(ids):
            return [[] for _ in query_vectors]
        scores = query_vectors @ vectors.T
        top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return to_rankings(np.take_along_axis(scores, top, axis=1), ids[top])
    scores, ids = index.search(query_vectors, k, params=params)
    return to_rankings(scores, ids)
