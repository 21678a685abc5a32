"""Sparse index on Milvus's own BM25: a collection whose analysed text field feeds a BM25
Function into a SPARSE_FLOAT_VECTOR with a SPARSE_INVERTED_INDEX.

The analysed field holds ragline's own analysis of each chunk (the bm25s tokenizer with the
configured stop words and Snowball stemmer, terms joined by spaces), and queries are
analysed the same way, so Milvus Lite (whose analyzer has no stemmer) and a server score
the same terms as :class:`ragline.index.bm25.BM25Index` with the same ``k1`` and ``b``.
Scores still differ from it where Milvus computes IDF and average length per segment
(Milvus Lite always does), not over the whole live set.

The collection also carries what a search result needs (chunk id and text, document id,
span, header and metadata), published from the catalog when the index is saved, so a node
with no catalog can serve results from it (:mod:`ragline.index.milvus_view`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.documents import Chunk
from ragline.index.base import SearchParams
from ragline.index.milvus_collection import (
    MAX_LIMIT,
    Pointer,
    batches,
    check_collection,
    connect,
    count,
    hits_to_arrays,
    id_filter,
    open_existing,
    recreate,
)

if TYPE_CHECKING:
    from ragline.config import IndexConfig

FILE_NAME = "sparse.milvus.json"
KIND = "text"
MAX_TEXT = 65_535
"""Longest VARCHAR Milvus stores (bytes)."""
PAYLOAD = ("chunk_id", "doc_id", "text", "start", "end", "header", "metadata")
"""The fields a search result is made from (all nullable until published)."""


class MilvusBM25Index:
    """BM25 in the Milvus collection ``<collection>_text``, keyed by chunk row ids.

    >>> import tempfile
    >>> from ragline.config import IndexConfig
    >>> uri = tempfile.mkdtemp() + "/doc.db"
    >>> index = MilvusBM25Index.create(IndexConfig(sparse_backend="milvus", uri=uri))
    >>> index.add(np.array([1, 2, 3]), ["cats purr", "dogs bark loudly", "cats and dogs"])
    >>> index.search(["barking dog"], 2)[1].tolist()
    [[2, 3]]
    """

    file_name = FILE_NAME

    def __init__(self, uri: str, collection: str, settings: dict[str, Any]) -> None:
        self.uri = uri
        self.collection = check_collection(collection)
        self.settings = settings
        self.generation = 0
        self.max_rowid = 0
        self.published_rowid = 0
        self.name = f"{collection}_{KIND}"
        self._client = connect(uri)
        self._tokenizer = _tokenizer(settings["stemmer"], settings["stopwords"])

    @classmethod
    def create(cls, settings: IndexConfig) -> MilvusBM25Index:
        """An empty collection (an existing one of that name is dropped)."""
        self = cls(settings.uri, settings.collection, _bm25_settings(settings))
        self._make_collection()
        return self

    def _make_collection(self) -> None:
        pymilvus = require("pymilvus", "milvus")
        data_type = pymilvus.DataType
        schema = self._client.create_schema(auto_id=False)
        schema.add_field("id", data_type.INT64, is_primary=True)
        schema.add_field("terms", data_type.VARCHAR, max_length=MAX_TEXT, enable_analyzer=True)
        schema.add_field("sparse", data_type.SPARSE_FLOAT_VECTOR)
        for name in ("chunk_id", "doc_id", "text", "header"):
            schema.add_field(name, data_type.VARCHAR, max_length=MAX_TEXT, nullable=True)
        schema.add_field("start", data_type.INT64, nullable=True)
        schema.add_field("end", data_type.INT64, nullable=True)
        schema.add_field("metadata", data_type.JSON, nullable=True)
        schema.add_function(
            pymilvus.Function(
                name="bm25",
                function_type=pymilvus.FunctionType.BM25,
                input_field_names=["terms"],
                output_field_names=["sparse"],
            )
        )
        index_params = self._client.prepare_index_params()
        index_params.add_index(
            "sparse",
            index_type="SPARSE_INVERTED_INDEX",
            metric_type="BM25",
            # Nested under "params": Milvus Lite reads build parameters only from that key
            # (flat ones, as pymilvus 3 sends them, are dropped: BM25 would use 1.5/0.75).
            params={"params": {"bm25_k1": self.settings["k1"], "bm25_b": self.settings["b"]}},
        )
        recreate(self._client, self.name, schema, index_params)

    @classmethod
    def load(cls, path: Path) -> MilvusBM25Index:
        pointer = Pointer.load(path, KIND)
        settings = dict(pointer.settings)
        published = int(settings.pop("published_rowid", 0))
        self = cls(pointer.uri, pointer.collection, settings)
        open_existing(self._client, self.name)
        self.generation, self.max_rowid = pointer.generation, pointer.max_rowid
        self.published_rowid = published
        return self

    @classmethod
    def attach(cls, settings: IndexConfig) -> MilvusBM25Index:
        """The existing collection ``settings`` names, as it is (a search node's view)."""
        self = cls(settings.uri, settings.collection, _bm25_settings(settings))
        open_existing(self._client, self.name)
        return self

    def rowids_where(self, expression: str) -> NDArray[np.int64]:
        """Sorted ids of the published rows that match the Milvus ``expression``."""
        published = "chunk_id is not null"
        where = f"({expression}) and {published}" if expression else published
        rows = self._client.query(self.name, filter=where, output_fields=["id"])
        return np.array(sorted(int(row["id"]) for row in rows), dtype=np.int64)

    def fits(self, settings: IndexConfig) -> bool:
        return (settings.uri, settings.collection) == (self.uri, self.collection) and (
            _bm25_settings(settings) == self.settings
        )

    @property
    def needs_compaction(self) -> bool:
        """Never: Milvus compacts deleted rows itself."""
        return False

    def compact(self) -> None:
        """Nothing to do (Milvus compacts on its own)."""

    def __len__(self) -> int:
        return count(self._client, self.name)

    def analyse(self, texts: Sequence[str]) -> list[str]:
        """Each text as its stemmed terms (stop words dropped), joined by spaces."""
        tokens = self._tokenizer.tokenize(
            list(texts), update_vocab=True, return_as="string", show_progress=False
        )
        return [" ".join(t for t in terms if t) for terms in tokens]

    def add(self, ids: NDArray[np.int64], texts: Sequence[str]) -> None:
        """Upsert the texts' terms (the payload follows on ``save``)."""
        if len(ids) == 0:
            return
        ids = np.asarray(ids, dtype=np.int64)
        rows = [
            {"id": i, "terms": terms}
            for i, terms in zip(ids.tolist(), self.analyse(texts), strict=True)
        ]
        for start in range(0, len(rows), 1000):
            self._client.upsert(self.name, rows[start : start + 1000])
        self.max_rowid = max(self.max_rowid, int(ids.max()))

    def remove(self, ids: NDArray[np.int64]) -> None:
        for part in batches(np.asarray(ids, dtype=np.int64)):
            self._client.delete(self.name, ids=[int(i) for i in part])

    def search(
        self,
        queries: Sequence[str],
        k: int,
        *,
        params: SearchParams | None = None,
        expression: str = "",
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """Top ``k`` per query among the ``params.allowed`` ids (when given) that also match
        the Milvus ``expression`` (when given: a reader's metadata filter)."""
        clauses = [expression] if expression else []
        if params is not None and params.allowed is not None:
            if len(params.allowed) == 0:
                return hits_to_arrays([], len(queries), k, bm25=True)
            clauses.append(id_filter(params.allowed))
        results = self._client.search(
            self.name,
            data=self.analyse(queries),
            anns_field="sparse",
            limit=min(k, MAX_LIMIT),
            filter=" and ".join(f"({c})" for c in clauses),
            output_fields=["id"],
            search_params={"metric_type": "BM25"},
        )
        return hits_to_arrays(results, len(queries), k, bm25=True)

    def publish(self, chunks: dict[int, Chunk]) -> None:
        """Write the search-result fields of these rows (the catalog's chunks by row id)."""
        items = sorted(chunks.items())
        analysed = self.analyse([chunk.indexed_text for _, chunk in items])
        rows = [
            {
                "id": rowid,
                "terms": terms,
                "chunk_id": chunk.id,
                "doc_id": chunk.doc_id,
                "text": chunk.text,
                "start": chunk.start,
                "end": chunk.end,
                "header": chunk.header,
                "metadata": chunk.metadata,
            }
            for (rowid, chunk), terms in zip(items, analysed, strict=True)
        ]
        for start in range(0, len(rows), 500):
            self._client.upsert(self.name, rows[start : start + 500])

    def chunks(self, ids: Sequence[int]) -> dict[int, Chunk]:
        """The published chunks of these row ids (rows not published yet are absent)."""
        found: dict[int, Chunk] = {}
        for part in batches(np.asarray(list(ids), dtype=np.int64)):
            rows = self._client.get(self.name, ids=part.tolist(), output_fields=list(PAYLOAD))
            for row in rows:
                if row.get("chunk_id") is None:
                    continue
                found[int(row["id"])] = Chunk(
                    row["chunk_id"],
                    row["doc_id"],
                    row["text"],
                    int(row["start"]),
                    int(row["end"]),
                    row["metadata"] or {},
                    row["header"] or "",
                )
        return found

    def save(self, path: Path) -> None:
        """Publish the rows added since the last save from the catalog beside ``path`` (when
        there is one), flush, then write the pointer."""
        self._publish_from_catalog(path.parent)
        self._client.flush(self.name)
        settings = {**self.settings, "published_rowid": self.published_rowid}
        Pointer(KIND, self.uri, self.collection, self.generation, self.max_rowid, settings).save(
            path
        )

    def _publish_from_catalog(self, kb_path: Path) -> None:
        from ragline.store.catalog import Catalog
        from ragline.store.layout import CATALOG_FILE

        file = kb_path / CATALOG_FILE
        if not file.is_file() or self.published_rowid >= self.max_rowid:
            return
        catalog = Catalog(file)
        try:
            for ids, _ in catalog.iter_rows(after=self.published_rowid, columns="id", batch=2000):
                ids = ids[ids <= self.max_rowid]
                self.publish(catalog.chunks(ids.tolist()))
        finally:
            catalog.close()
        self.published_rowid = self.max_rowid


def _bm25_settings(settings: IndexConfig) -> dict[str, Any]:
    return {
        "k1": settings.bm25_k1,
        "b": settings.bm25_b,
        "stemmer": settings.bm25_stemmer,
        "stopwords": settings.bm25_stopwords,
    }


def _tokenizer(stemmer: str, stopwords: str) -> Any:
    """The bm25s tokenizer :class:`ragline.index.bm25.BM25Index` makes for these settings."""
    from ragline.index.bm25 import BM25Index

    return BM25Index(stemmer=stemmer, stopwords=stopwords)._tokenizer
