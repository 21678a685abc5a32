"""Dense index on FAISS, its structure given by an index-factory string ("Flat", "HNSW32", ...)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline.errors import RaglineError
from ragline.files import atomic_write
from ragline.index.base import SearchParams, query_matrix

if TYPE_CHECKING:
    from ragline.config import IndexConfig

log = logging.getLogger(__name__)

AUTO_HNSW_THRESHOLD = 200_000
FILE_MAGIC = b"ragline-faiss 1\n"
FILE_NAME = "dense.faiss"
REBUILD_FRACTION = 0.2
"""Rebuild from the catalog once this fraction of the stored vectors is tombstoned."""
VECTORS_PER_CELL = 40
"""Train a pending IVF structure once it holds this many vectors per cell."""
SERIAL_QUERIES = 8
"""Searches of at most this many queries run on one OpenMP thread. One query's exact scan is
bound by memory bandwidth, so more threads did not speed it up, and the threads OpenMP
leaves spinning after a search slowed the query encoder's next inference from 7.3 to
10.6 ms on SciFact here (README, "Speed: embedder backends")."""


EXACT_FACTORY = "SQfp16"
"""FAISS's exact structure for ``"auto"``: an exhaustive scan over vectors stored as float16,
half the memory and memory traffic of float32, which bounds a one-query scan (SciFact's
11,450 vectors: 0.99 → 0.63 ms here), with scores within 6e-5 and SciFact nDCG@10 unchanged
to five decimals."""


def resolve_factory(factory: str, n_vectors: int, exact: str) -> str:
    """The factory string to build: ``"auto"`` is the backend's ``exact`` structure below
    200k vectors, HNSW above."""
    if factory != "auto":
        return factory
    return exact if n_vectors < AUTO_HNSW_THRESHOLD else "HNSW32"


def nlist(factory: str) -> int:
    """The number of IVF cells a factory string asks for (1 when it is not IVF).

    >>> nlist("IVF1024,PQ32"), nlist("HNSW32")
    (1024, 1)
    """
    for part in factory.split(","):
        if part.startswith("IVF"):
            digits = "".join(ch for ch in part[3:] if ch.isdigit())
            return int(digits or 1)
    return 1


class FaissIndex:
    """A FAISS index over unit vectors with inner product, addressed by int64 ids.

    Deletion works for every structure: ``remove_ids`` where FAISS supports it (Flat, IVF),
    otherwise tombstones excluded through an ID selector at search time (HNSW), which a
    rebuild from the catalog compacts. Indexes that need training (IVF, PQ) are trained
    with ``train``; until then vectors go to an exact index so nothing is ever unsearchable.

    >>> index = FaissIndex(dim=2, factory="HNSW32")
    >>> index.add(np.array([7, 9]), np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> index.remove(np.array([9]))
    >>> scores, ids = index.search(np.array([[0.6, 0.8]], dtype=np.float32), 2)
    >>> ids.tolist()
    [[7, -1]]
    """

    file_name = FILE_NAME

    def __init__(self, dim: int, factory: str = "Flat") -> None:
        self.dim = dim
        self.factory = factory
        self.generation = 0
        self.max_rowid = 0
        self._tombstones = np.zeros(0, dtype=np.int64)
        self._index = self._new(factory)
        if not self._index.is_trained:
            self._pending_factory: str | None = factory
            self._index = self._new("Flat")
        else:
            self._pending_factory = None

    @classmethod
    def create(cls, dim: int, settings: IndexConfig, size: int) -> FaissIndex:
        """The index ``settings.factory`` asks for (``"auto"`` resolved for ``size``)."""
        return cls(dim, resolve_factory(settings.factory, size, EXACT_FACTORY))

    def fits(self, settings: IndexConfig) -> bool:
        return settings.factory in ("auto", self.factory)

    @property
    def structure(self) -> str:
        return self.effective_factory

    @property
    def needs_rebuild(self) -> bool:
        """Many tombstones (HNSW cannot remove), or a pending IVF that now has enough
        vectors to train on: either way a rebuild from the catalog pays."""
        return self.tombstone_fraction > REBUILD_FRACTION or (
            self.needs_training and len(self) >= VECTORS_PER_CELL * nlist(self.factory)
        )

    @property
    def effective_factory(self) -> str:
        """What is built now: the factory, or "Flat" while a trainable index awaits training."""
        return "Flat" if self._pending_factory else self.factory

    @property
    def needs_training(self) -> bool:
        return self._pending_factory is not None

    def _new(self, factory: str) -> Any:
        import faiss

        try:
            index = faiss.index_factory(self.dim, factory, faiss.METRIC_INNER_PRODUCT)
        except RuntimeError as e:
            raise RaglineError(f"index factory {factory!r}: {e}".splitlines()[0]) from e
        if faiss.try_extract_index_ivf(index) is None:
            index = faiss.IndexIDMap2(index)
        return index

    def train(self, vectors: NDArray[np.float32]) -> bool:
        """Train a trainable structure on sample vectors; False when they are too few."""
        if self._pending_factory is None:
            return True
        index = self._new(self._pending_factory)
        try:
            index.train(np.ascontiguousarray(vectors, dtype=np.float32))
        except RuntimeError as e:
            log.warning("cannot train %s on %d vectors yet: %s", self.factory, len(vectors), e)
            return False
        if len(self) and not index.is_trained:
            return False
        if self._index.ntotal:  # move what the interim exact index holds into the trained one
            import faiss

            held = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            index.add_with_ids(self._index.index.reconstruct_n(0, self._index.ntotal), held)
        self._index = index
        self._pending_factory = None
        self._tombstones = np.zeros(0, dtype=np.int64)
        return True

    def __len__(self) -> int:
        return int(self._index.ntotal) - len(self._tombstones)

    @property
    def tombstone_fraction(self) -> float:
        total = int(self._index.ntotal)
        return len(self._tombstones) / total if total else 0.0

    def add(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape[1] != self.dim:
            raise RaglineError(f"vectors have dimension {vectors.shape[1]}, index has {self.dim}")
        self._index.add_with_ids(vectors, np.ascontiguousarray(ids, dtype=np.int64))
        self.max_rowid = max(self.max_rowid, int(np.max(ids)))

    def remove(self, ids: NDArray[np.int64]) -> None:
        import faiss

        ids = np.ascontiguousarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return
        try:
            self._index.remove_ids(faiss.IDSelectorBatch(ids))
        except RuntimeError:
            held = faiss.vector_to_array(self._index.id_map)
            self._tombstones = np.union1d(self._tombstones, ids[np.isin(ids, held)])

    def search(
        self, queries: NDArray[np.float32], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        import faiss

        params = params or SearchParams()
        queries = query_matrix(queries)
        selector = None
        if params.allowed is not None:
            allowed = np.setdiff1d(params.allowed, self._tombstones, assume_unique=True)
            if len(allowed) == 0:
                return _empty(len(queries), k)
            selector = faiss.IDSelectorBatch(np.ascontiguousarray(allowed, dtype=np.int64))
        elif len(self._tombstones):
            inner = faiss.IDSelectorBatch(self._tombstones)
            selector = faiss.IDSelectorNot(inner)
        search_params = self._search_params(params, selector)
        if self._index.ntotal == 0:
            return _empty(len(queries), k)
        threads = faiss.omp_get_max_threads()
        if len(queries) <= SERIAL_QUERIES:
            faiss.omp_set_num_threads(1)  # this thread's setting only (an OpenMP ICV)
        try:
            scores, ids = self._index.search(queries, k, params=search_params)
        finally:
            faiss.omp_set_num_threads(threads)
        return scores, ids

    def _search_params(self, params: SearchParams, selector: Any) -> Any:
        import faiss

        ivf = faiss.try_extract_index_ivf(self._index)
        if ivf is not None:
            return faiss.SearchParametersIVF(sel=selector, nprobe=params.nprobe or 16)
        inner = faiss.downcast_index(self._index.index)
        if isinstance(inner, faiss.IndexHNSW):
            return faiss.SearchParametersHNSW(sel=selector, efSearch=params.ef_search or 64)
        return faiss.SearchParameters(sel=selector)

    @property
    def exact(self) -> bool:
        """Whether search is exhaustive (a filter can never starve its results)."""
        import faiss

        if faiss.try_extract_index_ivf(self._index) is not None:
            return False
        # Flat, SQ and PQ structures all scan every stored code.
        return isinstance(faiss.downcast_index(self._index.index), faiss.IndexFlatCodes)

    def save(self, path: Path) -> None:
        """Write atomically: a header line, the JSON facts, the tombstones, then the FAISS
        index streamed straight to the file (no second copy of the index in memory)."""
        import faiss

        meta = {
            "dim": self.dim,
            "factory": self.factory,
            "pending_factory": self._pending_factory,
            "generation": self.generation,
            "max_rowid": self.max_rowid,
            "tombstones": len(self._tombstones),
        }

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                f.write(FILE_MAGIC)
                f.write(json.dumps(meta).encode() + b"\n")
                f.write(np.ascontiguousarray(self._tombstones, dtype="<i8").tobytes())
                faiss.write_index(self._index, faiss.PyCallbackIOWriter(f.write))

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        import faiss

        with open(path, "rb") as f:
            if f.readline() != FILE_MAGIC:
                raise ValueError(f"{path}: not a ragline FAISS index file")
            meta = json.loads(f.readline())
            count = int(meta["tombstones"])
            tombstones = np.frombuffer(f.read(8 * count), dtype="<i8").astype(np.int64)
            if len(tombstones) != count:
                raise ValueError(f"{path}: truncated")
            index = faiss.read_index(faiss.PyCallbackIOReader(f.read))
        self = cls.__new__(cls)
        self.dim = meta["dim"]
        self.factory = meta["factory"]
        self._pending_factory = meta["pending_factory"]
        self.generation = meta["generation"]
        self.max_rowid = meta["max_rowid"]
        self._tombstones = tombstones
        self._index = index
        return self


def _empty(n: int, k: int) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    return np.full((n, k), -np.inf, dtype=np.float32), np.full((n, k), -1, dtype=np.int64)
