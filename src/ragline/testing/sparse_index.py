"""The SparseIndex conformance suite: add, search, filter, delete, compact and persist.

Subclass :class:`SparseIndexContract` and provide the fixture ``backend``: the index class
and the :class:`~ragline.config.IndexConfig` to build it with (``create``). Texts are added
with ascending ids, as a knowledge base adds them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from ragline.config import IndexConfig
from ragline.index.base import SearchParams, SparseIndex

TEXTS = {
    10: "Cats purr softly on the warm windowsill.",
    20: "Dogs bark loudly at the mail carrier.",
    30: "Volcanoes erupt and pour hot lava over basalt.",
    40: "Bakers knead sourdough and proof it overnight.",
    50: "Telescopes watch distant galaxies and nebulae.",
    60: "Steam locomotives haul freight across the prairie.",
}
QUERIES = {
    10: "purring cats",
    20: "barking dog",
    30: "lava volcano",
    40: "sourdough baker",
    50: "galaxies telescope",
    60: "steam locomotive",
}


def valid(ids: NDArray[np.int64]) -> set[int]:
    return {int(i) for i in ids.ravel() if i >= 0}


class SparseIndexContract:
    """What every SparseIndex must do."""

    @pytest.fixture
    def backend(self) -> tuple[Any, IndexConfig]:
        raise NotImplementedError("a subclass provides the index class and its settings")

    @pytest.fixture
    def empty(self, backend: tuple[Any, IndexConfig]) -> SparseIndex:
        kind, settings = backend
        index: SparseIndex = kind.create(settings)
        return index

    @pytest.fixture
    def full(self, empty: SparseIndex) -> SparseIndex:
        empty.add(np.array(list(TEXTS), dtype=np.int64), list(TEXTS.values()))
        return empty

    def search_top(self, index: SparseIndex, k: int = 3, params: SearchParams | None = None):
        return index.search(list(QUERIES.values()), k, params=params)

    def test_follows_the_protocol(self, backend: Any, empty: SparseIndex) -> None:
        assert isinstance(empty, SparseIndex)
        assert isinstance(empty.file_name, str) and empty.file_name
        assert len(empty) == 0 and empty.fits(backend[1])
        assert not empty.needs_compaction

    def test_an_empty_index_returns_padding(self, empty: SparseIndex) -> None:
        scores, ids = empty.search(["anything at all"], 3)
        assert scores.shape == ids.shape == (1, 3)
        assert (ids == -1).all()

    def test_finds_the_text_a_query_is_about_first(self, full: SparseIndex) -> None:
        scores, found = self.search_top(full)
        assert scores.shape == found.shape == (len(QUERIES), 3)
        assert scores.dtype == np.float32 and found.dtype == np.int64
        assert found[:, 0].tolist() == list(QUERIES)
        assert (scores[:, 0] > 0).all()
        live = found >= 0
        assert all((np.diff(row[mask]) <= 0).all() for row, mask in zip(scores, live, strict=True))
        assert len(full) == len(TEXTS) and full.max_rowid == max(TEXTS)

    def test_pads_with_minus_one_when_few_texts_match(self, full: SparseIndex) -> None:
        _, found = full.search(["lava", "no such words here"], 4)
        assert found[0].tolist() == [30, -1, -1, -1]
        assert (found[1] == -1).all()

    def test_removed_texts_are_never_found(self, full: SparseIndex) -> None:
        full.remove(np.array([20, 40], dtype=np.int64))
        _, found = self.search_top(full)
        assert not valid(found) & {20, 40}
        assert len(full) == len(TEXTS) - 2

    def test_allowed_ids_restrict_the_results(self, full: SparseIndex) -> None:
        allowed = np.array([10, 30], dtype=np.int64)
        _, found = self.search_top(full, params=SearchParams(allowed=allowed))
        assert valid(found) <= {10, 30}
        assert found[[0, 2], 0].tolist() == [10, 30]

    def test_compacting_keeps_the_answers(self, full: SparseIndex) -> None:
        full.remove(np.array([20], dtype=np.int64))
        before = self.search_top(full)
        full.compact()
        after = self.search_top(full)
        np.testing.assert_array_equal(before[1], after[1])
        np.testing.assert_allclose(before[0], after[0], rtol=1e-5)

    def test_saved_and_loaded_it_answers_alike(self, full: SparseIndex, tmp_path: Path) -> None:
        full.remove(np.array([60], dtype=np.int64))
        full.generation = 3
        path = tmp_path / full.file_name
        full.save(path)
        loaded = type(full).load(path)
        assert (loaded.generation, loaded.max_rowid, len(loaded)) == (3, max(TEXTS), len(full))
        before, after = self.search_top(full), self.search_top(loaded)
        np.testing.assert_array_equal(before[1], after[1])
        np.testing.assert_allclose(before[0], after[0], rtol=1e-5)
        loaded.add(np.array([70], dtype=np.int64), ["Lighthouses guide ships past rocks."])
        assert loaded.search(["lighthouse"], 1)[1].tolist() == [[70]]
