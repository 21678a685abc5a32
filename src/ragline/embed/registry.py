"""Embedders by name: ``EmbedConfig.backend`` picks the class, which builds itself from the
config (``from_config``). A model named ``hash-N`` is the model-free test encoder."""

from __future__ import annotations

from ragline.config import EmbedConfig
from ragline.embed.base import Encoder
from ragline.registry import Registry

ENCODERS = Registry(
    "embedder backend",
    {
        "sentence-transformers": "ragline.embed.sentence_transformers:SentenceTransformerEncoder",
        "torch": "ragline.embed.sentence_transformers:SentenceTransformerEncoder",
        "openvino": "ragline.embed.openvino:OpenVinoEncoder",
        "openvino-int8": "ragline.embed.openvino:OpenVinoInt8Encoder",
        "auto": "ragline.embed.auto:AutoEncoder",
        "hash": "ragline.embed.fake:HashEncoder",
    },
)


def make_encoder(config: EmbedConfig) -> Encoder:
    """The encoder ``config`` names (constructors are cheap; models load on first use)."""
    backend = "hash" if config.model.startswith("hash-") else config.backend
    encoder: Encoder = ENCODERS.load(backend).from_config(config)
    return encoder
