"""A deterministic, model-free encoder for tests: words hashed into a small vector space."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ragline.config import EmbedConfig

_WORD = re.compile(r"\w+")


class HashEncoder:
    """Bag-of-words vectors from hashed lower-cased words; texts sharing words are close.

    >>> enc = HashEncoder(dim=16)
    >>> v = enc.encode_documents(["red apple", "green apple"])
    >>> v.shape, round(float(np.linalg.norm(v[0])), 5)
    ((2, 16), 1.0)
    """

    def __init__(self, dim: int = 64, name: str = "hash") -> None:
        self.dim = dim
        self.name = f"{name}-{dim}"

    @classmethod
    def from_config(cls, config: EmbedConfig) -> HashEncoder:
        """The encoder a model name ``hash-N`` asks for: ``N`` dimensions."""
        return cls(dim=int(config.model.removeprefix("hash-")))

    def _encode(self, texts: Sequence[str]) -> NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        out[:, 0] += norms[:, 0] == 0  # an empty text still gets a unit vector
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        return self._encode(texts)

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]:
        return self._encode(texts)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return [m.span() for m in _WORD.finditer(text)]
