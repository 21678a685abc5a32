"""The ingest pipeline: documents stream through chunking and embedding into the catalog in
bounded batches, so memory does not grow with the corpus and an interrupted run resumes where
its last committed batch ended (unchanged documents are skipped by content hash).

Documents chunked and embedded elsewhere (by Ray workers: :mod:`ragline.distributed`) come
as :class:`EmbeddedDocument` and are committed the same way, their chunks and vectors kept."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline.chunk.base import Chunker
from ragline.documents import Chunk, Document
from ragline.embed.base import Encoder
from ragline.errors import LoadError
from ragline.store.catalog import Catalog

BATCH_CHUNKS = 2048
STAGES = ("load", "chunk", "embed", "store", "index")


@dataclass(frozen=True, eq=False, kw_only=True)
class EmbeddedDocument(Document):
    """A document with its chunks and their vectors (one row each) already made, by the
    chunker and encoder of the knowledge base it goes into: ingest commits them as they are,
    under the same content-hash check, so committing one twice adds nothing."""

    chunks: tuple[Chunk, ...]
    vectors: NDArray[np.float32]


@dataclass
class IngestReport:
    """What an ingest did: counts, failures with their reasons, and time per stage."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    chunks: int = 0
    characters: int = 0
    errors: list[LoadError] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @property
    def indexed(self) -> int:
        return self.added + self.updated

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "chunks": self.chunks,
            "characters": self.characters,
            "errors": [{"source": e.source, "reason": e.reason} for e in self.errors],
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


class _Timer:
    def __init__(self, report: IngestReport, stage: str) -> None:
        self.report, self.stage = report, stage

    def __enter__(self) -> None:
        self.start = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.report.seconds[self.stage] += time.perf_counter() - self.start


def ingest(
    stream: Iterable[Document | LoadError],
    *,
    catalog: Catalog,
    chunker: Chunker,
    encoder: Encoder,
    batch_size: int,
    on_commit: Callable[[list[str], IngestReport], None],
    batch_chunks: int = BATCH_CHUNKS,
) -> IngestReport:
    """Chunk, embed and commit ``stream`` batch by batch; ``on_commit`` runs after each commit
    (the knowledge base updates its indexes there) with the ids just committed. An
    :class:`EmbeddedDocument` keeps the chunks and vectors it carries."""
    report = IngestReport()
    pending: dict[str, tuple[Document, list[Chunk], bool]] = {}  # by id, in arrival order
    pending_chunks = 0

    def flush() -> None:
        nonlocal pending, pending_chunks
        if not pending:
            return
        texts = [
            c.indexed_text
            for document, chunks, _ in pending.values()
            if not isinstance(document, EmbeddedDocument)
            for c in chunks
        ]
        with _Timer(report, "embed"):
            vectors = (
                encoder.encode_documents(texts, batch_size=batch_size)
                if texts
                else np.zeros((0, encoder.dim), dtype=np.float32)
            )
        items, offset = [], 0
        for document, chunks, _ in pending.values():
            if isinstance(document, EmbeddedDocument):
                items.append((document, chunks, document.vectors))
                continue
            items.append((document, chunks, vectors[offset : offset + len(chunks)]))
            offset += len(chunks)
        with _Timer(report, "store"):
            catalog.write(items)
        for document, chunks, replaced in pending.values():
            report.updated += replaced
            report.added += not replaced
            report.chunks += len(chunks)
            report.characters += len(document.text)
        with _Timer(report, "index"):
            on_commit(list(pending), report)
        pending, pending_chunks = {}, 0

    iterator = iter(stream)
    while True:
        with _Timer(report, "load"):
            item = next(iterator, None)
        if item is None:
            break
        if isinstance(item, LoadError):
            report.errors.append(item)
            continue
        if item.id in pending:
            flush()  # the same id twice in one batch: commit the first before replacing it
        stored = catalog.document_hashes([item.id]).get(item.id)
        if stored == item.hash:
            report.unchanged += 1
            continue
        with _Timer(report, "chunk"):
            chunks = (
                list(item.chunks) if isinstance(item, EmbeddedDocument) else chunker.chunk(item)
            )
        pending[item.id] = (item, chunks, stored is not None)
        pending_chunks += len(chunks)
        if pending_chunks >= batch_chunks:
            flush()
    flush()
    return report
