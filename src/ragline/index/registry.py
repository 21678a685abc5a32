"""Index backends by name: ``IndexConfig.backend`` picks the dense index,
``IndexConfig.sparse_backend`` the sparse one (see :mod:`ragline.index.base`)."""

from __future__ import annotations

from ragline.registry import Registry

DENSE_INDEXES = Registry(
    "dense index",
    {
        "faiss": "ragline.index.faiss:FaissIndex",
        "milvus": "ragline.index.milvus:MilvusIndex",
    },
)
SPARSE_INDEXES = Registry(
    "sparse index",
    {
        "bm25": "ragline.index.bm25:BM25Index",
        "milvus": "ragline.index.milvus_bm25:MilvusBM25Index",
    },
)
