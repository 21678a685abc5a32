"""The Encoder protocol: text in, unit-length float32 vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray


@runtime_checkable
class Encoder(Protocol):
    """A bi-encoder. ``name`` and ``dim`` are recorded in the knowledge base.

    Vectors are L2-normalised so that inner product equals cosine similarity.
    ``token_offsets`` exposes the encoder's tokenizer, so chunk sizes can be counted in
    the tokens the model actually sees.
    """

    name: str
    dim: int

    def encode_queries(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]: ...

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]: ...

    def token_offsets(self, text: str) -> list[tuple[int, int]]: ...
