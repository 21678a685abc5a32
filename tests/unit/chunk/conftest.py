"""Shared checks for the chunker tests: the invariants every chunker must keep."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ragline.documents import Chunk, Document, chunk_id
from ragline.embed.fake import HashEncoder

CheckChunks = Callable[[Document, list[Chunk]], None]


def assert_chunk_invariants(document: Document, chunks: list[Chunk]) -> None:
    """Exact spans, stable ids, stripped non-empty text, metadata, order, nothing lost."""
    text = document.text
    assert [c.id for c in chunks] == [chunk_id(document.id, i) for i in range(len(chunks))]
    covered = bytearray(len(text))
    previous = (-1, -1)
    for c in chunks:
        assert c.doc_id == document.id
        assert c.text == text[c.start : c.end]
        assert c.text, f"empty chunk {c.id}"
        assert c.text == c.text.strip(), f"unstripped chunk {c.id}: {c.text!r}"
        assert c.span >= previous, "chunks out of document order"
        previous = c.span
        expected = dict(document.metadata)
        if document.page_starts:
            expected["page"] = document.page_at(c.start)
        assert c.metadata == expected
        assert c.metadata is not document.metadata
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
    assert not lost, f"text lost at {lost[:5]}: {[text[i] for i in lost[:5]]}"
    if not text.strip():
        assert chunks == []


@pytest.fixture
def check_chunks() -> CheckChunks:
    return assert_chunk_invariants


@pytest.fixture
def encoder() -> HashEncoder:
    return HashEncoder(dim=1024)
