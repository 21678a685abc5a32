"""Recursive chunks: split on the coarsest separator that works, merge pieces up to a size.

The idea of LangChain's ``RecursiveCharacterTextSplitter``, written here in character offsets
against a document tokenized once, so spans are exact and sizes count the embedder's tokens
without re-tokenizing pieces (the library splitters return strings, not spans).
"""

from __future__ import annotations

import re
from collections import deque
from itertools import pairwise

from ragline.chunk.base import TokenCounter, TokenSpanChunker

Span = tuple[int, int]

# Coarse to fine; a piece ends after its separator. Below the last level: token boundaries.
SEPARATORS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\n\s*\n"),  # paragraph: a blank line
    re.compile(r"\n"),  # line
    re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+"),  # sentence: end punctuation, then whitespace
    re.compile(r"\s+"),  # word
)


class RecursiveChunker(TokenSpanChunker):
    """Chunks of at most ``size`` tokens that end at paragraph, line, sentence or word breaks.

    A span too big for one chunk is split at blank lines; pieces still too big are split at
    line breaks, then sentence ends, then whitespace, then between tokens. Neighbouring pieces
    are merged greedily up to ``size`` tokens, and up to ``overlap`` tokens of whole trailing
    pieces are repeated at the start of the next chunk.

    >>> from ragline.documents import Document
    >>> from ragline.embed.fake import HashEncoder
    >>> chunker = RecursiveChunker(size=5, overlap=0, tokens=HashEncoder())
    >>> doc = Document("d", "First paragraph here.\\n\\nA second one. It is a bit longer.")
    >>> [c.text for c in chunker.chunk(doc)]
    ['First paragraph here.', 'A second one.', 'It is a bit longer.']
    """

    def spans(self, text: str, counter: TokenCounter) -> list[tuple[int, int]]:
        return recursive_spans(text, 0, len(text), counter, self.size, self.overlap)


def recursive_spans(
    text: str, start: int, end: int, counter: TokenCounter, size: int, overlap: int
) -> list[Span]:
    """Spans covering ``text[start:end]``, each of at most ``size`` tokens of ``counter``.

    ``counter`` must come from tokenizing all of ``text``. More than ``size`` tokens that start
    at the same character (a tokenizer may give several tokens one offset) stay one span.
    """
    return _split(text, start, end, counter, size, overlap, 0)


def _split(
    text: str, start: int, end: int, counter: TokenCounter, size: int, overlap: int, level: int
) -> list[Span]:
    if counter.count(start, end) <= size:
        return [(start, end)]
    if level == len(SEPARATORS):
        return _merge(_token_pieces(counter, start, end), counter, size, overlap)
    spans: list[Span] = []
    small: list[Span] = []  # consecutive pieces that fit, waiting to be merged
    for piece in _pieces(SEPARATORS[level], text, start, end):
        if counter.count(*piece) <= size:
            small.append(piece)
        else:
            spans += _merge(small, counter, size, overlap)
            small = []
            spans += _split(text, *piece, counter, size, overlap, level + 1)
    spans += _merge(small, counter, size, overlap)
    return spans


def _pieces(separator: re.Pattern[str], text: str, start: int, end: int) -> list[Span]:
    """``[start, end)`` cut after each separator match; the pieces cover it exactly."""
    pieces: list[Span] = []
    begin = start
    for match in separator.finditer(text, start, end):
        if match.end() > begin:
            pieces.append((begin, match.end()))
            begin = match.end()
    if begin < end:
        pieces.append((begin, end))
    return pieces


def _token_pieces(counter: TokenCounter, start: int, end: int) -> list[Span]:
    """``[start, end)`` cut where each token that begins inside it starts, but the first."""
    starts = sorted(set(counter.starts[counter.before(start) : counter.before(end)]))
    bounds = [start, *starts[1:], end]
    return list(pairwise(bounds))


def _merge(pieces: list[Span], counter: TokenCounter, size: int, overlap: int) -> list[Span]:
    """Greedy merge of consecutive pieces up to ``size`` tokens, carrying ``overlap`` tokens."""
    spans: list[Span] = []
    window: deque[tuple[Span, int]] = deque()
    total = 0
    for piece in pieces:
        tokens = counter.count(*piece)
        if window and total + tokens > size:
            spans.append((window[0][0][0], window[-1][0][1]))
            # Keep whole trailing pieces worth at most `overlap` tokens that leave room for this
            # piece; a carried piece without tokens (whitespace, stray punctuation) is dropped.
            while window and (total > overlap or total + tokens > size or window[0][1] == 0):
                total -= window.popleft()[1]
        window.append((piece, tokens))
        total += tokens
    if window:
        spans.append((window[0][0][0], window[-1][0][1]))
    return spans
