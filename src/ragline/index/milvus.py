"""Dense index in a Milvus collection (Milvus Lite file or a Milvus server), addressed by
the catalog's int64 chunk row ids.

The structure is given by the same factory strings as FAISS, mapped to Milvus index types:
``Flat`` -> FLAT, ``IVF<n>,Flat`` -> IVF_FLAT (``nlist`` n), ``HNSW<M>`` -> HNSW, ``auto`` ->
FLAT below 200k vectors and HNSW32 above (as for FAISS); ``AUTOINDEX`` lets a managed server
choose. ``nprobe`` and ``ef_search`` are passed per query (Milvus Lite ignores them).
Deletion is native, so the index never needs a rebuild; the keeper rebuilds it from the
stored vectors only when it is missing or its settings changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.errors import RaglineError
from ragline.index.base import SearchParams, query_matrix
from ragline.index.faiss import nlist, resolve_factory
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

FILE_NAME = "dense.milvus.json"
EXACT_FACTORY = "Flat"
"""Milvus's exact structure for ``"auto"``: FLAT, which `index_type` maps it to."""
KIND = "dense"


def index_type(factory: str) -> tuple[str, dict[str, int]]:
    """The Milvus index type and build parameters for a factory string.

    >>> index_type("HNSW32"), index_type("IVF256,Flat"), index_type("Flat")
    (('HNSW', {'M': 32, 'efConstruction': 200}), ('IVF_FLAT', {'nlist': 256}), ('FLAT', {}))
    """
    if factory == "Flat":
        return "FLAT", {}
    if factory == "AUTOINDEX":
        return "AUTOINDEX", {}
    if factory.startswith("HNSW") and factory[4:].isdigit():
        return "HNSW", {"M": int(factory[4:]), "efConstruction": 200}
    if factory.startswith("IVF") and factory.endswith(",Flat"):
        return "IVF_FLAT", {"nlist": nlist(factory)}
    raise RaglineError(
        f"index factory {factory!r}: Milvus takes Flat, HNSW<M>, IVF<nlist>,Flat, AUTOINDEX or auto"
    )


