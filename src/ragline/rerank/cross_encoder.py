"""Cross-encoder re-ranker: query and passage read together by one transformer, one score."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline.documents import Hit
from ragline.errors import RaglineError
from ragline.rerank.base import PairScoringReranker, reorder

log = logging.getLogger(__name__)

MEMO_PAIRS = 500_000


def is_cross_encoder_dir(path: Path) -> bool:
    """Whether ``path`` holds a cross-encoder: a sequence-classification model, or a
    sentence-transformers CrossEncoder made of modules (e.g. a head on pooled token states)."""
    import json

    def read(name: str) -> dict[str, Any]:
        try:
            value = json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return value if isinstance(value, dict) else {}

    if read("config_sentence_transformers.json").get("model_type") == "CrossEncoder":
        return True
    architectures = read("config.json").get("architectures") or []
    return any(str(a).endswith("ForSequenceClassification") for a in architectures)


class CrossEncoderReranker(PairScoringReranker):
    """sentence-transformers' CrossEncoder from a local directory, loaded on first use.

    ``max_length`` defaults to the length the model was saved with (what it was trained to
    read); pass one to trade accuracy for speed."""

    def __init__(
        self,
        model: str | Path,
        *,
        batch_size: int = 32,
        max_length: int | None = None,
        precision: str = "auto",
        device: str = "cpu",
    ) -> None:
        self.path = Path(model).expanduser().resolve()
        if not is_cross_encoder_dir(self.path):
            raise RaglineError(f"{model}: not a cross-encoder model directory")
        self.name = str(self.path)
        self.batch_size = batch_size
        self.max_length = max_length
        self.precision = precision
        self.device = device
        self._memo: dict[tuple[str, str], float] = {}

    @staticmethod
    def reads(path: Path) -> bool:
        """Whether ``path`` is a model directory this class runs (for the registry)."""
        return is_cross_encoder_dir(path)

    @classmethod
    def from_dir(cls, path: Path, cache_dir: Path | None = None) -> CrossEncoderReranker:
        """The re-ranker for model directory ``path`` (it keeps no cache on disk)."""
        return cls(path)

    @cached_property
    def model(self) -> Any:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers.cross_encoder import CrossEncoder

        log.info("loading cross-encoder %s", self.path)
        length = {"max_length": self.max_length} if self.max_length else {}
        return CrossEncoder(str(self.path), device=self.device, **length)

    def _predict(self, pairs: list[tuple[str, str]]) -> NDArray[np.float32]:
        """Scores of (query, passage) pairs; pairs scored before in this process are not
        scored again (an evaluation comparing orderings of the same candidates pays once)."""
        todo = list(dict.fromkeys(pair for pair in pairs if pair not in self._memo))
        if todo:
            fresh = self._score_pairs(todo)
            if len(self._memo) + len(todo) > MEMO_PAIRS:
                self._memo.clear()
            self._memo.update(zip(todo, fresh.tolist(), strict=True))
        return np.array([self._memo[pair] for pair in pairs], dtype=np.float32)

    def _score_pairs(self, pairs: list[tuple[str, str]]) -> NDArray[np.float32]:
        """One score per pair, computed now (the memo aside)."""
        from ragline.precision import autocast

        with autocast(self.precision):
            scores = self.model.predict(
                pairs, batch_size=self.batch_size, convert_to_tensor=True, show_progress_bar=False
            )
        return scores.float().cpu().reshape(-1).numpy()

    def score(self, query: str, passages: Sequence[str]) -> NDArray[np.float32]:
        return self._predict([(query, p) for p in passages])

    def rerank_many(
        self, queries: Sequence[str], hits: Sequence[Sequence[Hit]], top_k: int | None = None
    ) -> list[list[Hit]]:
        """All queries' pairs in one batched prediction."""
        pairs = [
            (q, h.chunk.indexed_text) for q, row in zip(queries, hits, strict=True) for h in row
        ]
        scores = self._predict(pairs) if pairs else np.zeros(0, dtype=np.float32)
        out, start = [], 0
        for row in hits:
            out.append(reorder(row, scores[start : start + len(row)], top_k) if row else [])
            start += len(row)
        return out
