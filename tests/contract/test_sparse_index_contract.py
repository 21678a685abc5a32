"""Every sparse index backend against the SparseIndex suite: one parameter per backend."""

from __future__ import annotations

from typing import Any

import pytest

from ragline.config import IndexConfig
from ragline.index.registry import SPARSE_INDEXES
from ragline.testing import SparseIndexContract

BACKENDS = {
    "bm25": lambda: (SPARSE_INDEXES.load("bm25"), IndexConfig()),
}


class TestSparseIndexes(SparseIndexContract):
    @pytest.fixture(params=list(BACKENDS))
    def backend(self, request: pytest.FixtureRequest) -> tuple[Any, IndexConfig]:
        return BACKENDS[request.param]()
