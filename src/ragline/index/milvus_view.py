"""The catalog, as far as search needs it, answered from a knowledge base's Milvus collections.

The retrieval pipeline asks its catalog for three things: the chunk ids a metadata filter
allows, the chunks of the ids it found, and (for a selective filter over an approximate
index) their stored vectors. The Milvus collections carry all three (the text collection
holds each chunk's published search-result fields, the dense one its vector), so a search
node with no catalog runs the very same pipeline over this view and returns the writer's
results. Filters become Milvus expressions through :func:`to_milvus_expression` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from ragline.documents import Chunk
from ragline.filters import Filters
from ragline.index.milvus import MilvusIndex
from ragline.index.milvus_bm25 import MilvusBM25Index
from ragline.index.milvus_filters import to_milvus_expression

if TYPE_CHECKING:
    from ragline.config import IndexConfig


class MilvusCatalogView:
    """``rowids_where``, ``chunks`` and ``vectors`` of :class:`~ragline.store.catalog.Catalog`
    over the collections ``settings`` names, and the two indexes themselves."""

    def __init__(self, dense: MilvusIndex, sparse: MilvusBM25Index) -> None:
        self.dense = dense
        self.sparse = sparse

    @classmethod
    def attach(cls, settings: IndexConfig, dim: int) -> MilvusCatalogView:
        """The view of existing collections (nothing is created or dropped)."""
        return cls(MilvusIndex.attach(dim, settings), MilvusBM25Index.attach(settings))

    def indexes(self) -> tuple[MilvusIndex, MilvusBM25Index]:
        return self.dense, self.sparse

    def rowids_where(self, filters: Filters) -> NDArray[np.int64]:
        return self.sparse.rowids_where(to_milvus_expression(filters))

    def chunks(self, rowids: Sequence[int]) -> dict[int, Chunk]:
        return self.sparse.chunks(rowids)

    def vectors(self, rowids: Sequence[int]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        return self.dense.vectors(np.asarray(rowids, dtype=np.int64))

    def counts(self) -> tuple[int, int]:
        """(documents, chunks) as far as the collections know: documents are not counted
        (0), chunks are the text collection's rows."""
        return 0, len(self.sparse)
