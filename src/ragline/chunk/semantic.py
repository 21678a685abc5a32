"""Semantic chunks: sentences grouped until the topic shifts, as judged by their embeddings."""

from __future__ import annotations

import re
from itertools import pairwise

import numpy as np

from ragline.chunk.base import (
    TokenCounter,
    TokenOffsets,
    check_size,
    spans_to_chunks,
    strip_span,
)
from ragline.chunk.recursive import Span, recursive_spans
from ragline.documents import Chunk, Document
from ragline.embed.base import Encoder
from ragline.errors import ConfigError

# A regex, not a sentence tokenizer: end punctuation (and closing quotes or brackets) followed
# by whitespace, or a line break. Abbreviations ("e.g. this") split too; a break between
# sentences that belong together only lowers the distance threshold slightly, and a pysbd/nltk
# dependency is not worth that.
SENTENCE_END = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*\s+|\n\s*")


class SemanticChunker:
    """Group consecutive sentences; start a new chunk where the topic shifts.

    Sentences are embedded with ``encoder`` in one batched call; a chunk boundary goes where
    the cosine distance between neighbouring sentences exceeds the ``percentile``-th
    percentile of the document's distances. A group longer than ``max_size`` tokens (counted
    with ``tokens``, the encoder itself by default) is cut further by the recursive chunker,
    with ``overlap`` tokens of overlap.

    >>> from ragline.embed.fake import HashEncoder
    >>> chunker = SemanticChunker(HashEncoder(dim=256), percentile=50, max_size=50)
    >>> text = "Cats purr. Cats nap a lot. Rockets burn fuel. Rockets reach orbit."
    >>> [c.text for c in chunker.chunk(Document("d", text))]
    ['Cats purr. Cats nap a lot.', 'Rockets burn fuel. Rockets reach orbit.']
    """

    def __init__(
        self,
        encoder: Encoder,
        percentile: float = 90.0,
        max_size: int = 200,
        tokens: TokenOffsets | None = None,
        *,
        overlap: int = 0,
        batch_size: int = 32,
    ) -> None:
        if not 0.0 <= percentile <= 100.0:
            raise ConfigError(f"semantic percentile must be within [0, 100], got {percentile}")
        check_size(max_size, overlap, size_name="max_size")
        self.encoder = encoder
        self.percentile = percentile
        self.max_size = max_size
        self.tokens: TokenOffsets = tokens if tokens is not None else encoder
        self.overlap = overlap
        self.batch_size = batch_size

    def chunk(self, document: Document) -> list[Chunk]:
        text = document.text
        sentences = split_sentences(text)
        if not sentences:
            return []
        counter = TokenCounter.of(text, self.tokens)
        spans: list[Span] = []
        for start, end in self._groups(text, sentences):
            spans += recursive_spans(text, start, end, counter, self.max_size, self.overlap)
        return spans_to_chunks(document, spans)

    def _groups(self, text: str, sentences: list[Span]) -> list[Span]:
        if len(sentences) == 1:
            return sentences
        vectors = np.asarray(
            self.encoder.encode_documents(
                [text[a:b] for a, b in sentences], batch_size=self.batch_size
            ),
            dtype=np.float64,
        )
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        unit = vectors / np.where(norms == 0.0, 1.0, norms)
        distances = 1.0 - np.einsum("ij,ij->i", unit[:-1], unit[1:])
        threshold = np.percentile(distances, self.percentile)
        firsts = [0, *(np.flatnonzero(distances > threshold) + 1).tolist(), len(sentences)]
        return [(sentences[first][0], sentences[stop - 1][1]) for first, stop in pairwise(firsts)]


def split_sentences(text: str) -> list[Span]:
    """Stripped, non-empty sentence spans of ``text``; only whitespace lies between them.

    >>> text = "One. Two!\\nThree"
    >>> [text[a:b] for a, b in split_sentences(text)]
    ['One.', 'Two!', 'Three']
    """
    spans: list[Span] = []
    begin = 0
    for end in [m.end() for m in SENTENCE_END.finditer(text)] + [len(text)]:
        start, stop = strip_span(text, begin, end)
        if stop > start:
            spans.append((start, stop))
        begin = end
    return spans
