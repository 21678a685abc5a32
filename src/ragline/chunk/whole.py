"""Documents that the embedder reads whole stay one chunk.

Splitting a document that fits in the model's window only changes what its first vector
says (the first chunk loses the end of the document, later chunks lose its start), and on
short-passage corpora that costs dense retrieval against encoding each document once.
"""

from __future__ import annotations

from ragline.chunk.base import Chunker, TokenCounter, TokenOffsets, spans_to_chunks
from ragline.documents import Chunk, Document

SPECIAL_TOKENS = 2
"""Tokens of a window the text never fills: BERT-style encoders add [CLS] and [SEP]."""


class WholeWhenItFits:
    """Wraps a chunker: a document of at most ``limit`` tokens (title included when it is
    indexed as a header) becomes one chunk; longer ones are cut by ``inner``.

    >>> from ragline.chunk.fixed import FixedTokenChunker
    >>> from ragline.embed.fake import HashEncoder
    >>> inner = FixedTokenChunker(size=2, overlap=0, tokens=HashEncoder())
    >>> chunker = WholeWhenItFits(inner, limit=4, tokens=HashEncoder())
    >>> [c.text for c in chunker.chunk(Document("d", "one two three"))]
    ['one two three']
    >>> [c.text for c in chunker.chunk(Document("d", "one two three four five"))]
    ['one two', 'three four', 'five']
    """

    def __init__(self, inner: Chunker, limit: int, tokens: TokenOffsets) -> None:
        self.inner = inner
        self.limit = limit
        self.tokens = tokens

    def chunk(self, document: Document) -> list[Chunk]:
        text = document.text
        if not text.strip():
            return []
        title = str(document.metadata.get("title") or "").strip()
        header = title if title and not text.lstrip().startswith(title) else ""
        needed = len(TokenCounter.of(text, self.tokens)) + len(self.tokens.token_offsets(header))
        if needed <= self.limit:
            return spans_to_chunks(document, [(0, len(text))])
        return self.inner.chunk(document)


def window_tokens(encoder: object) -> int | None:
    """How many text tokens ``encoder`` reads of one passage, or None when it does not say
    (a model-free encoder reads everything)."""
    window = getattr(encoder, "max_tokens", None)
    return int(window) - SPECIAL_TOKENS if window else None
