"""Incremental BM25: bm25s tokenization and scoring formula, with exact add and delete.

bm25s precomputes IDF-weighted scores per (document, term), so any add or delete forces a
full rebuild; here raw term frequencies are kept and IDF and average length are derived at
query time from the live documents, so adding or deleting one chunk costs work proportional
to that chunk and scores always equal a fresh bm25s index (Lucene variant) over the live set.
New rows go to a small delta segment that is merged into the main segment from time to time.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline.files import atomic_write
from ragline.index.base import SearchParams

if TYPE_CHECKING:
    import scipy.sparse as sp

    from ragline.config import IndexConfig

FILE_NAME = "bm25.npz"
MERGE_MIN_ROWS = 2048
MERGE_FRACTION = 0.1
COMPACT_FRACTION = 0.2
"""Compact once this fraction of the rows is deleted."""


class BM25Index:
    """BM25 over chunk texts, keyed by int64 ids (ascending as they are added).

    >>> index = BM25Index()
    >>> index.add(np.array([1, 2, 3]), ["cats purr", "dogs bark loudly", "cats and dogs"])
    >>> scores, ids = index.search(["barking dog"], 2)
    >>> ids.tolist()
    [[2, 3]]
    >>> index.remove(np.array([2]))
    >>> index.search(["barking dog"], 2)[1].tolist()
    [[3, -1]]
    """

    file_name = FILE_NAME

    def __init__(
        self, *, k1: float = 0.9, b: float = 0.4, stemmer: str = "english", stopwords: str = "en"
    ) -> None:
        self.k1 = k1
        self.b = b
        self.stemmer = stemmer
        self.stopwords = stopwords
        self.generation = 0
        self.max_rowid = 0
        import scipy.sparse as sp

        self._tokenizer = self._new_tokenizer()
        self._main: sp.csc_matrix = sp.csc_matrix((0, 0), dtype=np.float32)
        self._delta_rows: list[tuple[NDArray[np.int32], NDArray[np.float32]]] = []
        self._delta: sp.csc_matrix | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=np.float32)
        self._alive = np.zeros(0, dtype=bool)
        self._stats: tuple[int, float] | None = None

    @classmethod
    def create(cls, settings: IndexConfig) -> BM25Index:
        return cls(
            k1=settings.bm25_k1,
            b=settings.bm25_b,
            stemmer=settings.bm25_stemmer,
            stopwords=settings.bm25_stopwords,
        )

    def fits(self, settings: IndexConfig) -> bool:
        return (self.k1, self.b, self.stemmer, self.stopwords) == (
            settings.bm25_k1,
            settings.bm25_b,
            settings.bm25_stemmer,
            settings.bm25_stopwords,
        )

    def _new_tokenizer(self) -> Any:
        from bm25s.tokenization import Tokenizer

        stemmer = None
        if self.stemmer:
            import Stemmer

            stemmer = Stemmer.Stemmer(self.stemmer)
        return Tokenizer(stopwords=self.stopwords or None, stemmer=stemmer)

    def __len__(self) -> int:
        return int(self._alive.sum())

    @property
    def dead_fraction(self) -> float:
        return 1.0 - len(self) / len(self._alive) if len(self._alive) else 0.0

    @property
    def needs_compaction(self) -> bool:
        return self.dead_fraction > COMPACT_FRACTION

    def _tokenize(self, texts: Sequence[str], update: bool) -> list[list[int]]:
        return self._tokenizer.tokenize(
            list(texts), update_vocab=update, return_as="ids", show_progress=False
        )

    def add(self, ids: NDArray[np.int64], texts: Sequence[str]) -> None:
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        if len(self._ids) and ids.min() <= self._ids[-1]:
            raise ValueError("BM25Index ids must be added in ascending order")
        empty = self._tokenizer.word_to_id.get("")
        lengths = np.zeros(len(ids), dtype=np.float32)
        for i, tokens in enumerate(self._tokenize(texts, update=True)):
            terms, counts = np.unique(
                np.array([t for t in tokens if t != empty], dtype=np.int32), return_counts=True
            )
            self._delta_rows.append((terms, counts.astype(np.float32)))
            lengths[i] = counts.sum()
        self._ids = np.concatenate([self._ids, ids])
        self._lengths = np.concatenate([self._lengths, lengths])
        self._alive = np.concatenate([self._alive, np.ones(len(ids), dtype=bool)])
        self.max_rowid = max(self.max_rowid, int(ids.max()))
        self._delta = None
        self._stats = None
        if len(self._delta_rows) > max(MERGE_MIN_ROWS, MERGE_FRACTION * self._main.shape[0]):
            self._merge()

    def remove(self, ids: NDArray[np.int64]) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        positions = np.searchsorted(self._ids, ids)
        inside = positions < len(self._ids)
        positions, ids = positions[inside], ids[inside]
        self._alive[positions[self._ids[positions] == ids]] = False
        self._stats = None

    def _vocab_size(self) -> int:
        return len(self._tokenizer.stem_to_sid or self._tokenizer.word_to_id)

    def _delta_matrix(self) -> sp.csc_matrix:
        import scipy.sparse as sp

        if self._delta is None:
            rows = [np.full(len(t), i, dtype=np.int32) for i, (t, _) in enumerate(self._delta_rows)]
            terms = [t for t, _ in self._delta_rows]
            counts = [c for _, c in self._delta_rows]
            shape = (len(self._delta_rows), self._vocab_size())
            self._delta = sp.csc_matrix(
                (
                    np.concatenate(counts) if counts else np.zeros(0, np.float32),
                    (
                        np.concatenate(rows) if rows else np.zeros(0, np.int32),
                        np.concatenate(terms) if terms else np.zeros(0, np.int32),
                    ),
                ),
                shape=shape,
                dtype=np.float32,
            )
        return self._delta

    def _merge(self) -> None:
        """Fold the delta segment into the main one, dropping deleted rows."""
        import scipy.sparse as sp

        width = self._vocab_size()
        main = self._main
        main.resize((main.shape[0], width))
        delta = self._delta_matrix()
        merged = sp.vstack([main, delta], format="csr")
        keep = self._alive
        self._main = sp.csc_matrix(merged[keep])
        self._ids = self._ids[keep]
        self._lengths = self._lengths[keep]
        self._alive = self._alive[keep]
        self._delta_rows = []
        self._delta = None

    def compact(self) -> None:
        self._merge()

    def _statistics(self) -> tuple[int, float]:
        if self._stats is None:
            n = len(self)
            avg = float(self._lengths[self._alive].sum()) / n if n else 1.0
            self._stats = (n, avg or 1.0)
        return self._stats

    def _postings(self, term: int) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """Positions (into the id array) and term frequencies of one term's live rows."""
        parts_rows, parts_tfs = [], []
        main_rows = self._main.shape[0]
        if term < self._main.shape[1]:
            start, end = self._main.indptr[term], self._main.indptr[term + 1]
            parts_rows.append(self._main.indices[start:end].astype(np.int64))
            parts_tfs.append(self._main.data[start:end])
        if self._delta_rows:
            delta = self._delta_matrix()
            if term < delta.shape[1]:
                start, end = delta.indptr[term], delta.indptr[term + 1]
                parts_rows.append(delta.indices[start:end].astype(np.int64) + main_rows)
                parts_tfs.append(delta.data[start:end])
        if not parts_rows:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        rows = np.concatenate(parts_rows)
        tfs = np.concatenate(parts_tfs)
        live = self._alive[rows]
        return rows[live], tfs[live]

    def scores(self, query: str) -> NDArray[np.float32]:
        """BM25 score of every stored row (deleted rows score 0), aligned with ``ids``."""
        n, avg_length = self._statistics()
        totals = np.zeros(len(self._ids), dtype=np.float32)
        empty = self._tokenizer.word_to_id.get("")
        for term in self._tokenize([query], update=False)[0]:
            if term == empty:
                continue
            rows, tfs = self._postings(term)
            if not len(rows):
                continue
            df = len(rows)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            norm = self.k1 * (1 - self.b + self.b * self._lengths[rows] / avg_length)
            totals[rows] += idf * tfs / (norm + tfs)
        return totals

    def search(
        self, queries: Sequence[str], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        out_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        out_ids = np.full((len(queries), k), -1, dtype=np.int64)
        mask = None
        if params is not None and params.allowed is not None:
            mask = np.isin(self._ids, params.allowed)
        for qi, query in enumerate(queries):
            totals = self.scores(query)
            if mask is not None:
                totals[~mask] = 0.0
            candidates = np.flatnonzero(totals > 0)
            if len(candidates) > k:
                top = np.argpartition(-totals[candidates], k - 1)[:k]
                candidates = candidates[top]
            order = candidates[np.lexsort((self._ids[candidates], -totals[candidates]))]
            out_scores[qi, : len(order)] = totals[order]
            out_ids[qi, : len(order)] = self._ids[order]
        return out_scores, out_ids

    def save(self, path: Path) -> None:
        self._merge()
        main = self._main
        params = {
            "k1": self.k1,
            "b": self.b,
            "stemmer": self.stemmer,
            "stopwords": self.stopwords,
            "generation": self.generation,
            "max_rowid": self.max_rowid,
            "shape": list(main.shape),
        }
        vocab = {
            "word_to_stem": self._tokenizer.word_to_stem,
            "stem_to_sid": self._tokenizer.stem_to_sid,
            "word_to_id": self._tokenizer.word_to_id,
        }

        def write(tmp: Path) -> None:
            with open(tmp, "wb") as f:
                np.savez(
                    f,
                    data=main.data,
                    indices=main.indices,
                    indptr=main.indptr,
                    ids=self._ids,
                    lengths=self._lengths,
                    alive=self._alive,
                    params=np.array(json.dumps(params)),
                    vocab=np.array(json.dumps(vocab)),
                )

        atomic_write(path, write)

    @classmethod
    def load(cls, path: Path) -> BM25Index:
        import scipy.sparse as sp

        with np.load(path, allow_pickle=False) as data:
            params = json.loads(str(data["params"]))
            self = cls(
                k1=params["k1"],
                b=params["b"],
                stemmer=params["stemmer"],
                stopwords=params["stopwords"],
            )
            self.generation = params["generation"]
            self.max_rowid = params["max_rowid"]
            self._main = sp.csc_matrix(
                (data["data"], data["indices"], data["indptr"]), shape=tuple(params["shape"])
            )
            self._ids = data["ids"]
            self._lengths = data["lengths"]
            self._alive = data["alive"]
            vocab = json.loads(str(data["vocab"]))
        self._tokenizer.word_to_stem = vocab["word_to_stem"]
        self._tokenizer.stem_to_sid = vocab["stem_to_sid"]
        self._tokenizer.word_to_id = vocab["word_to_id"]
        return self
