"""ColBERT late interaction: re-rank by MaxSim over per-token embeddings.

A query and a passage are encoded apart, into one L2-normalised vector per token (a
BERT-family encoder, then a linear projection to ``dim``). Their score sums, over the query's
tokens, each token's best dot product with any passage token (MaxSim). Queries get a marker
token and are padded with [MASK] tokens to ``query_length``: the model turns those into soft
expansion terms. Passages get their own marker, are cut at ``document_length`` and their
punctuation tokens are left out of MaxSim. A passage's matrix does not depend on the query,
so an optional SQLite file keeps it for the next query that retrieves the same passage.

Reads PyLate directories, Stanford ColBERT directories (colbertv2.0) and, as an untrained
start, any sentence-transformers bi-encoder; writes the PyLate format. The parts:
:mod:`~ragline.rerank.colbert_checkpoint` (settings and formats),
:mod:`~ragline.rerank.colbert_model` (the model), :mod:`~ragline.rerank.maxsim` (the score)
and :mod:`~ragline.rerank.token_cache` (the passage cache).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ragline.errors import RaglineError
from ragline.rerank.base import PairScoringReranker
from ragline.rerank.colbert_checkpoint import is_colbert_checkpoint, resolve_colbert
from ragline.rerank.colbert_model import ColbertModel
from ragline.rerank.maxsim import maxsim
from ragline.rerank.token_cache import TokenCache

log = logging.getLogger(__name__)


class ColbertReranker(PairScoringReranker):
    """Re-rank with a ColBERT model: MaxSim between query and passage token embeddings.

    ``model`` is a PyLate or Stanford ColBERT directory, a bi-encoder (``"minilm"`` or a
    sentence-transformers directory) as an untrained start, or a ColbertModel already in
    memory (the trainer's). A model given by name or path loads on first use.
    With ``cache_path``, passage token matrices persist in a SQLite file, so passages seen
    before are not encoded again.

    >>> reranker = ColbertReranker("minilm")
    >>> reranker.name
    'colbert:sentence-transformers/all-MiniLM-L6-v2'
    """

    def __init__(
        self,
        model: str | Path | ColbertModel = "minilm",
        *,
        cache_path: Path | None = None,
        batch_size: int = 32,
        device: str = "cpu",
    ) -> None:
        self._model: ColbertModel | None = None
        if isinstance(model, ColbertModel):
            self.path, self.name, self._model = Path(model.name), model.name, model
        else:
            self.path, _, self.name = resolve_colbert(model)
        self.cache_path = Path(cache_path) if cache_path is not None else None
        self.batch_size = batch_size
        self.device = device
        self._cache: TokenCache | None = None

    @staticmethod
    def reads(path: Path) -> bool:
        """Whether ``path`` is a model directory this class runs (for the registry)."""
        return is_colbert_checkpoint(path)

    @classmethod
    def from_dir(cls, path: Path, cache_dir: Path | None = None) -> ColbertReranker:
        """The re-ranker for checkpoint ``path``, its passage token cache in ``cache_dir``
        (one file per checkpoint location)."""
        key = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
        cache = cache_dir / f"colbert-cache-{key}.sqlite" if cache_dir is not None else None
        return cls(path, cache_path=cache)

    @property
    def model(self) -> ColbertModel:
        if self._model is None:
            log.info("loading ColBERT model %s", self.path)
            self._model = ColbertModel.load(self.path, device=self.device)
        return self._model

    @property
    def cache(self) -> TokenCache | None:
        if self._cache is None and self.cache_path is not None:
            self._cache = TokenCache(self.cache_path, self.model.fingerprint())
        return self._cache

    def _embed(
        self, texts: Sequence[str], *, query: bool
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        """(b, n, dim) normalised token embeddings of a batch of ``texts`` and the (b, n)
        mask of the tokens MaxSim counts (the one step a faster runtime replaces)."""
        import torch

        model = self.model
        model.train(False)
        with torch.inference_mode():
            ids, attention, counted = model._batch(texts, query=query)
            tokens = model._embed(ids, attention)
        return tokens.float().cpu().numpy(), counted.cpu().numpy()

    def encode_query(self, query: str) -> NDArray[np.float32]:
        """(query_length, dim) token embeddings of ``query``; those MaxSim does not count
        are zero."""
        tokens, counted = self._embed([query], query=True)
        return tokens[0] * counted[0][:, None]

    def _encode_documents(self, texts: Sequence[str]) -> list[NDArray[np.float16]]:
        """Counted-token matrices of ``texts``, encoded in batches of similar length."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list[NDArray[np.float16]] = [np.empty((0, 0), np.float16)] * len(texts)
        for start in range(0, len(order), self.batch_size):
            part = order[start : start + self.batch_size]
            tokens, counted = self._embed([texts[i] for i in part], query=False)
            for i, matrix, mask in zip(part, tokens, counted, strict=True):
                out[i] = matrix[mask].astype(np.float16)
        return out

    def encode_passages(self, texts: Sequence[str]) -> list[NDArray[np.float16]]:
        """Token matrices of ``texts`` (float16, punctuation left out), from the cache when
        there is one; only the passages it lacks are encoded (and then stored)."""
        cache = self.cache
        found = cache.get(texts) if cache is not None else {}
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing:
            fresh = dict(zip(missing, self._encode_documents(missing), strict=True))
            if cache is not None:
                cache.put(fresh)
            found |= fresh
        return [found[t] for t in texts]

    def fill_cache(self, texts: Sequence[str], *, chunk: int = 1024) -> int:
        """Encode and store the passages of ``texts`` the cache lacks, ``chunk`` at a time
        (bounded memory, progress kept if interrupted): a knowledge base calls this for all
        its chunks ahead of queries. Returns how many passages were encoded."""
        cache = self.cache
        if cache is None:
            raise RaglineError("fill_cache needs a ColbertReranker made with a cache_path")
        missing = cache.missing(texts)
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            cache.put(dict(zip(part, self._encode_documents(part), strict=True)))
            log.info("ColBERT cache: %d/%d passages encoded", start + len(part), len(missing))
        return len(missing)

    def score(self, query: str, passages: Sequence[str]) -> NDArray[np.float32]:
        if not passages:
            return np.zeros(0, dtype=np.float32)
        return maxsim(self.encode_query(query), self.encode_passages(passages))
