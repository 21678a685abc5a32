"""Stage 3: embeddings. Heavy backends are imported only when an encoder is built."""

from __future__ import annotations

from ragline.embed.base import Encoder
from ragline.embed.registry import make_encoder

__all__ = ["Encoder", "make_encoder"]
