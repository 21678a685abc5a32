"""Stage 2: chunking. Documents become passages with exact character spans."""

from __future__ import annotations

from ragline.chunk.base import Chunker, TokenOffsets
from ragline.chunk.fixed import FixedTokenChunker
from ragline.chunk.recursive import RecursiveChunker
from ragline.chunk.semantic import SemanticChunker
from ragline.config import ChunkConfig
from ragline.embed.base import Encoder
from ragline.errors import ConfigError


def make_chunker(config: ChunkConfig, encoder: Encoder) -> Chunker:
    """The chunker a config names; sizes count ``encoder``'s tokens.

    >>> from ragline.embed.fake import HashEncoder
    >>> chunker = make_chunker(ChunkConfig(), HashEncoder())
    >>> type(chunker).__name__, chunker.size, chunker.overlap
    ('RecursiveChunker', 200, 32)
    """
    if config.method == "fixed":
        return FixedTokenChunker(config.size, config.overlap, encoder)
    if config.method == "recursive":
        return RecursiveChunker(config.size, config.overlap, encoder)
    if config.method == "semantic":
        return SemanticChunker(
            encoder, config.semantic_percentile, config.size, encoder, overlap=config.overlap
        )
    raise ConfigError(
        f"chunk method {config.method!r} is unknown; use 'fixed', 'recursive' or 'semantic'"
    )


__all__ = [
    "Chunker",
    "FixedTokenChunker",
    "RecursiveChunker",
    "SemanticChunker",
    "TokenOffsets",
    "make_chunker",
]
