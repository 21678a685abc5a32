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
    """Embed with OpenVINO. ``precision``: ``auto`` (bf16 where native; else float32, and
    queries on int8 weights), ``f32``, ``bf16`` or ``int8`` (NNCF post-training quantization,
    calibrated on real text).

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
        """The precision documents run at, as the probe judges it: int8, bf16 or f32."""
        return "int8" if self.precision == "int8" else self.hint

    @property
    def query_variant(self) -> str:
        """The precision queries run at: ``int8w`` (int8 weights, float32 arithmetic) where
        ``auto`` runs documents in float32 (one short query's time is mostly reading the
        weights; a batch of documents' is arithmetic), else the documents' precision."""
        return "int8w" if self.precision == "auto" and self.variant == "f32" else self.variant

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return self.reference.token_offsets(text)

    def graph_dir(self, variant: str | None = None) -> Path:
        """The converted graph of this model at ``variant`` (default: the documents'),
        converted now if not cached."""
        from ragline.embed.openvino_convert import (
            REVISION,
            compress_weights,
            convert_f32,
            graph_entry,
            quantize_int8,
        )

        variant = variant or self.variant
        f32 = graph_entry(
            self.path, f"f32-r{REVISION}", lambda out: convert_f32(self.path, out), self.cache_dir
        )
        builds = {
            "int8": lambda out: quantize_int8(f32, self._calibration(), out),
            "int8w": lambda out: compress_weights(f32, out),
        }
        if variant not in builds:
            return f32
        return graph_entry(self.path, f"{variant}-r{REVISION}", builds[variant], self.cache_dir)

    def _calibration(self) -> list[dict[str, NDArray[np.int64]]]:
        from ragline.embed.calibration import calibration_texts

        texts = calibration_texts()
        return [arrays for _, arrays in self.tokens.batches(texts, CALIBRATION_BATCH)]

    @cached_property
    def compiled(self) -> Any:
        """The compiled graph documents run on, after the probe has accepted its vectors."""
        compiled, self.probe_result = self._checked_graph(self.variant)
        return compiled

    @cached_property
    def query_compiled(self) -> Any:
        """The compiled graph queries run on (the documents' one unless ``query_variant``
        differs), after the probe has accepted its vectors."""
        if self.query_variant == self.variant:
            return self.compiled
        try:
            compiled, self.query_probe_result = self._checked_graph(self.query_variant)
        except RaglineError as refused:  # a speed-up, not a promise: fall back to the full graph
            log.info("%s; queries run at %s", refused, self.variant)
            return self.compiled
        return compiled

    def _checked_graph(self, variant: str) -> tuple[Any, probe.ProbeResult]:
        from ragline.embed.openvino_convert import compile_graph

        directory = self.graph_dir(variant)
        compiled = compile_graph(directory, self.hint)
        result = probe.checked(
            f"{self.backend} ({variant})",
            variant,
            lambda texts: self._infer(compiled, [self.document_prefix + t for t in texts]),
            self.reference.encode_documents,
            directory / f"probe-{self.hint}.json",
        )
        return compiled, result

    def _infer(
        self, compiled: Any, texts: Sequence[str], batch_size: int = 32
    ) -> NDArray[np.float32]:
        request = self._request(compiled)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for positions, arrays in self.tokens.batches(texts, batch_size):
            out[positions] = request.infer(arrays)[0]
        return out

    def _request(self, compiled: Any) -> Any:
        """This thread's inference request on ``compiled``, made once: a request is not
        thread-safe, and a fresh one per query cost 1.7 ms of a 12.9 ms query here (it
        allocates its buffers again on its first inference)."""
        requests = self._requests.__dict__.setdefault("by_graph", {})
        if id(compiled) not in requests:
            requests[id(compiled)] = compiled.create_infer_request()
        return requests[id(compiled)]

    def _encode(
        self, compiled: Any, texts: Sequence[str], prefix: str, batch_size: int
    ) -> NDArray[np.float32]:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        if prefix:
            texts = [prefix + t for t in texts]
        return self._infer(compiled, texts, batch_size)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> NDArray[np.float32]:
        compiled = self.query_compiled if texts else None
        return self._encode(compiled, texts, self.query_prefix, batch_size)

    def encode_documents(
        self, texts: Sequence[str], *, batch_size: int = 32
    ) -> NDArray[np.float32]:
        compiled = self.compiled if texts else None
        return self._encode(compiled, texts, self.document_prefix, batch_size)


class OpenVinoInt8Encoder(OpenVinoEncoder):
    """OpenVINO with int8 matrix products (``--embed-backend openvino-int8``)."""

    backend = "openvino-int8"
    precision_default = "int8"
