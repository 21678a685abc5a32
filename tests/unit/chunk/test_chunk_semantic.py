from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from numpy.typing import NDArray

from ragline.chunk import SemanticChunker
from ragline.chunk.base import TokenCounter
from ragline.chunk.semantic import split_sentences
from ragline.documents import Document
from ragline.embed.fake import HashEncoder

# Sentences within a topic share several words; the two topics share none, so with the
# bag-of-words HashEncoder the only large distance is between the 5th and 6th sentence.
PASTA = [
    "Boil the pasta in salted water until the pasta is tender.",
    "Salted pasta water helps the sauce cling to the pasta.",
    "Stir the tomato sauce while the pasta water boils.",
    "Drain the pasta and toss it with the tomato sauce.",
    "Serve the pasta with grated cheese on the sauce.",
]
ORBITS = [
    "A satellite in orbit falls around the planet at orbital velocity.",
    "Orbital velocity depends on the orbit radius and the planet mass.",
    "A higher orbit means a slower orbital velocity for the satellite.",
    "Gravity from the planet mass bends the satellite path into an orbit.",
    "Kepler described each orbit as an ellipse around the planet.",
]


class CountingEncoder(HashEncoder):
    def __init__(self) -> None:
        super().__init__(dim=1024)
        self.calls: list[int] = []

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]:
        self.calls.append(len(texts))
        return super().encode_documents(texts, batch_size=batch_size)


def test_breaks_between_unrelated_topics(check_chunks) -> None:
    encoder = CountingEncoder()
    doc = Document("doc", " ".join(PASTA) + "\n" + " ".join(ORBITS))
    chunks = SemanticChunker(encoder, percentile=90, max_size=500).chunk(doc)
    check_chunks(doc, chunks)
    assert [c.text for c in chunks] == [" ".join(PASTA), " ".join(ORBITS)]
    assert encoder.calls == [10]  # all sentences embedded in one batched call


def test_oversized_groups_are_split_recursively(check_chunks) -> None:
    encoder = HashEncoder(dim=1024)
    text = " ".join(PASTA + ORBITS)
    doc = Document("doc", text)
    chunks = SemanticChunker(encoder, 90, 25).chunk(doc)
    check_chunks(doc, chunks)
    counter = TokenCounter.of(text, encoder)
    assert all(counter.count(c.start, c.end) <= 25 for c in chunks)
    assert len(chunks) > 2
    assert not any(  # the topic break is still honoured
        "pasta" in c.text.lower() and "orbit" in c.text.lower() for c in chunks
    )


def test_one_sentence_and_blank_documents(encoder: HashEncoder) -> None:
    chunker = SemanticChunker(encoder, 90, 50)
    assert [c.text for c in chunker.chunk(Document("d", "  Only one sentence here  "))] == [
        "Only one sentence here"
    ]
    assert chunker.chunk(Document("d", " \n\n ")) == []


def test_sentence_split_keeps_offsets() -> None:
    text = ' He said "stop!" Then left.\n\nA list\n- item one\n- item two? Yes. '
    spans = split_sentences(text)
    assert [text[a:b] for a, b in spans] == [
        'He said "stop!"',
        "Then left.",
        "A list",
        "- item one",
        "- item two?",
        "Yes.",
    ]


@pytest.mark.parametrize(
    ("percentile", "max_size", "overlap", "message"),
    [(101, 50, 0, "percentile"), (-1, 50, 0, "percentile"), (90, 10, 10, "overlap")],
)
def test_bad_settings_are_refused(
    percentile: float, max_size: int, overlap: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        SemanticChunker(HashEncoder(), percentile, max_size, overlap=overlap)
