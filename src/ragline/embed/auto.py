"""``--embed-backend auto``: the fastest backend whose vectors pass the probe on this CPU.

Candidates are tried fastest first for this CPU (``candidates``); one that is not
installed, fails to convert or is refused by the probe is passed over with a note in the
log. The choice is made on first use, so building the encoder stays cheap.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from ragline.config import EmbedConfig
from ragline.embed.base import Encoder
from ragline.embed.cpu_features import cpu_flags
from ragline.embed.sentence_transformers import SentenceTransformerEncoder
from ragline.errors import RaglineError

log = logging.getLogger(__name__)


def candidates() -> tuple[str, ...]:
    """Backends fastest first on this CPU. The int8 graph leads only where the CPU has int8
    dot products (VNNI, AMX): on plain AVX2 it measured 0.89x PyTorch against 1.40x for the
    float32 graph (README, Speed), so there it is not tried."""
    flags = cpu_flags()
    if flags["avx512_vnni"] or flags["avx_vnni"] or flags["amx_int8"]:
        return ("openvino-int8", "openvino", "sentence-transformers")
    return ("openvino", "sentence-transformers")


class AutoEncoder:
    """The first of ``candidates()`` that loads and passes the probe; the model's name and
    tokenizer are known before the choice (they do not depend on it)."""

    def __init__(self, config: EmbedConfig) -> None:
        self.config = config
        self.reference = SentenceTransformerEncoder(
            config.model, query_prefix=config.query_prefix, document_prefix=config.document_prefix
        )
        self.name = self.reference.name

    @classmethod
    def from_config(cls, config: EmbedConfig) -> AutoEncoder:
        return cls(config)

    @cached_property
    def dim(self) -> int:  # type: ignore[override]
        return self.reference.dim

    @cached_property
    def chosen(self) -> Encoder:
        """The backend that runs: loaded and, for a converted one, accepted by the probe."""
        from ragline.embed.registry import ENCODERS

        for backend in candidates():
            encoder: Encoder = ENCODERS.load(backend).from_config(
                replace(self.config, backend=backend)
            )
            try:
                encoder.encode_documents(["warm-up"])
            except (RaglineError, RuntimeError) as e:  # refused, not installed, not convertible
                log.info("embedder backend %s passed over: %s", backend, e)
                continue
            log.info("embedder backend auto: %s", backend)
            self.backend = backend
            return encoder
        raise RaglineError("embedder backend auto: no backend could run")  # pragma: no cover

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return self.reference.token_offsets(text)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        return self.chosen.encode_queries(texts, batch_size=batch_size)

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]:
        return self.chosen.encode_documents(texts, batch_size=batch_size)
