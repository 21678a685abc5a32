"""What Ray workers run: reading one input into document rows, and chunking and embedding
batches of them with the knowledge base's own chunker and encoder (one per actor)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ragline.config import Config, LoadConfig
from ragline.distributed.rows import Row, from_row, to_row
from ragline.documents import Chunk, Document
from ragline.errors import LoadError
from ragline.ingest import EmbeddedDocument


def input_row(item: Path | LoadError, doc_ids: Callable[[str], str]) -> Row:
    """The row that asks a worker to read ``item`` (a file, named by ``doc_ids``, or a BEIR
    folder, whose records name themselves), or passes on a LoadError met listing inputs."""
    if isinstance(item, LoadError):
        return {"path": "", "source": item.source, "doc_id": "", "reason": item.reason}
    doc_id = "" if item.is_dir() else doc_ids(str(item))
    return {"path": str(item.absolute()), "source": str(item), "doc_id": doc_id, "reason": ""}


def read_input(row: Row, *, config: LoadConfig, metadata: Mapping[str, Any] | None) -> list[Row]:
    """The documents (and load errors) of the input ``row`` names, as rows, in order.

    The worker reads the input by its absolute path (a worker's working directory need not
    be the driver's); errors name the input as the user gave it, as in-process indexing
    does."""
    from ragline.load.paths import load_paths

    if row["reason"]:
        return [to_row(LoadError(row["source"], row["reason"]))]
    path, source, doc_id = row["path"], row["source"], row["doc_id"]
    found = load_paths(
        [path], config=config, metadata=metadata, doc_ids=(lambda _: doc_id) if doc_id else None
    )
    rows = []
    for item in found:
        if isinstance(item, LoadError) and item.source.startswith(path):
            item = LoadError(source + item.source[len(path) :], item.reason)
        rows.append(to_row(item))
    return rows


class ChunkEmbedder:
    """A Ray Data actor: chunks the documents of a batch and embeds all their chunks in one
    call, with the chunker and encoder ``config`` names (loaded once, when the actor starts).

    Documents whose content hash is the one in ``stored`` (the catalog's, when the run
    began) pass on unembedded: the driver finds them unchanged without the work."""

    def __init__(self, config: Config, stored: Mapping[str, str]) -> None:
        from ragline.chunk import make_chunker
        from ragline.embed import make_encoder

        self.config = config
        self.stored = stored
        self.encoder = make_encoder(config.embed)
        self.chunker = make_chunker(config.chunk, self.encoder)

    def __call__(self, batch: Mapping[str, Any]) -> dict[str, list[Any]]:
        """Rows in, the same rows out, each changed document now embedded."""
        columns = list(batch)
        rows = zip(*(batch[column] for column in columns), strict=True)
        items = [from_row(dict(zip(columns, row, strict=True))) for row in rows]
        todo: list[tuple[int, Document, list[Chunk]]] = []
        for n, item in enumerate(items):
            if isinstance(item, Document) and self.stored.get(item.id) != item.hash:
                todo.append((n, item, self.chunker.chunk(item)))
        texts = [c.indexed_text for _, _, chunks in todo for c in chunks]
        vectors = (
            self.encoder.encode_documents(texts, batch_size=self.config.embed.batch_size)
            if texts
            else np.zeros((0, self.encoder.dim), dtype=np.float32)
        )
        offset = 0
        for n, document, chunks in todo:
            own = vectors[offset : offset + len(chunks)]
            items[n] = EmbeddedDocument(
                document.id,
                document.text,
                document.metadata,
                document.page_starts,
                chunks=tuple(chunks),
                vectors=own,
            )
            offset += len(chunks)
        rows = [to_row(item) for item in items]
        return {key: [row[key] for row in rows] for key in ("kind", "record", "vectors")}
