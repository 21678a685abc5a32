"""Index protocols: dense (vectors) and sparse (texts), both keyed by int64 chunk row ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class SearchParams:
    """Per-query knobs. ``allowed`` restricts results to these ids (a metadata filter)."""

    nprobe: int | None = None
    ef_search: int | None = None
    allowed: NDArray[np.int64] | None = None


@runtime_checkable
class DenseIndex(Protocol):
    """Nearest neighbours by inner product over unit vectors (= cosine).

    ``search`` returns ``(scores, ids)``, each of shape ``(len(queries), k)``; id -1 pads
    rows with fewer than ``k`` results. ``generation`` and ``max_rowid`` say which catalog
    state the index reflects, so it can catch up incrementally.
    """

    generation: int
    max_rowid: int

    def __len__(self) -> int: ...

    def add(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None: ...

    def remove(self, ids: NDArray[np.int64]) -> None: ...

    def search(
        self, queries: NDArray[np.float32], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]: ...

    def save(self, path: Path) -> None: ...


@runtime_checkable
class SparseIndex(Protocol):
    """Lexical search over chunk texts; same shapes as DenseIndex."""

    generation: int
    max_rowid: int

    def __len__(self) -> int: ...

    def add(self, ids: NDArray[np.int64], texts: Sequence[str]) -> None: ...

    def remove(self, ids: NDArray[np.int64]) -> None: ...

    def search(
        self, queries: Sequence[str], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]: ...

    def save(self, path: Path) -> None: ...