class MilvusIndex:
    """Nearest neighbours by inner product in the Milvus collection ``<collection>_dense``.

    >>> import tempfile
    >>> from ragline.config import IndexConfig
    >>> uri = tempfile.mkdtemp() + "/doc.db"
    >>> index = MilvusIndex.create(2, IndexConfig(backend="milvus", uri=uri, factory="Flat"), 2)
    >>> index.add(np.array([7, 9]), np.array([[1, 0], [0, 1]], dtype=np.float32))
    >>> index.remove(np.array([9]))
    >>> index.search(np.array([[0.6, 0.8]], dtype=np.float32), 2)[1].tolist()
    [[7, -1]]
    """

    file_name = FILE_NAME

    def __init__(self, dim: int, uri: str, collection: str, factory: str) -> None:
        self.dim = dim
        self.uri = uri
        self.collection = check_collection(collection)
        self.factory = factory
        self.generation = 0
        self.max_rowid = 0
        self._client = connect(uri)
        self.name = f"{collection}_{KIND}"

    @classmethod
    def create(cls, dim: int, settings: IndexConfig, size: int) -> MilvusIndex:
        """An empty collection (an existing one of that name is dropped) with the index
        ``settings.factory`` asks for."""
        factory = resolve_factory(settings.factory, size, EXACT_FACTORY)
        self = cls(dim, settings.uri, settings.collection, factory)
        pymilvus = require("pymilvus", "milvus")
        schema = self._client.create_schema(auto_id=False)
        schema.add_field("id", pymilvus.DataType.INT64, is_primary=True)
        schema.add_field("vector", pymilvus.DataType.FLOAT_VECTOR, dim=dim)
        kind, params = index_type(self.factory)
        index_params = self._client.prepare_index_params()
        index_params.add_index("vector", index_type=kind, metric_type="IP", params=params)
        recreate(self._client, self.name, schema, index_params)
        return self

    @classmethod
    def load(cls, path: Path) -> MilvusIndex:
        pointer = Pointer.load(path, KIND)
        settings = pointer.settings
        self = cls(settings["dim"], pointer.uri, pointer.collection, settings["factory"])
        open_existing(self._client, self.name)
        self.generation, self.max_rowid = pointer.generation, pointer.max_rowid
        return self

    @classmethod
    def attach(cls, dim: int, settings: IndexConfig) -> MilvusIndex:
        """The existing collection ``settings`` names, as it is (a search node's view: no
        pointer file, nothing dropped)."""
        self = cls(dim, settings.uri, settings.collection, settings.factory)
        open_existing(self._client, self.name)
        self.factory = resolve_factory(settings.factory, len(self), EXACT_FACTORY)
        return self

    def fits(self, settings: IndexConfig) -> bool:
        return (settings.uri, settings.collection) == (self.uri, self.collection) and (
            settings.factory in ("auto", self.factory)
        )

    @property
    def exact(self) -> bool:
        return self.factory == "Flat"

    @property
    def structure(self) -> str:
        return f"Milvus {index_type(self.factory)[0]}"

    @property
    def needs_rebuild(self) -> bool:
        return False

    def __len__(self) -> int:
        return count(self._client, self.name)

    def add(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        """Upsert: adding a row id again replaces it, so a catch-up after a crash is safe."""
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise RaglineError(f"vectors of shape {vectors.shape}: index dimension is {self.dim}")
        ids = np.asarray(ids, dtype=np.int64)
        for start in range(0, len(ids), 1000):
            part = slice(start, start + 1000)
            rows = [
                {"id": i, "vector": v}
                for i, v in zip(ids[part].tolist(), vectors[part].tolist(), strict=True)
            ]
            self._client.upsert(self.name, rows)
        self.max_rowid = max(self.max_rowid, int(ids.max()))

    def remove(self, ids: NDArray[np.int64]) -> None:
        for part in batches(np.asarray(ids, dtype=np.int64)):
            self._client.delete(self.name, ids=[int(i) for i in part])

    def vectors(self, ids: NDArray[np.int64]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The stored vectors of those ids that exist, as ``Catalog.vectors`` gives them."""
        found: list[tuple[int, list[float]]] = []
        for part in batches(np.asarray(ids, dtype=np.int64)):
            rows = self._client.get(self.name, ids=part.tolist(), output_fields=["vector"])
            found += [(int(row["id"]), row["vector"]) for row in rows]
        if not found:
            return np.zeros(0, dtype=np.int64), np.zeros((0, self.dim), dtype=np.float32)
        found.sort()
        return (
            np.array([i for i, _ in found], dtype=np.int64),
            np.array([v for _, v in found], dtype=np.float32),
        )

    def search(
        self, queries: NDArray[np.float32], k: int, *, params: SearchParams | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        params = params or SearchParams()
        queries = query_matrix(queries)
        expression = ""
        if params.allowed is not None:
            if len(params.allowed) == 0:
                return hits_to_arrays([], len(queries), k, bm25=False)
            expression = id_filter(params.allowed)
        results = self._client.search(
            self.name,
            data=queries.tolist(),
            anns_field="vector",
            limit=min(k, MAX_LIMIT),
            filter=expression,
            output_fields=["id"],
            search_params={"metric_type": "IP", "params": self._search_params(params, k)},
        )
        return hits_to_arrays(results, len(queries), k, bm25=False)

    def _search_params(self, params: SearchParams, k: int) -> dict[str, Any]:
        kind = index_type(self.factory)[0]
        if kind == "HNSW":
            return {"ef": max(params.ef_search or 64, k)}
        if kind == "IVF_FLAT":
            return {"nprobe": params.nprobe or 16}
        return {}

    def save(self, path: Path) -> None:
        """Flush the collection, then write the pointer: collection and generation."""
        self._client.flush(self.name)
        Pointer(
            KIND,
            self.uri,
            self.collection,
            self.generation,
            self.max_rowid,
            {"dim": self.dim, "factory": self.factory},
        ).save(path)
