"""Re-rankers on OpenVINO, float32 or bf16 where the CPU has it: the cross-encoder (the whole
sentence-transformers CrossEncoder, transformer then a head such as pooling and a dense layer,
or a classifier, then the activation, as one graph) and ColBERT's token encoder (transformer,
projection and normalisation as one graph; tokenizing, MaxSim and the token cache stay).

A graph is converted once per model and OpenVINO version into the conversion cache
(``embed/conversion_cache.py``); before first use its scores of the probe pairs are checked
against the PyTorch ones (``embed/probe.py``), so the two backends order hits alike. The
cross-encoder memoises scores as its PyTorch class does.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline.embed import probe
from ragline.embed.cpu_features import native_bf16
from ragline.rerank.colbert import ColbertReranker
from ragline.rerank.cross_encoder import CrossEncoderReranker
from ragline.rerank.maxsim import maxsim

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


class OpenVinoRunner:
    """What both OpenVINO re-rankers share: the precision hint and one inference request
    per thread (a request is not thread-safe; a new one per call reallocates its buffers)."""

    backend = "openvino"
    precision = "auto"

    @property
    def hint(self) -> str:
        """The inference precision asked of OpenVINO: bf16 or f32."""
        if self.precision == "auto":
            return "bf16" if native_bf16() else "f32"
        return "bf16" if self.precision == "bf16" else "f32"

    @cached_property
    def _requests(self) -> threading.local:
        return threading.local()

    def _request(self, compiled: Any) -> Any:
        """This thread's request on ``compiled`` (the re-ranker's one graph)."""
        if not hasattr(self._requests, "request"):
            self._requests.request = compiled.create_infer_request()
        return self._requests.request


class OpenVinoCrossEncoderReranker(OpenVinoRunner, CrossEncoderReranker):
    """A cross-encoder re-ranker run by OpenVINO (``--rerank-backend openvino``).

    ``precision``: ``auto`` (bf16 where the CPU computes it natively, else float32),
    ``bf16`` or ``fp32``, as for the PyTorch class; ``cache_dir`` is the conversion cache's
    root (default: ragline's cache).
    """

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

    @classmethod
    def from_dir(cls, path: Path, cache_dir: Path | None = None) -> OpenVinoCrossEncoderReranker:
        """The re-ranker for model directory ``path``; ``cache_dir`` (a knowledge base's
        folder, for the ColBERT token cache) does not hold converted graphs."""
        return cls(path)

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
        request = self._request(compiled)
        out = np.empty(len(pairs), dtype=np.float32)
        for positions, arrays in tokens.batches(pairs, self.batch_size):
            out[positions] = request.infer(arrays)[0]
        return out

    def _score_pairs(self, pairs: list[tuple[str, str]]) -> NDArray[np.float32]:
        compiled, tokens = self.compiled
        return self._infer(compiled, tokens, pairs)


def token_module(encoder: Any, projection: Any) -> Any:
    """ColBERT's token encoder as one torch module taking ``input_ids`` and
    ``attention_mask``: the transformer's token states, projected and L2-normalised."""
    import torch

    class Tokens(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder
            self.projection = projection

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask)
            projected = self.projection(states.last_hidden_state)
            return torch.nn.functional.normalize(projected, dim=-1)

    return Tokens().eval()


class OpenVinoColbertReranker(OpenVinoRunner, ColbertReranker):
    """A ColBERT re-ranker whose token encoder runs on OpenVINO (``--rerank-backend
    openvino``); the PyTorch model still loads (its tokenizer and settings, and the probe's
    reference). ``cache_dir`` is the conversion cache's root (default: ragline's cache);
    ``cache_path`` the passage token cache, as for the PyTorch class.

    The passage token cache is shared with the PyTorch backend: the matrices agree to
    rounding, as the probe checks.
    """

    def __init__(
        self,
        model: str | Path = "minilm",
        *,
        cache_path: Path | None = None,
        batch_size: int = 32,
        precision: str = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__(model, cache_path=cache_path, batch_size=batch_size)
        self.precision = precision
        self.cache_dir = cache_dir

    def graph_dir(self) -> Path:
        """The converted token encoder, keyed by the model's weights (an untrained start
        shares its directory with the bi-encoder), converted now if not cached."""
        from ragline.embed.openvino_convert import graph_entry, save_graph

        model = self.model
        variant = f"colbert-{model.fingerprint()[:16]}-f32-r{REVISION}"
        module = token_module(model.encoder, model.projection)
        return graph_entry(
            self.path,
            variant,
            lambda out: save_graph(module, out, ("input_ids", "attention_mask")),
            self.cache_dir,
        )

    @cached_property
    def compiled(self) -> Any:
        """The compiled graph, after the probe has accepted its MaxSim scores."""
        from ragline.embed.openvino_convert import compile_graph

        directory = self.graph_dir()
        compiled = compile_graph(directory, self.hint)
        self.probe_result = probe.checked_scores(
            f"{self.backend} ({self.hint})",
            self.hint,
            lambda pairs: self._pair_scores(
                pairs, lambda texts, query: self._infer(compiled, texts, query)
            ),
            lambda pairs: self._pair_scores(
                pairs, lambda texts, query: ColbertReranker._embed(self, texts, query=query)
            ),
            directory / f"probe-{self.hint}.json",
        )
        return compiled

    @staticmethod
    def _pair_scores(pairs: list[tuple[str, str]], embed: Any) -> NDArray[np.float32]:
        """MaxSim of each (query, passage) pair, tokens embedded by ``embed``."""
        scores = []
        for query, passage in pairs:
            q, q_counted = embed([query], query=True)
            p, p_counted = embed([passage], query=False)
            scores.append(maxsim(q[0] * q_counted[0][:, None], [p[0][p_counted[0]]])[0])
        return np.array(scores, dtype=np.float32)

    def _infer(
        self, compiled: Any, texts: list[str], query: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        ids, attention, counted = self.model._batch(texts, query=query)
        arrays = {"input_ids": ids.cpu().numpy(), "attention_mask": attention.cpu().numpy()}
        return self._request(compiled).infer(arrays)[0], counted.cpu().numpy()

    def _embed(
        self, texts: Sequence[str], *, query: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        return self._infer(self.compiled, list(texts), query)
