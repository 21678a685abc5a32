"""Every sparse index backend against the SparseIndex suite: one parameter per backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ragline.config import IndexConfig
from ragline.index.registry import SPARSE_INDEXES
from ragline.testing import SparseIndexContract

BACKENDS = {
    "bm25": lambda tmp: (SPARSE_INDEXES.load("bm25"), IndexConfig()),
    "milvus-bm25": lambda tmp: (
        SPARSE_INDEXES.load("milvus"),
        IndexConfig(sparse_backend="milvus", uri=str(tmp / "milvus.db")),
    ),
}


class TestSparseIndexes(SparseIndexContract):
    @pytest.fixture(params=list(BACKENDS))
    def backend(self, request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, IndexConfig]:
        return BACKENDS[request.param](tmp_path)
