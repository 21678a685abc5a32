"""Invariants shared by every chunker, over many seeded random documents.

hypothesis is not a dependency of the project, so a seeded generator stands in for it.
"""

from __future__ import annotations

import random

import pytest

from ragline.chunk import (
    Chunker,
    FixedTokenChunker,
    RecursiveChunker,
    SemanticChunker,
    make_chunker,
)
from ragline.chunk.base import TokenCounter
from ragline.config import ChunkConfig
from ragline.documents import Document
from ragline.embed.fake import HashEncoder
from ragline.embed.sentence_transformers import SentenceTransformerEncoder

# Words, punctuation, and characters a tokenizer may drop (zero-width space, control).
WORDS = [
    "alpha", "beta", "Gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa",
    "lambda", "mu",
    "naïve", "δέλτα", "x1", "3.14", "don't", "e.g.", "a-b-c", "ﬁne", "🙂", "—",
    "(", ")", "'", "...", "!", "?", "\u200b", "\x07", "https://example.org/a?b=c",
]  # fmt: skip
SEPARATORS = [" "] * 12 + ["  ", "\t", "\n", "\n\n", "\n \n", ". ", "! ", "? ", "\r\n", "\xa0", ""]
WHITESPACE = ["", "", " ", "\n", " \n\t", "\n\n  "]


def random_document(rng: random.Random, n: int) -> Document:
    parts = [rng.choice(WHITESPACE)]
    for _ in range(rng.randint(0, 150)):
        parts += [rng.choice(WORDS), rng.choice(SEPARATORS)]
    parts.append(rng.choice(WHITESPACE))
    text = "".join(parts)
    page_starts: tuple[int, ...] = ()
    if text and rng.random() < 0.3:
        page_starts = (0, *sorted(rng.sample(range(len(text)), min(3, len(text)))))
    return Document(f"doc-{n}", text, {"source": f"doc-{n}.txt", "n": n}, page_starts)


def random_chunker(rng: random.Random, encoder: HashEncoder) -> Chunker:
    size = rng.randint(1, 40)
    overlap = rng.randint(0, size - 1)
    kind = rng.choice(["fixed", "recursive", "semantic"])
    if kind == "fixed":
        return FixedTokenChunker(size, overlap, encoder)
    if kind == "recursive":
        return RecursiveChunker(size, overlap, encoder)
    return SemanticChunker(encoder, rng.uniform(0, 100), size, overlap=overlap)


def test_invariants_on_random_documents(check_chunks) -> None:
    rng = random.Random(20240601)
    encoder = HashEncoder(dim=32)
    for n in range(400):
        doc = random_document(rng, n)
        chunker = random_chunker(rng, encoder)
        chunks = chunker.chunk(doc)
        try:
            check_chunks(doc, chunks)
            assert chunker.chunk(doc) == chunks  # deterministic
            if isinstance(chunker, RecursiveChunker | SemanticChunker):
                limit = chunker.size if isinstance(chunker, RecursiveChunker) else chunker.max_size
                counter = TokenCounter.of(doc.text, encoder)
                assert all(counter.count(c.start, c.end) <= limit for c in chunks)
        except AssertionError as e:
            raise AssertionError(f"document {n} {doc.text!r} with {vars(chunker)}") from e


@pytest.mark.parametrize("method", ["fixed", "recursive", "semantic"])
def test_pdf_page_metadata(method: str, check_chunks) -> None:
    pages = [" ".join(f"page{p}word{i}." for i in range(20)) for p in range(1, 4)]  # 20 tokens
    text = ""
    starts = []
    for page in pages:
        starts.append(len(text))
        text += page + "\n\n"
    doc = Document("report.pdf", text, {"title": "Report"}, tuple(starts))
    config = ChunkConfig(method=method, size=20, overlap=0, semantic_percentile=50)
    chunks = make_chunker(config, HashEncoder(dim=256)).chunk(doc)
    check_chunks(doc, chunks)
    assert sorted({c.metadata["page"] for c in chunks}) == [1, 2, 3]
    for c in chunks:
        assert c.metadata["title"] == "Report"
        assert c.text.startswith(f"page{c.metadata['page']}word")

    unpaged = Document("notes.txt", text, {"title": "Notes"})
    for c in make_chunker(config, HashEncoder(dim=256)).chunk(unpaged):
        assert c.metadata == {"title": "Notes"}


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="chunk method 'sliding' is unknown"):
        make_chunker(ChunkConfig(method="sliding"), HashEncoder())  # type: ignore[arg-type]


def test_real_tokenizer(check_chunks) -> None:
    st = SentenceTransformerEncoder()  # only its tokenizer is used: token_offsets
    text = (
        "Retrieval-augmented generation (RAG) grounds answers in passages.\n\n"
        "Tokenizers split unaffordable words into word-pieces: naïve café, ﬁne, 🙂.\u200b\n"
        + " ".join(f"Sentence {i} mentions transformers and embeddings." for i in range(30))
    )
    doc = Document("rag.md", text, {"title": "RAG"}, (0, 200))
    counter = TokenCounter.of(text, st)
    semantic = SemanticChunker(HashEncoder(dim=256), 80, 24, st, overlap=4)
    for chunker in [FixedTokenChunker(24, 6, st), RecursiveChunker(24, 6, st), semantic]:
        chunks = chunker.chunk(doc)
        check_chunks(doc, chunks)
        counts = [counter.count(c.start, c.end) for c in chunks]
        assert all(0 < n <= 24 for n in counts)
        if isinstance(chunker, FixedTokenChunker):
            assert all(n == 24 for n in counts[:-1])
