from __future__ import annotations

import pytest

from ragline.chunk import RecursiveChunker, make_chunker
from ragline.chunk.base import TokenCounter
from ragline.config import ChunkConfig
from ragline.documents import Document
from ragline.embed.fake import HashEncoder


def paragraph(n: int, words: int = 12) -> str:
    body = " ".join(f"p{n}w{i}" for i in range(words - 1))
    return f"{body} end{n}."


@pytest.mark.parametrize("overlap", [0, 12])
def test_prefers_paragraph_boundaries(overlap: int, encoder: HashEncoder, check_chunks) -> None:
    paragraphs = [paragraph(n) for n in range(7)]
    doc = Document("doc", "\n\n".join(paragraphs) + "\n")
    chunks = RecursiveChunker(30, overlap, encoder).chunk(doc)
    check_chunks(doc, chunks)
    # 30 tokens would fit 2.5 paragraphs; every chunk still holds whole paragraphs only.
    runs = {
        "\n\n".join(paragraphs[i:j]): (i, j)
        for i in range(len(paragraphs))
        for j in range(i + 1, len(paragraphs) + 1)
    }
    got = [runs[c.text] for c in chunks]
    if overlap:  # one 12-token paragraph fits the overlap, so it repeats
        assert got == [(0, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7)]
    else:
        assert got == [(0, 2), (2, 4), (4, 6), (6, 7)]


def test_falls_back_to_sentences_then_words(encoder: HashEncoder, check_chunks) -> None:
    sentences = [f"Sentence {n} has some words in it." for n in range(6)]
    long_sentence = " ".join(f"word{i}" for i in range(25))
    doc = Document("doc", "Title\n\n" + " ".join(sentences) + "\n\n" + long_sentence)
    chunks = RecursiveChunker(15, 0, encoder).chunk(doc)
    check_chunks(doc, chunks)
    texts = [c.text for c in chunks]
    assert texts[0] == "Title"
    assert texts[1:4] == [" ".join(sentences[i : i + 2]) for i in (0, 2, 4)]
    assert texts[4:] == [
        " ".join(f"word{i}" for i in range(15)),
        " ".join(f"word{i}" for i in range(15, 25)),
    ]


def test_hard_cut_on_token_boundaries(encoder: HashEncoder, check_chunks) -> None:
    text = "-".join(f"t{i}" for i in range(40))  # 40 tokens, no whitespace
    doc = Document("doc", text)
    chunks = RecursiveChunker(16, 4, encoder).chunk(doc)
    check_chunks(doc, chunks)
    counter = TokenCounter.of(text, encoder)
    assert [counter.count(c.start, c.end) for c in chunks] == [16, 16, 16]
    assert [c.text.split("-")[0] for c in chunks] == ["t0", "t12", "t24"]


@pytest.mark.parametrize(("size", "overlap"), [(8, 0), (8, 3), (25, 10), (3, 2)])
def test_sizes_and_overlap_are_bounded(
    size: int, overlap: int, encoder: HashEncoder, check_chunks
) -> None:
    text = "\n".join(
        f"Line {i}: " + ". ".join(f"alpha beta{j} gamma" for j in range(i % 5 + 1)) + "."
        for i in range(30)
    )
    doc = Document("doc", text)
    chunks = RecursiveChunker(size, overlap, encoder).chunk(doc)
    check_chunks(doc, chunks)
    counter = TokenCounter.of(text, encoder)
    assert all(0 < counter.count(c.start, c.end) <= size for c in chunks)
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert counter.count(b.start, min(a.end, b.end)) <= overlap


def test_default_config_works(check_chunks) -> None:
    encoder = HashEncoder()
    chunker = make_chunker(ChunkConfig(title_header=False), encoder)
    assert isinstance(chunker, RecursiveChunker)
    assert (chunker.size, chunker.overlap) == (200, 32)
    text = "\n\n".join(paragraph(n, words=40) for n in range(30))  # 1200 tokens
    doc = Document("doc", text)
    chunks = chunker.chunk(doc)
    check_chunks(doc, chunks)
    counter = TokenCounter.of(text, encoder)
    assert len(chunks) > 5
    assert all(counter.count(c.start, c.end) <= 200 for c in chunks)


def test_bad_overlap_is_refused() -> None:
    with pytest.raises(ValueError, match=r"overlap \(200\) must be smaller"):
        RecursiveChunker(200, 200, HashEncoder())


def test_title_header_is_indexed_context_outside_the_span() -> None:
    encoder = HashEncoder()
    text = "Aspirin\n\n" + "\n\n".join(paragraph(n, words=40) for n in range(12))
    doc = Document("doc", text, {"title": "Aspirin"})
    chunks = make_chunker(ChunkConfig(), encoder).chunk(doc)
    assert len(chunks) > 1
    assert chunks[0].header == "" and chunks[0].text.startswith("Aspirin")
    for chunk in chunks[1:]:
        assert chunk.header == "Aspirin"
        assert chunk.indexed_text == "Aspirin\n" + chunk.text
        assert text[chunk.start : chunk.end] == chunk.text
