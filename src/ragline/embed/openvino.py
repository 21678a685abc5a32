"""Bi-encoder on OpenVINO: the same model, tokenizer, pooling and normalisation as
sentence-transformers, run as a converted graph (float32, bf16 where the CPU has it, or int8).

The graph is converted once per model and OpenVINO version and kept in the conversion cache;
before first use its vectors are checked against the PyTorch float32 ones (``embed/probe.py``),
so a knowledge base built with either backend can be searched with the other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline.config import EmbedConfig
from ragline.embed import probe
from ragline.embed.cpu_features import native_bf16
from ragline.embed.sentence_transformers import SentenceTransformerEncoder
from ragline.embed.token_batches import TokenBatches
from ragline.errors import RaglineError

log = logging.getLogger(__name__)

CALIBRATION_BATCH = 16
PRECISIONS = ("auto", "f32", "bf16", "int8")


class OpenVinoEncoder:
    """Embed with OpenVINO. ``precision``: ``auto`` (bf16 where native, else float32),
    ``f32``, ``bf16`` or ``int8`` (NNCF post-training quantization, calibrated on real text).

    The recorded ``name`` is the model's, as with sentence-transformers: the vectors are the
    model's, and the probe keeps them so.
    """

    backend = "openvino"
    precision_default = "auto"

    def __init__(
        self,
        model: str = "minilm",
        *,
        query_prefix: str = "",
        document_prefix: str = "",
        precision: str | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        self.reference = SentenceTransformerEncoder(
            model, query_prefix=query_prefix, document_prefix=document_prefix
        )
        self.path, self.name = self.reference.path, self.reference.name
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix
        self.precision = precision or self.precision_default
        if self.precision not in PRECISIONS:
            raise RaglineError(
                f"OpenVINO precision {self.precision!r}: use {', '.join(PRECISIONS)}"
            )
        self.cache_dir = cache_dir
        self.tokens = TokenBatches(self.path)
        self._requests = threading.local()

    @classmethod
    def from_config(cls, config: EmbedConfig) -> OpenVinoEncoder:
        return cls(
            config.model, query_prefix=config.query_prefix, document_prefix=config.document_prefix
        )

    @cached_property
    def dim(self) -> int:  # type: ignore[override]
        return self.reference.dim

    @property
    def hint(self) -> str:
        """The inference precision asked of OpenVINO: bf16, f32 (int8 graphs run as f32
        outside their quantized products)."""
        if self.precision == "auto":
            return "bf16" if native_bf16() else "f32"
        return "bf16" if self.precision == "bf16" else "f32"

    @property
    def variant(self) -> str:
        """The precision the probe judges: int8, bf16 or f32."""
        return "int8" if self.precision == "int8" else self.hint

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return self.reference.token_offsets(text)

    def graph_dir(self) -> Path:
        """The converted graph of this model and precision, converted now if not cached."""
        from ragline.embed.openvino_convert import REVISION, convert_f32, graph_entry, quantize_int8

        f32 = graph_entry(
            self.path, f"f32-r{REVISION}", lambda out: convert_f32(self.path, out), self.cache_dir
        )
        if self.precision != "int8":
            return f32
        return graph_entry(
            self.path,
            f"int8-r{REVISION}",
            lambda out: quantize_int8(f32, self._calibration(), out),
            self.cache_dir,
        )

    def _calibration(self) -> list[dict[str, NDArray[np.int64]]]:
        from ragline.embed.calibration import calibration_texts

        texts = calibration_texts()
        return [arrays for _, arrays in self.tokens.batches(texts, CALIBRATION_BATCH)]

    @cached_property
    def compiled(self) -> Any:
        """The compiled graph, after the probe has accepted its vectors."""
        from ragline.embed.openvino_convert import compile_graph

        directory = self.graph_dir()
        compiled = compile_graph(directory, self.hint)
        self.probe_result = probe.checked(
            f"{self.backend} ({self.variant})",
            self.variant,
            lambda texts: self._infer(compiled, [self.document_prefix + t for t in texts]),
            self.reference.encode_documents,
            directory / f"probe-{self.hint}.json",
        )
        return compiled

    def _infer(
        self, compiled: Any, texts: Sequence[str], batch_size: int = 32
    ) -> NDArray[np.float32]:
        request = self._request(compiled)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for positions, arrays in self.tokens.batches(texts, batch_size):
            out[positions] = request.infer(arrays)[0]
        return out

    def _request(self, compiled: Any) -> Any:
        """This thread's inference request on ``compiled`` (the encoder's one graph), made
        once: a request is not thread-safe, and a fresh one per query cost 1.7 ms of a
        12.9 ms query here (it allocates its buffers again on its first inference)."""
        if not hasattr(self._requests, "request"):
            self._requests.request = compiled.create_infer_request()
        return self._requests.request

    def _encode(self, texts: Sequence[str], prefix: str, batch_size: int) -> NDArray[np.float32]:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        if prefix:
            texts = [prefix + t for t in texts]
        return self._infer(self.compiled, texts, batch_size)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        return self._encode(texts, self.query_prefix, batch_size)

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]:
        return self._encode(texts, self.document_prefix, batch_size)


class OpenVinoInt8Encoder(OpenVinoEncoder):
    """OpenVINO with int8 matrix products (``--embed-backend openvino-int8``)."""

    backend = "openvino-int8"
    precision_default = "int8"
