"""Cross-encoder on OpenVINO: the whole sentence-transformers CrossEncoder (transformer, then
a head such as pooling and a dense layer, or a classifier, then the activation) run as one
converted graph, float32 or bf16 where the CPU has it.

The graph is converted once per model and OpenVINO version into the conversion cache
(``embed/conversion_cache.py``) with the token limit the model reads; before first use its
scores of the probe pairs are checked against the PyTorch ones (``embed/probe.py``), so the
two backends order hits alike. Scores are memoised as the PyTorch class does.
"""

from __future__ import annotations

import json
import logging
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline.embed import probe
from ragline.embed.cpu_features import native_bf16
from ragline.rerank.cross_encoder import CrossEncoderReranker

log = logging.getLogger(__name__)

REVISION = 1
"""Bumped when the conversion here changes, so cached graphs are remade."""
SETTINGS_FILE = "scoring.json"


def scoring_module(cross_encoder: Any) -> Any:
    """``cross_encoder`` (a loaded sentence-transformers CrossEncoder) as one torch module
    taking ``input_ids``, ``attention_mask`` and ``token_type_ids`` and returning one score
    per row, its activation applied as ``predict`` applies it."""
    import torch

    class Scores(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.cross_encoder = cross_encoder
            self.activation = cross_encoder.activation_fn

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            features = {
                "input_ids": input_ids,
                "attention_mask": attention_mask,
                "token_type_ids": token_type_ids,
            }
            scores = self.cross_encoder(features)["scores"]
            return self.activation(scores).reshape(-1)

    return Scores().eval()


class OpenVinoCrossEncoderReranker(CrossEncoderReranker):
    """A cross-encoder re-ranker run by OpenVINO (``--rerank-backend openvino``).

    ``precision``: ``auto`` (bf16 where the CPU computes it natively, else float32),
    ``bf16`` or ``fp32``, as for the PyTorch class; ``cache_dir`` is the conversion cache's
    root (default: ragline's cache).
    """

    backend = "openvino"

    def __init__(
        self,
        model: str | Path,
        *,
        batch_size: int = 32,
        max_length: int | None = None,
        precision: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__(model, batch_size=batch_size, max_length=max_length, precision=precision)
        self.cache_dir = cache_dir
        self._requests = threading.local()

    @classmethod
    def from_dir(cls, path: Path, cache_dir: Path | None = None) -> OpenVinoCrossEncoderReranker:
        """The re-ranker for model directory ``path``; ``cache_dir`` (a knowledge base's
        folder, for the ColBERT token cache) does not hold converted graphs."""
        return cls(path)

    @property
    def hint(self) -> str:
        """The inference precision asked of OpenVINO: bf16 or f32."""
        if self.precision == "auto":
            return "bf16" if native_bf16() else "f32"
        return "bf16" if self.precision == "bf16" else "f32"

    @cached_property
    def reference(self) -> CrossEncoderReranker:
        """The PyTorch float32 cross-encoder, for conversion and the probe."""
        return CrossEncoderReranker(self.path, max_length=self.max_length, precision="fp32")

    def graph_dir(self) -> Path:
        """The converted graph of this model, converted now if not cached."""
        from ragline.embed.openvino_convert import graph_entry, save_graph

        def convert(out: Path) -> None:
            model = self.reference.model
            save_graph(scoring_module(model), out)
            settings = {"max_length": int(model.max_seq_length)}
            (out / SETTINGS_FILE).write_text(json.dumps(settings), encoding="utf-8")

        return graph_entry(self.path, f"scores-f32-r{REVISION}", convert, self.cache_dir)

    @cached_property
    def compiled(self) -> Any:
        """The compiled graph and the pair tokenizer, after the probe has accepted the
        graph's scores."""
        from ragline.embed.openvino_convert import compile_graph
        from ragline.embed.token_batches import TokenBatches

        directory = self.graph_dir()
        saved = json.loads((directory / SETTINGS_FILE).read_text(encoding="utf-8"))
        tokens = TokenBatches(self.path, self.max_length or saved["max_length"])
        compiled = compile_graph(directory, self.hint)
        record = None if self.max_length else directory / f"probe-{self.hint}.json"
        self.probe_result = probe.checked_scores(
            f"{self.backend} ({self.hint})",
            self.hint,
            lambda pairs: self._infer(compiled, tokens, pairs),
            self.reference._score_pairs,
            record,
        )
        return compiled, tokens

    def _infer(
        self, compiled: Any, tokens: Any, pairs: list[tuple[str, str]]
    ) -> NDArray[np.float32]:
        if not hasattr(self._requests, "request"):  # one per thread: a request is not shared
            self._requests.request = compiled.create_infer_request()
        out = np.empty(len(pairs), dtype=np.float32)
        for positions, arrays in tokens.batches(pairs, self.batch_size):
            out[positions] = self._requests.request.infer(arrays)[0]
        return out

    def _score_pairs(self, pairs: list[tuple[str, str]]) -> NDArray[np.float32]:
        compiled, tokens = self.compiled
        return self._infer(compiled, tokens, pairs)
