"""Documents chunked and embedded elsewhere (``ingest.EmbeddedDocument``, what Ray workers
send back) are committed with their own chunks and vectors, under the content-hash check, and
travel as Ray Data rows without loss."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ragline import Config, KnowledgeBase
from ragline.chunk import make_chunker
from ragline.distributed.rows import from_row, to_row
from ragline.documents import Document
from ragline.embed.fake import HashEncoder
from ragline.errors import LoadError
from ragline.ingest import EmbeddedDocument


def embedded(document: Document, config: Config) -> EmbeddedDocument:
    """``document`` chunked by ``config``'s chunker, its vectors made up (all 0.5)."""
    chunks = tuple(make_chunker(config.chunk, HashEncoder(64)).chunk(document))
    vectors = np.full((len(chunks), 64), 0.5, dtype=np.float32)
    return EmbeddedDocument(
        document.id, document.text, document.metadata, chunks=chunks, vectors=vectors
    )


def test_embedded_documents_keep_their_chunks_and_vectors(tmp_path: Path) -> None:
    config = Config.from_dict({"embed": {"model": "hash-64"}})
    document = Document("tides", "The tide rises twice a day. " * 40, {"lang": "en"})
    item = embedded(document, config)
    with KnowledgeBase.create(tmp_path / "kb", config) as kb:
        report = kb.add([item])
        assert (report.added, report.chunks) == (1, len(item.chunks))
        rowids = list(range(1, len(item.chunks) + 1))
        _, stored = kb.catalog.vectors(rowids)
        np.testing.assert_array_equal(stored, item.vectors)
        assert list(kb.catalog.chunks(rowids).values()) == list(item.chunks)
        again = kb.add([item, document])  # the same content twice more: nothing to commit
        assert (again.added, again.updated, again.unchanged) == (0, 0, 2)


def test_rows_carry_every_kind_of_item_unchanged() -> None:
    config = Config.from_dict({"embed": {"model": "hash-64"}})
    document = Document("d", "Page one.\fPage two.", {"n": 1.5, "tags": ["a"]}, (0, 10))
    item = embedded(document, config)
    back = from_row(to_row(item))
    assert isinstance(back, EmbeddedDocument)
    assert (back.id, back.text, back.metadata, back.page_starts) == (
        item.id,
        item.text,
        item.metadata,
        item.page_starts,
    )
    assert back.chunks == item.chunks
    np.testing.assert_array_equal(back.vectors, item.vectors)
    error = from_row(to_row(LoadError("x.pdf", "corrupt PDF")))
    assert isinstance(error, LoadError) and (error.source, error.reason) == ("x.pdf", "corrupt PDF")
