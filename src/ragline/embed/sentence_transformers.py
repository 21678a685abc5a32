"""Bi-encoder backed by sentence-transformers: the packaged MiniLM or any local model directory."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline.config import EmbedConfig
from ragline.packaged_models import resolve_model

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)


class SentenceTransformerEncoder:
    """Embed with a sentence-transformers model, loaded on first use.

    ``query_prefix`` / ``document_prefix`` are prepended for models trained with them
    (e5: ``"query: "``, ``"passage: "``).
    """

    def __init__(
        self,
        model: str = "minilm",
        *,
        query_prefix: str = "",
        document_prefix: str = "",
        device: str = "cpu",
    ) -> None:
        self.path, self.name = resolve_model(model)
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.device = device

    @classmethod
    def from_config(cls, config: EmbedConfig) -> SentenceTransformerEncoder:
        return cls(
            config.model, query_prefix=config.query_prefix, document_prefix=config.document_prefix
        )

    @cached_property
    def model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()

        log.info("loading embedder %s", self.path)
        return SentenceTransformer(str(self.path), device=self.device)

    @cached_property
    def dim(self) -> int:  # type: ignore[override]
        config = self.path / "1_Pooling" / "config.json"
        if config.is_file():
            import json

            pooling = json.loads(config.read_text())
            dim = pooling.get("word_embedding_dimension") or pooling.get("embedding_dimension")
            if dim:
                return int(dim)
        return int(self.model.get_embedding_dimension())

    @cached_property
    def tokenizer(self) -> Tokenizer:
        from tokenizers import Tokenizer

        file = self.path / "tokenizer.json"
        if file.is_file():
            tok = Tokenizer.from_file(str(file))
        else:
            tok = self.model.tokenizer.backend_tokenizer
        tok.no_truncation()
        tok.no_padding()
        return tok

    @property
    def max_tokens(self) -> int:
        """How many tokens the model reads per text (longer texts are truncated)."""
        return int(self.model.max_seq_length)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        return [(a, b) for a, b in encoding.offsets]

    def _encode(self, texts: Sequence[str], prefix: str, batch_size: int) -> NDArray[np.float32]:
        if prefix:
            texts = [prefix + t for t in texts]
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        return self._encode(texts, self.query_prefix, batch_size)

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]:
        return self._encode(texts, self.document_prefix, batch_size)
