from __future__ import annotations

import pytest

from ragline.chunk import FixedTokenChunker
from ragline.chunk.base import TokenCounter
from ragline.documents import Document
from ragline.embed.fake import HashEncoder


def token_ids(counter: TokenCounter, start: int, end: int) -> set[int]:
    return set(range(counter.before(start), counter.before(end)))


@pytest.mark.parametrize(("size", "overlap"), [(10, 3), (10, 0), (7, 6), (1, 0)])
def test_windows_have_size_tokens_and_configured_overlap(
    size: int, overlap: int, encoder: HashEncoder, check_chunks
) -> None:
    text = "Start: " + " ".join(f"w{i}," for i in range(97)) + " end."
    doc = Document("doc", text)
    chunks = FixedTokenChunker(size, overlap, encoder).chunk(doc)
    check_chunks(doc, chunks)
    counter = TokenCounter.of(text, encoder)
    counts = [counter.count(c.start, c.end) for c in chunks]
    assert all(n == size for n in counts[:-1])
    assert 0 < counts[-1] <= size
    windows = [token_ids(counter, c.start, c.end) for c in chunks]
    for i, (this, nxt) in enumerate(zip(windows, windows[1:], strict=False)):
        assert min(this) == i * (size - overlap)
        assert len(this & nxt) == overlap
    assert max(windows[-1]) == len(counter) - 1
    assert chunks[0].text.startswith("Start:") and chunks[-1].text.endswith("end.")


def test_short_document_is_one_chunk(encoder: HashEncoder) -> None:
    doc = Document("doc", "\n  Just a few words.  \n")
    chunks = FixedTokenChunker(50, 10, encoder).chunk(doc)
    assert [(c.text, c.span) for c in chunks] == [("Just a few words.", (3, 20))]


def test_trailing_punctuation_and_tokenless_text_are_kept(encoder: HashEncoder) -> None:
    chunker = FixedTokenChunker(2, 0, encoder)
    assert [c.text for c in chunker.chunk(Document("d", "(one two) three!?"))] == [
        "(one two)",
        "three!?",
    ]
    assert [c.text for c in chunker.chunk(Document("d", " --- ?! "))] == ["--- ?!"]


@pytest.mark.parametrize("text", ["", " ", "\n\t \n"])
def test_blank_document_gives_no_chunks(text: str, encoder: HashEncoder) -> None:
    assert FixedTokenChunker(5, 1, encoder).chunk(Document("d", text)) == []


@pytest.mark.parametrize(
    ("size", "overlap", "message"),
    [(10, 10, "overlap"), (10, 12, "overlap"), (0, 0, "at least 1"), (5, -1, "negative")],
)
def test_bad_sizes_are_refused(size: int, overlap: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FixedTokenChunker(size, overlap, HashEncoder())
