"""Title headers: context indexed with each chunk without changing its span."""

from __future__ import annotations

from dataclasses import replace

from ragline.chunk.base import Chunker
from ragline.documents import Chunk, Document


class TitleHeaderChunker:
    """Wraps a chunker; chunks that do not begin with the document's title get it as header.

    >>> from ragline.chunk.fixed import FixedTokenChunker
    >>> from ragline.embed.fake import HashEncoder
    >>> inner = FixedTokenChunker(size=3, overlap=0, tokens=HashEncoder())
    >>> doc = Document("d", "Aspirin. It thins blood.", {"title": "Aspirin"})
    >>> [(c.text, c.header) for c in TitleHeaderChunker(inner).chunk(doc)]
    [('Aspirin. It thins', ''), ('blood.', 'Aspirin')]
    """

    def __init__(self, inner: Chunker) -> None:
        self.inner = inner

    def chunk(self, document: Document) -> list[Chunk]:
        chunks = self.inner.chunk(document)
        title = str(document.metadata.get("title") or "").strip()
        if not title:
            return chunks
        return [c if c.text.startswith(title) else replace(c, header=title) for c in chunks]
