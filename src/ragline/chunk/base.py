"""The Chunker protocol: a Document in, its passages (with exact spans) out.

Also the helpers every chunker shares: counting tokens over character spans of a document that
was tokenized once, and turning character spans into stripped, numbered chunks.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

from ragline.documents import Chunk, Document, chunk_id
from ragline.errors import ConfigError


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


class TokenCounter:
    """A text tokenized once; counts the tokens of any character span by bisection.

    A token belongs to the span that holds its first character, so the counts of adjacent
    spans add up to the count of their union and no piece is ever re-tokenized.

    >>> from ragline.embed.fake import HashEncoder
    >>> counter = TokenCounter.of("one two three", HashEncoder())
    >>> len(counter), counter.count(0, 7), counter.count(4, 13)
    (3, 2, 2)
    """

    def __init__(self, offsets: Iterable[tuple[int, int]]) -> None:
        self.starts: list[int] = sorted(start for start, _ in offsets)

    @classmethod
    def of(cls, text: str, tokens: TokenOffsets) -> TokenCounter:
        return cls(tokens.token_offsets(text))

    def __len__(self) -> int:
        return len(self.starts)

    def before(self, offset: int) -> int:
        """How many tokens start before character ``offset``."""
        return bisect_left(self.starts, offset)

    def count(self, start: int, end: int) -> int:
        """How many tokens start in ``[start, end)``."""
        return self.before(end) - self.before(start) if end > start else 0


def strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    """``[start, end)`` narrowed so that ``text[start:end]`` has no surrounding whitespace."""
    piece = text[start:end]
    stripped = piece.strip()
    if not stripped:
        return start, start
    lead = len(piece) - len(piece.lstrip())
    return start + lead, start + lead + len(stripped)


def spans_to_chunks(document: Document, spans: Sequence[tuple[int, int]]) -> list[Chunk]:
    """Chunks for character spans of ``document``: stripped, empty ones dropped, numbered 0..n-1.

    A paged document's printed labels (``page_labels``, one per page) become each chunk's
    own ``page_label``; the list itself is not copied into every chunk.

    >>> doc = Document("d", "  alpha  \\n\\n beta ", page_starts=(0, 10))
    >>> [(c.id, c.text, c.span, c.metadata) for c in spans_to_chunks(doc, [(0, 9), (9, 17)])]
    [('d#0', 'alpha', (2, 7), {'page': 1}), ('d#1', 'beta', (12, 16), {'page': 2})]
    >>> labelled = Document("d", "alpha beta", {"page_labels": ["iv", "v"]}, page_starts=(0, 6))
    >>> [c.metadata for c in spans_to_chunks(labelled, [(0, 5), (6, 10)])]
    [{'page': 1, 'page_label': 'iv'}, {'page': 2, 'page_label': 'v'}]
    """
    text = document.text
    chunks: list[Chunk] = []
    for span in spans:
        start, end = strip_span(text, *span)
        if start == end:
            continue
        metadata = dict(document.metadata)
        labels = metadata.pop("page_labels", None)
        if document.page_starts:
            page = metadata["page"] = document.page_at(start)
            if labels and 0 < page <= len(labels):
                metadata["page_label"] = str(labels[page - 1])
        cid = chunk_id(document.id, len(chunks))
        chunks.append(Chunk(cid, document.id, text[start:end], start, end, metadata))
    return chunks


def check_size(size: int, overlap: int, *, size_name: str = "size") -> None:
    """Refuse sizes no chunker can honour, with a message naming the values."""
    if size < 1:
        raise ConfigError(f"chunk {size_name} must be at least 1 token, got {size}")
    if overlap < 0:
        raise ConfigError(f"chunk overlap must not be negative, got {overlap}")
    if overlap >= size:
        raise ConfigError(
            f"chunk overlap ({overlap}) must be smaller than the chunk {size_name} ({size})"
        )


class TokenSpanChunker:
    """What the token-counted chunkers share: sizes, one tokenization per document, and
    spans turned into chunks. A subclass fills one hook, ``spans``."""

    def __init__(self, size: int, overlap: int, tokens: TokenOffsets) -> None:
        check_size(size, overlap)
        self.size = size
        self.overlap = overlap
        self.tokens = tokens

    def chunk(self, document: Document) -> list[Chunk]:
        text = document.text
        if not text.strip():
            return []
        return spans_to_chunks(document, self.spans(text, TokenCounter.of(text, self.tokens)))

    def spans(self, text: str, counter: TokenCounter) -> list[tuple[int, int]]:
        """Character spans of the chunks of ``text``, in order."""
        raise NotImplementedError
