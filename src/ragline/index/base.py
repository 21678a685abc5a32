"""Index protocols: dense (vectors) and sparse (texts), both keyed by int64 chunk row ids.

A knowledge base keeps its indexes through these protocols only (``ragline.index.keeper``),
so a backend is one class that has the methods, named in ``ragline.index.registry``. Both
kinds record ``generation`` and ``max_rowid``, the catalog state they reflect, so they can
catch up incrementally; ``create`` builds an empty one for a configuration, ``load`` reads a
saved one back, and ``fits`` says whether a loaded one still has the structure the
configuration asks for (else it is rebuilt from the catalog).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from ragline.config import IndexConfig


@dataclass(frozen=True)
class SearchParams:
    """Per-query knobs. ``allowed`` restricts results to these ids (a metadata filter)."""

    nprobe: int | None = None
    ef_search: int | None = None
    allowed: NDArray[np.int64] | None = None


def query_matrix(queries: NDArray[np.float32]) -> NDArray[np.float32]:
    """``queries`` as the contiguous float32 (n, dim) matrix every dense index searches with
    (one query vector becomes a matrix of one row)."""
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    return queries[None, :] if queries.ndim == 1 else queries


@runtime_checkable
class DenseIndex(Protocol):
    """Nearest neighbours by inner product over unit vectors (= cosine).

    ``search`` returns ``(scores, ids)``, each of shape ``(len(queries), k)``; id -1 pads
    rows with fewer than ``k`` results. ``exact`` says whether search is exhaustive (then a
    selective filter can never starve it); ``structure`` is what is built now, as
    ``ragline info`` reports it; ``needs_rebuild`` says the index drifted so far (deletions,
    a trainable structure that now has enough vectors) that rebuilding it from the catalog
    pays. ``file_name`` is the file it is saved to in a knowledge base directory.
    """

    file_name: ClassVar[str]
    dim: int
    generation: int
    max_rowid: int

    @classmethod
    def create(cls, dim: int, settings: IndexConfig, size: int) -> Self:
        """An empty index for ``settings``, sized for ``size`` vectors."""
        ...

    @classmethod
    def load(cls, path: Path) -> Self: ...

    def fits(self, settings: IndexConfig) -> bool: ...

    @property
    def exact(self) -> bool: ...

    @property
    def structure(self) -> str: ...

    @property
    def needs_rebuild(self) -> bool: ...

    def __len__(self) -> int: ...

    def add(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None: ...

    def remove(self, ids: NDArray[np.int64]) -> None: ...

    def search(
        self, queries: NDArray[np.float32], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]: ...

    def save(self, path: Path) -> None: ...


@runtime_checkable
class Trainable(Protocol):
    """A dense index whose structure learns from sample vectors (FAISS IVF, PQ)."""

    @property
    def needs_training(self) -> bool: ...

    def train(self, vectors: NDArray[np.float32]) -> bool:
        """Train on sample vectors; False when they are too few yet."""
        ...


@runtime_checkable
class SparseIndex(Protocol):
    """Lexical search over chunk texts; same shapes as DenseIndex.

    ``needs_compaction`` says enough rows were deleted that ``compact`` (in place) pays.
    """

    file_name: ClassVar[str]
    generation: int
    max_rowid: int

    @classmethod
    def create(cls, settings: IndexConfig) -> Self: ...

    @classmethod
    def load(cls, path: Path) -> Self: ...

    def fits(self, settings: IndexConfig) -> bool: ...

    @property
    def needs_compaction(self) -> bool: ...

    def compact(self) -> None: ...

    def __len__(self) -> int: ...

    def add(self, ids: NDArray[np.int64], texts: Sequence[str]) -> None: ...

    def remove(self, ids: NDArray[np.int64]) -> None: ...

    def search(
        self, queries: Sequence[str], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]: ...

    def save(self, path: Path) -> None: ...
