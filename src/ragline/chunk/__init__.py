"""Stage 2: chunking. Documents become passages with exact character spans."""

from __future__ import annotations

from ragline.chunk.base import Chunker, TokenOffsets
from ragline.chunk.fixed import FixedTokenChunker
from ragline.chunk.headers import TitleHeaderChunker
from ragline.chunk.recursive import RecursiveChunker
from ragline.chunk.semantic import SemanticChunker
from ragline.chunk.whole import WholeWhenItFits, window_tokens
from ragline.config import ChunkConfig
from ragline.embed.base import Encoder
from ragline.errors import ConfigError


def make_chunker(config: ChunkConfig, encoder: Encoder) -> Chunker:
    """The chunker a config names; sizes count ``encoder``'s tokens.

    >>> from ragline.embed.fake import HashEncoder
    >>> chunker = make_chunker(ChunkConfig(), HashEncoder())
    >>> type(chunker).__name__, type(chunker.inner).__name__, chunker.inner.size
    ('TitleHeaderChunker', 'RecursiveChunker', 200)
    """
    chunker: Chunker
    if config.method == "fixed":
        chunker = FixedTokenChunker(config.size, config.overlap, encoder)
    elif config.method == "recursive":
        chunker = RecursiveChunker(config.size, config.overlap, encoder)
    elif config.method == "semantic":
        chunker = SemanticChunker(
            encoder, config.semantic_percentile, config.size, encoder, overlap=config.overlap
        )
    else:
        raise ConfigError(
            f"chunk method {config.method!r} is unknown; use 'fixed', 'recursive' or 'semantic'"
        )
    window = window_tokens(encoder) if config.keep_whole == "window" else None
    if window:
        chunker = WholeWhenItFits(chunker, window, encoder)
    return TitleHeaderChunker(chunker) if config.title_header else chunker


__all__ = [
    "Chunker",
    "FixedTokenChunker",
    "RecursiveChunker",
    "SemanticChunker",
    "TitleHeaderChunker",
    "TokenOffsets",
    "WholeWhenItFits",
    "make_chunker",
]
