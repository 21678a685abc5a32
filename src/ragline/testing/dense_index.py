"""The DenseIndex conformance suite: add, search, filter, delete and persist.

Subclass :class:`DenseIndexContract` and provide the fixture ``backend``: the index class
and the :class:`~ragline.config.IndexConfig` to build it with (``create``, as a knowledge
base builds it; a trainable structure is trained on the data first).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from ragline.config import IndexConfig
from ragline.index.base import DenseIndex, SearchParams, Trainable

N, DIM = 200, 16
PARAMS = SearchParams(nprobe=64, ef_search=64)


def unit_vectors(n: int, dim: int, seed: int) -> NDArray[np.float32]:
    rows = np.random.default_rng(seed).standard_normal((n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def valid(ids: NDArray[np.int64]) -> set[int]:
    return {int(i) for i in ids.ravel() if i >= 0}


class DenseIndexContract:
    """What every DenseIndex must do; ids are not 0..n-1, to catch position/id mix-ups."""

    @pytest.fixture
    def backend(self) -> tuple[Any, IndexConfig]:
        raise NotImplementedError("a subclass provides the index class and its settings")

    @pytest.fixture
    def data(self) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        return np.arange(N, dtype=np.int64) * 3 + 100, unit_vectors(N, DIM, seed=7)

    @pytest.fixture
    def empty(self, backend: tuple[Any, IndexConfig], data: Any) -> DenseIndex:
        kind, settings = backend
        index: DenseIndex = kind.create(DIM, settings, N)
        if isinstance(index, Trainable) and index.needs_training:
            assert index.train(data[1])
        return index

    @pytest.fixture
    def full(self, empty: DenseIndex, data: Any) -> DenseIndex:
        empty.add(*data)
        return empty

    def test_follows_the_protocol(self, backend: Any, empty: DenseIndex) -> None:
        assert isinstance(empty, DenseIndex)
        assert isinstance(empty.file_name, str) and empty.file_name
        assert empty.dim == DIM and len(empty) == 0
        assert empty.fits(backend[1])
        assert isinstance(empty.structure, str) and isinstance(empty.exact, bool)
        assert not empty.needs_rebuild

    def test_an_empty_index_returns_padding(self, empty: DenseIndex) -> None:
        scores, ids = empty.search(unit_vectors(2, DIM, seed=1), 4, params=PARAMS)
        assert scores.shape == ids.shape == (2, 4)
        assert (ids == -1).all()

    def test_finds_each_stored_vector_first(self, full: DenseIndex, data: Any) -> None:
        ids, vectors = data
        scores, found = full.search(vectors[:20], 5, params=PARAMS)
        assert scores.shape == found.shape == (20, 5)
        assert scores.dtype == np.float32 and found.dtype == np.int64
        assert found[:, 0].tolist() == ids[:20].tolist()
        # float16-stored vectors (SQfp16) round a self-match's score by up to 2e-4
        np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-3)
        assert (np.diff(scores, axis=1) <= 1e-6).all()
        assert len(full) == N and full.max_rowid == int(ids.max())

    def test_pads_with_minus_one_past_the_stored_vectors(
        self, empty: DenseIndex, data: Any
    ) -> None:
        ids, vectors = data
        empty.add(ids[:3], vectors[:3])
        _, found = empty.search(vectors[:1], 5, params=PARAMS)
        assert valid(found) == set(ids[:3].tolist())
        assert found[0, 3:].tolist() == [-1, -1]

    def test_removed_vectors_are_never_found(self, full: DenseIndex, data: Any) -> None:
        ids, vectors = data
        removed = ids[::2]
        full.remove(removed)
        _, found = full.search(vectors, 10, params=PARAMS)
        assert not valid(found) & set(removed.tolist())
        assert found[1::2, 0].tolist() == ids[1::2].tolist()
        assert len(full) == N - len(removed)

    def test_allowed_ids_restrict_the_results(self, full: DenseIndex, data: Any) -> None:
        ids, vectors = data
        allowed = ids[::5]
        params = SearchParams(nprobe=PARAMS.nprobe, ef_search=PARAMS.ef_search, allowed=allowed)
        _, found = full.search(vectors[::5], 3, params=params)
        assert valid(found) <= set(allowed.tolist())
        assert found[:, 0].tolist() == allowed.tolist()

    def test_saved_and_loaded_it_answers_alike(
        self, full: DenseIndex, data: Any, tmp_path: Path
    ) -> None:
        full.remove(data[0][:10])
        full.generation = 7
        path = tmp_path / full.file_name
        full.save(path)
        loaded = type(full).load(path)
        assert (loaded.generation, loaded.max_rowid, len(loaded), loaded.dim) == (
            7,
            full.max_rowid,
            len(full),
            DIM,
        )
        queries = data[1][:30]
        before = full.search(queries, 5, params=PARAMS)
        after = loaded.search(queries, 5, params=PARAMS)
        np.testing.assert_array_equal(before[1], after[1])
        np.testing.assert_allclose(before[0], after[0], atol=1e-6)
