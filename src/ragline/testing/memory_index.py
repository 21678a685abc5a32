"""The smallest DenseIndex: exact inner-product search over vectors held in numpy arrays.

A test double for code written against :class:`~ragline.index.base.DenseIndex`, and the
second implementation the dense-index conformance suite runs on.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ragline.config import IndexConfig
from ragline.files import atomic_write
from ragline.index.base import SearchParams


class MemoryDenseIndex:
    """Every vector kept, every search exact.

    >>> index = MemoryDenseIndex(dim=2)
    >>> index.add(np.array([7, 9]), np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> index.search(np.array([[0.6, 0.8]], dtype=np.float32), 3)[1].tolist()
    [[9, 7, -1]]
    """

    file_name = "dense.npz"
    exact = True
    structure = "memory"
    needs_rebuild = False

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.generation = 0
        self.max_rowid = 0
        self._ids = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, dim), dtype=np.float32)

    @classmethod
    def create(cls, dim: int, settings: IndexConfig, size: int) -> MemoryDenseIndex:
        return cls(dim)

    def fits(self, settings: IndexConfig) -> bool:
        return True

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        if len(ids) == 0:
            return
        self._ids = np.concatenate([self._ids, np.asarray(ids, dtype=np.int64)])
        self._vectors = np.concatenate([self._vectors, np.asarray(vectors, dtype=np.float32)])
        self.max_rowid = max(self.max_rowid, int(np.max(ids)))

    def remove(self, ids: NDArray[np.int64]) -> None:
        keep = ~np.isin(self._ids, ids)
        self._ids, self._vectors = self._ids[keep], self._vectors[keep]

    def search(
        self, queries: NDArray[np.float32], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        candidates = np.arange(len(self._ids))
        if params is not None and params.allowed is not None:
            candidates = candidates[np.isin(self._ids, params.allowed)]
        found = queries @ self._vectors[candidates].T
        top = np.argsort(-found, axis=1, kind="stable")[:, :k]
        width = top.shape[1]
        scores[:, :width] = np.take_along_axis(found, top, axis=1)
        ids[:, :width] = self._ids[candidates][top]
        return scores, ids

    def save(self, path: Path) -> None:
        facts = {"dim": self.dim, "generation": self.generation, "max_rowid": self.max_rowid}

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(f, ids=self._ids, vectors=self._vectors, facts=json.dumps(facts))

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> MemoryDenseIndex:
        with np.load(path, allow_pickle=False) as data:
            facts = json.loads(str(data["facts"]))
            index = cls(facts["dim"])
            index._ids, index._vectors = data["ids"], data["vectors"]
        index.generation, index.max_rowid = facts["generation"], facts["max_rowid"]
        return index
