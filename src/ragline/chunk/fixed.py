"""Fixed-size chunks: windows of ``size`` tokens stepping by ``size - overlap``."""

from __future__ import annotations

from ragline.chunk.base import TokenCounter, TokenOffsets, check_size, spans_to_chunks
from ragline.documents import Chunk, Document


class FixedTokenChunker:
    """Cut a document into windows of ``size`` tokens, each sharing ``overlap`` with the next.

    The document is tokenized once. A window runs from its first token up to the start of the
    token after its last one (the first window from the document start, the last to its end),
    so punctuation and characters the tokenizer drops are never lost; surrounding whitespace
    is then stripped. Every window holds exactly ``size`` tokens except the last.

    >>> from ragline.embed.fake import HashEncoder
    >>> chunker = FixedTokenChunker(size=3, overlap=1, tokens=HashEncoder())
    >>> [c.text for c in chunker.chunk(Document("d", "one two three four five six."))]
    ['one two three', 'three four five', 'five six.']
    """

    def __init__(self, size: int, overlap: int, tokens: TokenOffsets) -> None:
        check_size(size, overlap)
        self.size = size
        self.overlap = overlap
        self.tokens = tokens

    def chunk(self, document: Document) -> list[Chunk]:
        text = document.text
        if not text.strip():
            return []
        starts = TokenCounter.of(text, self.tokens).starts
        return spans_to_chunks(document, self._windows(starts, len(text)))

    def _windows(self, starts: list[int], length: int) -> list[tuple[int, int]]:
        n = len(starts)
        spans: list[tuple[int, int]] = []
        first = 0
        while True:
            last = min(first + self.size, n)  # one past the window's last token
            spans.append((starts[first] if first else 0, starts[last] if last < n else length))
            if last >= n:
                return spans
            first += self.size - self.overlap
