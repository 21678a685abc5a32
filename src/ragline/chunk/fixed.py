"""Fixed-size chunks: windows of ``size`` tokens stepping by ``size - overlap``."""

from __future__ import annotations

from ragline.chunk.base import TokenCounter, TokenSpanChunker


class FixedTokenChunker(TokenSpanChunker):
    """Cut a document into windows of ``size`` tokens, each sharing ``overlap`` with the next.

    The document is tokenized once. A window runs from its first token up to the start of the
    token after its last one (the first window from the document start, the last to its end),
    so punctuation and characters the tokenizer drops are never lost; surrounding whitespace
    is then stripped. Every window holds exactly ``size`` tokens except the last.

    >>> from ragline.documents import Document
    >>> from ragline.embed.fake import HashEncoder
    >>> chunker = FixedTokenChunker(size=3, overlap=1, tokens=HashEncoder())
    >>> [c.text for c in chunker.chunk(Document("d", "one two three four five six."))]
    ['one two three', 'three four five', 'five six.']
    """

    def spans(self, text: str, counter: TokenCounter) -> list[tuple[int, int]]:
        starts, length = counter.starts, len(text)
        n = len(starts)
        spans: list[tuple[int, int]] = []
        first = 0
        while True:
            last = min(first + self.size, n)  # one past the window's last token
            spans.append((starts[first] if first else 0, starts[last] if last < n else length))
            if last >= n:
                return spans
            first += self.size - self.overlap
