"""Every dense index backend against the DenseIndex suite: one parameter per backend."""

from __future__ import annotations

from typing import Any

import pytest

from ragline.config import IndexConfig
from ragline.index.registry import DENSE_INDEXES
from ragline.testing import DenseIndexContract, MemoryDenseIndex

BACKENDS = {
    "faiss-flat": lambda: (DENSE_INDEXES.load("faiss"), IndexConfig(factory="Flat")),
    "faiss-hnsw": lambda: (DENSE_INDEXES.load("faiss"), IndexConfig(factory="HNSW32")),
    "faiss-ivf": lambda: (DENSE_INDEXES.load("faiss"), IndexConfig(factory="IVF4,Flat")),
    "memory": lambda: (MemoryDenseIndex, IndexConfig()),
}


class TestDenseIndexes(DenseIndexContract):
    @pytest.fixture(params=list(BACKENDS))
    def backend(self, request: pytest.FixtureRequest) -> tuple[Any, IndexConfig]:
        return BACKENDS[request.param]()
