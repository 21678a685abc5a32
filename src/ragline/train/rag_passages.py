"""The passage side of end-to-end RAG training: what the questions retrieve, and the
passage vectors their retrieval scores are computed from.

- :class:`FrozenPassages`: the passage encoder does not train (the default, as in the
  RAG paper). The knowledge base's dense index finds the top-k chunks and their stored
  vectors give the scores, constant under the gradient.
- :class:`RefreshedPassages`: the passage encoder trains (as in REALM). Retrieval runs
  over an index of the stored chunks encoded by the passage encoder as it was at the last
  refresh; every ``refresh_every`` steps all of them are encoded again with the current
  weights, the new index is built beside the old one and replaces it in one assignment,
  so a search never sees a half-built index. The scores of the k retrieved passages are
  always computed by the current encoder, with gradient. How stale the index was is
  measured at each refresh.

Chunks of ``hidden`` documents (a test split's paragraphs) are never retrieved.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragline.errors import RaglineError

if TYPE_CHECKING:
    import numpy as np
    import torch
    from numpy.typing import NDArray

    from ragline.documents import Hit
    from ragline.index.base import DenseIndex
    from ragline.kb import KnowledgeBase

log = logging.getLogger(__name__)

# Texts -> unit vectors (differentiable unless called under torch.no_grad).
Embed = Callable[[Sequence[str]], "torch.Tensor"]

ENCODE_BATCH = 32
PROBE_QUERIES = 64


class FrozenPassages:
    """The knowledge base's frozen passages: its dense index finds the top-k chunk row ids,
    its stored vectors give the scores a gradient, its catalog the texts."""

    def __init__(self, kb: KnowledgeBase, hidden: Collection[str] = ()) -> None:
        from ragline.index.base import SearchParams

        self.kb = kb
        # The dense index as the KnowledgeBase keeps it (loaded or caught up from the
        # catalog); opened read-only, nothing is written back.
        self.index, _ = kb.indexes.ensure()
        self.rowids = kb.catalog.rowids_where({"doc_id": {"nin": sorted(hidden)}})
        self.hidden_chunks = kb.catalog.counts()[1] - len(self.rowids)
        if hidden and not self.hidden_chunks:
            log.warning(
                "%s: none of the %d held-out documents is in it; training sees every chunk",
                kb.path,
                len(hidden),
            )
        search = kb.config.search
        self.params = SearchParams(
            nprobe=search.nprobe,
            ef_search=search.ef_search,
            allowed=self.rowids if self.hidden_chunks else None,
        )

    def __len__(self) -> int:
        return len(self.rowids)

    def top_k(self, query_vectors: NDArray[np.float32], k: int) -> list[list[int]]:
        """Chunk row ids of the ``k`` best passages per query vector."""
        _, ids = self._search(query_vectors, k)
        rows = ids.tolist()
        if any(i < 0 for row in rows for i in row):
            raise RaglineError(f"{self.kb.path}: the dense index returned fewer than {k} hits")
        return rows

    def _search(
        self, query_vectors: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        return self.index.search(query_vectors, k, params=self.params)

    def vectors(self, rowids: Sequence[int]) -> torch.Tensor:
        """The stored vectors of ``rowids``, in that order, as a constant ``(k, dim)`` tensor."""
        import torch

        ids, matrix = self.kb.catalog.vectors(rowids)
        position = {rowid: n for n, rowid in enumerate(ids.tolist())}
        return torch.from_numpy(matrix[[position[r] for r in rowids]])

    def hits(self, rowids: Sequence[int]) -> list[Hit]:
        from ragline.documents import Hit

        chunks = self.kb.catalog.chunks(rowids)
        return [Hit(chunks[r], 0.0, n, "dense") for n, r in enumerate(rowids, start=1)]


@dataclass
class IndexSnapshot:
    """The passage vectors of every retrievable chunk as encoded at ``step``, and their index."""

    matrix: NDArray[np.float32]
    index: DenseIndex
    version: int
    step: int


class RefreshedPassages(FrozenPassages):
    """Passages scored by a passage encoder that trains; their index refreshed periodically.

    ``embed`` encodes passage texts with the encoder being trained (its document prefix
    applied). The first index is the knowledge base's stored vectors: the encoder starts
    as the knowledge base's embedder, which computed them. Every retrievable chunk's text
    is held in memory for the re-encoding.
    """

    def __init__(self, kb: KnowledgeBase, embed: Embed, hidden: Collection[str] = ()) -> None:
        from ragline.store.catalog import INDEXED_TEXT

        super().__init__(kb, hidden)
        self.embed = embed
        keep = set(self.rowids.tolist())
        self.texts: dict[int, str] = {}
        for ids, texts in kb.catalog.iter_rows(columns=INDEXED_TEXT):
            self.texts.update((r, t) for r, t in zip(ids.tolist(), texts, strict=True) if r in keep)
        # The stored vectors in ``self.rowids`` order (the catalog returns them in its own).
        stored = FrozenPassages.vectors(self, self.rowids.tolist()).numpy()
        self.snapshot = self._snapshot(stored, version=0, step=0)

    def _snapshot(self, matrix: NDArray[np.float32], *, version: int, step: int) -> IndexSnapshot:
        from ragline.config import IndexConfig
        from ragline.index.registry import DENSE_INDEXES

        backend = self.kb.config.index.backend
        settings = IndexConfig(backend=backend)  # the default structure for this size
        index = DENSE_INDEXES.load(backend).create(matrix.shape[1], settings, len(matrix))
        index.add(self.rowids, matrix)
        return IndexSnapshot(matrix, index, version, step)

    def _search(
        self, query_vectors: NDArray[np.float32], k: int
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        return self.snapshot.index.search(query_vectors, k)

    def vectors(self, rowids: Sequence[int]) -> torch.Tensor:
        """``rowids``' passages encoded by the current encoder, ``(k, dim)``, with gradient."""
        return self.embed([self.texts[r] for r in rowids])

    def encode_all(self) -> NDArray[np.float32]:
        """Every retrievable chunk encoded by the current weights (no gradient)."""
        import numpy as np
        import torch

        texts = [self.texts[r] for r in self.rowids.tolist()]
        with torch.no_grad():
            parts = [
                self.embed(texts[lo : lo + ENCODE_BATCH]).cpu().numpy()
                for lo in range(0, len(texts), ENCODE_BATCH)
            ]
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def refresh(self, step: int, probe: NDArray[np.float32], k: int) -> dict[str, Any]:
        """Re-encode every chunk, build the new index aside, then swap it in.

        ``probe`` holds query vectors from the current query encoder: the share of their
        top-``k`` that the stale index got wrong is reported, with the passages' mean
        cosine drift and how many steps the stale index served.
        """
        import numpy as np

        began = time.perf_counter()
        old = self.snapshot
        fresh = self.encode_all()
        new = self._snapshot(fresh, version=old.version + 1, step=step)
        record: dict[str, Any] = {
            "step": step,
            "index_version": new.version,
            "stale_steps": step - old.step,
            "passage_drift": round(float(1.0 - np.mean(np.sum(old.matrix * fresh, axis=1))), 6),
        }
        if len(probe):
            k = min(k, len(self.rowids))
            _, before = old.index.search(probe, k)
            _, after = new.index.search(probe, k)
            overlap = [len(set(a) & set(b)) / k for a, b in zip(before, after, strict=True)]
            record["stale_top_k"] = round(1.0 - float(np.mean(overlap)), 4)
        self.snapshot = new
        record["refresh_seconds"] = round(time.perf_counter() - began, 2)
        return record

    def state_dict(self) -> dict[str, Any]:
        """The index snapshot, for a checkpoint (a resumed run retrieves what this one did)."""
        import torch

        snap = self.snapshot
        return {"matrix": torch.from_numpy(snap.matrix), "version": snap.version, "step": snap.step}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        matrix = state["matrix"].numpy()
        self.snapshot = self._snapshot(matrix, version=state["version"], step=state["step"])
