"""The index keeper: a knowledge base's dense and sparse indexes, kept in step with its catalog.

Indexes are caches of the catalog. On first use a saved index is loaded if it fits the
configuration and its generation is one the catalog can catch it up from, else it is rebuilt
from the stored vectors and texts (never by re-embedding). From then on new rows are added
and deleted rows removed as the catalog's generation moves; an index that drifted is rebuilt
or compacted; and the files are saved only when enough changed since the saved copy, so
adding one document stays cheap. Everything here goes through the protocols of
:mod:`ragline.index.base`; the backends come from :mod:`ragline.index.registry`.
"""

from __future__ import annotations

import logging
import random

from ragline.index.base import DenseIndex, SparseIndex, Trainable
from ragline.index.registry import DENSE_INDEXES, SPARSE_INDEXES
from ragline.store.catalog import INDEXED_TEXT
from ragline.store.state import KnowledgeBaseState

log = logging.getLogger(__name__)

SAVE_AFTER_CHANGES = 5000
SAVE_AFTER_FRACTION = 0.05
TRAIN_SAMPLE = 100_000


class IndexKeeper:
    """Loads, catches up, rebuilds and saves the indexes of the knowledge base ``kb``.

    ``dense`` and ``sparse`` are None until :meth:`ensure` first loads them. Callers hold
    ``kb.lock`` around every call that changes them.
    """

    def __init__(self, kb: KnowledgeBaseState) -> None:
        self.kb = kb
        self.dense: DenseIndex | None = None
        self.sparse: SparseIndex | None = None
        self.unsaved = 0

    @property
    def loaded(self) -> bool:
        return self.dense is not None and self.sparse is not None

    def ensure(self) -> tuple[DenseIndex, SparseIndex]:
        """Both indexes, loaded or built on first use and caught up with the catalog."""
        if self.dense is None or self.sparse is None:
            self.dense = self._load_dense()
            self.sparse = self._load_sparse()
        self.sync()
        assert self.dense is not None and self.sparse is not None
        return self.dense, self.sparse

    def _usable(self, index: DenseIndex | SparseIndex, *, vectors: bool) -> bool:
        """Whether the catalog can catch ``index`` up: it is not older than the tombstones
        kept (nor, for vectors, than the last re-embedding) and not newer than the catalog."""
        catalog = self.kb.catalog
        oldest = int(catalog.get_meta("pruned_through") or 0)
        if vectors:
            oldest = max(oldest, int(catalog.get_meta("vectors_generation") or 0))
        return oldest <= index.generation <= catalog.generation

    def _load_dense(self) -> DenseIndex:
        settings = self.kb.config.index
        kind = DENSE_INDEXES.load(settings.backend)
        file = self.kb.path / kind.file_name
        if file.is_file():
            try:
                index: DenseIndex = kind.load(file)
                if (
                    self._usable(index, vectors=True)
                    and index.dim == self.kb.encoder.dim
                    and index.fits(settings)
                ):
                    return index
            except (OSError, ValueError, KeyError, RuntimeError) as e:
                log.warning("%s unreadable (%s): rebuilding it from the catalog", file, e)
        return self._build_dense()

    def _load_sparse(self) -> SparseIndex:
        settings = self.kb.config.index
        kind = SPARSE_INDEXES.load(settings.sparse_backend)
        file = self.kb.path / kind.file_name
        if file.is_file():
            try:
                index: SparseIndex = kind.load(file)
                if index.fits(settings) and self._usable(index, vectors=False):
                    return index
            except (OSError, ValueError, KeyError) as e:
                log.warning("%s unreadable (%s): rebuilding it from the catalog", file, e)
        return self._build_sparse()

    def rebuild_dense(self) -> None:
        """Replace the dense index by one built from the stored vectors (after a
        re-embedding, or when it drifted)."""
        self.dense = self._build_dense()

    def _build_dense(self) -> DenseIndex:
        """A dense index from the stored vectors (no re-embedding)."""
        catalog = self.kb.catalog
        generation = catalog.generation
        _, n_chunks = catalog.counts()
        kind = DENSE_INDEXES.load(self.kb.config.index.backend)
        index: DenseIndex = kind.create(self.kb.encoder.dim, self.kb.config.index, n_chunks)
        if isinstance(index, Trainable) and index.needs_training and n_chunks:
            all_ids = catalog.rowids_where({}).tolist()
            sample = random.Random(0).sample(all_ids, min(len(all_ids), TRAIN_SAMPLE))
            index.train(catalog.vectors(sample)[1])
        log.info("building %s index over %d chunks", index.structure, n_chunks)
        for ids, vectors in catalog.iter_rows(columns="vector"):
            index.add(ids, vectors)
        index.generation = generation
        self.unsaved += n_chunks
        return index

    def _build_sparse(self) -> SparseIndex:
        catalog = self.kb.catalog
        generation = catalog.generation
        kind = SPARSE_INDEXES.load(self.kb.config.index.sparse_backend)
        index: SparseIndex = kind.create(self.kb.config.index)
        for ids, texts in catalog.iter_rows(columns=INDEXED_TEXT):
            index.add(ids, texts)
        index.generation = generation
        self.unsaved += len(index)
        return index

    def sync(self) -> None:
        """Bring loaded indexes up to the catalog's generation: new rows in, deleted rows out."""
        dense, sparse = self.dense, self.sparse
        if dense is None or sparse is None:
            return
        catalog = self.kb.catalog
        generation = catalog.generation
        if dense.generation == sparse.generation == generation:
            return
        self.kb.follow_reembedding()
        if not self._usable(dense, vectors=True):
            self.dense = dense = self._load_dense()
        if not self._usable(sparse, vectors=False):
            self.sparse = sparse = self._load_sparse()
        for ids, vectors in catalog.iter_rows(after=dense.max_rowid, columns="vector"):
            dense.add(ids, vectors)
            self.unsaved += len(ids)
        for ids, texts in catalog.iter_rows(after=sparse.max_rowid, columns=INDEXED_TEXT):
            sparse.add(ids, texts)
        removed = catalog.tombstones_after(dense.generation)
        self.unsaved += len(removed)
        dense.remove(removed)
        same = sparse.generation == dense.generation
        sparse.remove(removed if same else catalog.tombstones_after(sparse.generation))
        dense.generation = sparse.generation = generation

    def maintain(self) -> None:
        """Rebuild or compact indexes that drifted, and save them when enough changed."""
        if self.dense is None or self.sparse is None:
            return
        if self.dense.needs_rebuild:
            self.rebuild_dense()
        if self.sparse.needs_compaction:
            self.sparse.compact()
        self.save(force=False)

    def save(self, *, force: bool) -> None:
        """Write both indexes (when ``force``, missing, or enough changed since the saved
        copy), then let the catalog drop the tombstones they no longer need. The caller
        holds the write lock."""
        dense, sparse = self.dense, self.sparse
        if dense is None or sparse is None:
            return
        self.sync()
        dense, sparse = self.dense, self.sparse
        assert dense is not None and sparse is not None
        path = self.kb.path
        threshold = max(SAVE_AFTER_CHANGES, SAVE_AFTER_FRACTION * len(dense))
        missing = not (path / dense.file_name).exists() or not (path / sparse.file_name).exists()
        if not (force or missing or self.unsaved >= threshold):
            return
        dense.save(path / dense.file_name)
        sparse.save(path / sparse.file_name)
        generation = min(dense.generation, sparse.generation)
        catalog = self.kb.catalog
        catalog.prune_tombstones(generation)
        catalog.set_meta("dense_index", dense.structure)
        self.unsaved = 0
