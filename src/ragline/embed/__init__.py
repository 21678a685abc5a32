"""Stage 3: embeddings. Heavy backends are imported only when an encoder is built."""

from __future__ import annotations

from ragline.config import EmbedConfig
from ragline.embed.base import Encoder


def make_encoder(config: EmbedConfig) -> Encoder:
    """The encoder a config names (``"hash-N"`` gives the model-free test encoder)."""
    if config.model.startswith("hash-"):
        from ragline.embed.fake import HashEncoder

        return HashEncoder(dim=int(config.model.removeprefix("hash-")))
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder(
        config.model, query_prefix=config.query_prefix, document_prefix=config.document_prefix
    )


__all__ = ["Encoder", "make_encoder"]
