"""Every dense index backend against the DenseIndex suite: one parameter per backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ragline.config import IndexConfig
from ragline.index.registry import DENSE_INDEXES
from ragline.testing import DenseIndexContract, MemoryDenseIndex


def milvus(factory: str, tmp: Path) -> tuple[Any, IndexConfig]:
    """A Milvus Lite data path of the test's own."""
    return DENSE_INDEXES.load("milvus"), IndexConfig(
        backend="milvus", uri=str(tmp / "milvus.db"), factory=factory
    )


BACKENDS = {
    "faiss-flat": lambda tmp: (DENSE_INDEXES.load("faiss"), IndexConfig(factory="Flat")),
    "faiss-auto": lambda tmp: (DENSE_INDEXES.load("faiss"), IndexConfig()),
    "faiss-hnsw": lambda tmp: (DENSE_INDEXES.load("faiss"), IndexConfig(factory="HNSW32")),
    "faiss-ivf": lambda tmp: (DENSE_INDEXES.load("faiss"), IndexConfig(factory="IVF4,Flat")),
    "memory": lambda tmp: (MemoryDenseIndex, IndexConfig()),
    "milvus-flat": lambda tmp: milvus("Flat", tmp),
    "milvus-hnsw": lambda tmp: milvus("HNSW32", tmp),
    "milvus-ivf": lambda tmp: milvus("IVF4,Flat", tmp),
}


class TestDenseIndexes(DenseIndexContract):
    @pytest.fixture(params=list(BACKENDS))
    def backend(self, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, IndexConfig]:
        return BACKENDS[request.param](tmp_path)
