"""The Chunker protocol: a Document in, its passages (with exact spans) out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ragline.documents import Chunk, Document


@runtime_checkable
class Chunker(Protocol):
    """Cuts a document into chunks whose text is ``document.text[start:end]``.

    Chunk ids come from ``ragline.documents.chunk_id(doc_id, ordinal)``, so they are stable
    across re-runs; each chunk's metadata holds the document's metadata plus ``page`` when
    the document is paged.
    """

    def chunk(self, document: Document) -> list[Chunk]: ...


class TokenOffsets(Protocol):
    """Anything that tokenizes like the embedder: the encoders implement it."""

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...
