"""Documents the embedder reads whole stay one chunk; longer ones are cut as before."""

from __future__ import annotations

from ragline.chunk import RecursiveChunker, TitleHeaderChunker, WholeWhenItFits, make_chunker
from ragline.chunk.whole import SPECIAL_TOKENS, window_tokens
from ragline.config import ChunkConfig
from ragline.documents import Document
from ragline.embed.fake import HashEncoder
from unit.chunk.conftest import assert_chunk_invariants


class WindowedHashEncoder(HashEncoder):
    """The hash encoder with a model window, as sentence-transformers encoders report it."""

    max_tokens = 12


def _words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def test_a_document_within_the_window_is_one_chunk_and_a_longer_one_is_cut() -> None:
    tokens = HashEncoder()
    chunker = WholeWhenItFits(RecursiveChunker(4, 0, tokens), limit=10, tokens=tokens)
    fits, longer = Document("a", _words(10)), Document("b", _words(11))
    assert [c.text for c in chunker.chunk(fits)] == [fits.text]
    cut = chunker.chunk(longer)
    assert len(cut) == 3
    for document in (fits, longer):
        assert_chunk_invariants(document, chunker.chunk(document))


def test_the_title_header_counts_against_the_window() -> None:
    tokens = HashEncoder()
    chunker = WholeWhenItFits(RecursiveChunker(4, 0, tokens), limit=10, tokens=tokens)
    titled = Document("a", _words(9), {"title": "Two words"})
    assert len(chunker.chunk(titled)) > 1  # 9 words + a 2-word header > 10
    opening = Document("b", "Two words " + _words(8), {"title": "Two words"})
    assert len(chunker.chunk(opening)) == 1  # the text begins with its title: no header


def test_make_chunker_keeps_whole_only_when_asked_and_the_encoder_has_a_window() -> None:
    config = ChunkConfig(size=4, overlap=0, keep_whole="window")
    windowed = make_chunker(config, WindowedHashEncoder())
    assert isinstance(windowed, TitleHeaderChunker)
    assert isinstance(windowed.inner, WholeWhenItFits)
    assert windowed.inner.limit == 12 - SPECIAL_TOKENS
    assert len(windowed.chunk(Document("d", _words(10)))) == 1
    assert len(windowed.chunk(Document("d", _words(11)))) == 3
    never = make_chunker(ChunkConfig(size=4, overlap=0), WindowedHashEncoder())
    assert len(never.chunk(Document("d", _words(10)))) == 3
    assert window_tokens(HashEncoder()) is None
    assert isinstance(make_chunker(config, HashEncoder()).inner, RecursiveChunker)
