"""The writing side of a knowledge base: add, update, delete and re-embed documents.

Every write commits to the catalog first and then brings the indexes along (through the
:class:`~ragline.index.keeper.IndexKeeper`), under the knowledge base's one write lock.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any

from ragline.chunk import make_chunker
from ragline.config import EmbedConfig
from ragline.documents import Document
from ragline.embed import make_encoder
from ragline.embed.base import Encoder
from ragline.errors import LoadError
from ragline.filters import Filters
from ragline.index.keeper import IndexKeeper
from ragline.ingest import IngestReport, ingest
from ragline.store.catalog import INDEXED_TEXT
from ragline.store.doc_ids import DocumentIds
from ragline.store.layout import CONFIG_FILE
from ragline.store.lock import WriteLock
from ragline.store.state import KnowledgeBaseState

Source = Document | LoadError | str | Path


class Writer:
    """Writes to the knowledge base ``kb``, taking ``write_lock`` on the first write."""

    def __init__(self, kb: KnowledgeBaseState, indexes: IndexKeeper, write_lock: WriteLock) -> None:
        self.kb = kb
        self.indexes = indexes
        self.write_lock = write_lock

    def initialize(self) -> None:
        """Take the write lock of a new knowledge base and record its embedder and config."""
        self.write_lock.acquire()
        self.kb.catalog.set_meta("embedder", self.kb.encoder.name)
        self.kb.catalog.set_meta("dim", str(self.kb.encoder.dim))
        self.kb.config.write(self.kb.path / CONFIG_FILE)

    def add(
        self,
        sources: Iterable[Source] | str | Path,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        on_commit: Callable[[list[str], IngestReport], None] | None = None,
    ) -> IngestReport:
        """Add or update documents (see :meth:`ragline.kb.KnowledgeBase.add`), in batches
        committed to the catalog, each followed by the indexes."""
        if isinstance(sources, str | Path):
            sources = [sources]
        documents = self._documents(sources, include, exclude, metadata)
        with self.kb.lock:
            self.write_lock.acquire()
            self.indexes.ensure()

            def committed(doc_ids: list[str], report: IngestReport) -> None:
                self.indexes.sync()
                if on_commit is not None:
                    on_commit(doc_ids, report)

            report = ingest(
                documents,
                catalog=self.kb.catalog,
                chunker=make_chunker(self.kb.config.chunk, self.kb.encoder),
                encoder=self.kb.encoder,
                batch_size=self.kb.config.embed.batch_size,
                on_commit=committed,
            )
            self.indexes.maintain()
            return report

    def _documents(
        self,
        sources: Iterable[Source],
        include: Sequence[str],
        exclude: Sequence[str],
        metadata: dict[str, Any] | None,
    ) -> Iterable[Document | LoadError]:
        """``sources`` in order as documents: Documents as given (with ``metadata``
        added), paths loaded in runs so a directory streams, files named by the
        knowledge base's rule (:mod:`ragline.store.doc_ids`)."""
        from ragline.load import load_paths  # here: `import ragline` imports no loader

        doc_ids = DocumentIds(self.kb.catalog)
        load = partial(
            load_paths,
            include=include,
            exclude=exclude,
            config=self.kb.config.load,
            metadata=metadata,
            doc_ids=doc_ids,
        )
        paths: list[str | Path] = []
        for source in sources:
            if not isinstance(source, Document | LoadError):
                paths.append(source)
                continue
            if paths:
                doc_ids.record_root(paths)
                yield from load(paths)
                paths = []
            if isinstance(source, Document) and metadata:
                source = replace(source, metadata={**source.metadata, **metadata})
            yield source
        if paths:
            doc_ids.record_root(paths)
            yield from load(paths)

    def save_indexes(self) -> None:
        """Write the indexes to disk now, whatever changed since the saved copy."""
        with self.kb.lock:
            self.write_lock.acquire()
            self.indexes.ensure()
            self.indexes.save(force=True)

    def close(self) -> None:
        """Save indexes that changed a lot since their saved copy; release the write lock."""
        with self.kb.lock:
            if self.write_lock.held:
                self.indexes.save(force=False)
                self.write_lock.release()

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many existed."""
        with self.kb.lock:
            self.write_lock.acquire()
            removed = self.kb.catalog.delete(list(doc_ids))
            if self.indexes.dense is not None:
                self.indexes.sync()
            return removed

    def delete_where(self, filters: Filters) -> int:
        """Delete every document that has a chunk matching ``filters``."""
        return self.delete(self.kb.catalog.doc_ids_where(filters))

    def reembed(
        self,
        embed: EmbedConfig,
        *,
        encoder: Encoder | None = None,
        batch_size: int = 512,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Re-embed every stored chunk with another embedder, atomically.

        New vectors are staged in the catalog beside the live ones, so searches keep using
        the old vectors and index until all are done (an interrupted run resumes where it
        stopped); one transaction then makes them live with the new embedder's name, and
        the dense index is rebuilt from them. Chunk boundaries are kept as they are.
        ``on_batch(done, total)`` reports progress.
        """
        started = time.perf_counter()
        kb, catalog = self.kb, self.kb.catalog
        with kb.lock:
            self.write_lock.acquire()
            self.indexes.ensure()
            encoder = encoder or make_encoder(embed)
            target = f"{encoder.name}|{encoder.dim}|{embed.document_prefix}"
            if catalog.get_meta("staged_for") != target:
                catalog.clear_staged()
                catalog.set_meta("staged_for", target)
            done = catalog.staged_ids()
            _, total = catalog.counts()
            resumed = len(done)
            for ids, texts in catalog.iter_rows(columns=INDEXED_TEXT, batch=batch_size):
                keep = [n for n, rowid in enumerate(ids.tolist()) if rowid not in done]
                if keep:
                    vectors = encoder.encode_documents([texts[n] for n in keep])
                    catalog.stage_vectors(ids[keep], vectors)
                    done.update(ids[keep].tolist())
                if on_batch is not None:
                    on_batch(min(len(done), total), total)
            config = replace(kb.config, embed=embed)
            catalog.swap_staged_vectors(
                {
                    "embedder": encoder.name,
                    "dim": str(encoder.dim),
                    "embed_config": json.dumps(config.to_dict()["embed"]),
                    "staged_for": "",
                }
            )
            config.write(kb.path / CONFIG_FILE)
            kb.config, kb.encoder = config, encoder
            self.indexes.rebuild_dense()
            self.indexes.save(force=True)
        return {
            "path": str(kb.path),
            "embedder": encoder.name,
            "dim": encoder.dim,
            "chunks": total,
            "resumed_from": resumed,
            "seconds": round(time.perf_counter() - started, 2),
        }
