"""What the Milvus dense and sparse indexes share: the connection, the saved pointer file,
and the few collection calls both make.

A Milvus index lives in a Milvus collection, not in the knowledge base directory; the file
saved there is a pointer: where the collection is (URI and name) and the catalog state it
reflects (``generation``, ``max_rowid``), so the keeper catches it up like a FAISS file.
``uri`` is a Milvus Lite data path ending ``.db`` (a directory Milvus Lite serves from this
process: one process per data path) or a server URL, whose token is read from the
environment variable ``MILVUS_TOKEN``.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline._optional import require
from ragline.config import Config
from ragline.errors import RaglineError
from ragline.files import atomic_write

FILE_FORMAT = "ragline-milvus 1"
TOKEN_ENV = "MILVUS_TOKEN"
MAX_LIMIT = 16_384
"""Milvus returns at most this many hits per query."""
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
_SERVER = ("http://", "https://", "tcp://", "unix:")


def check_uri(uri: str) -> str:
    """``uri`` when it names a Milvus Lite data path (``.db``) or a server, else an error.

    >>> check_uri("http://localhost:19530")
    'http://localhost:19530'
    """
    if not uri:
        raise RaglineError(
            "index uri: empty; set [index] uri (or --uri) to a Milvus Lite path ending .db "
            "or a server URL such as http://localhost:19530"
        )
    if not (uri.endswith(".db") or uri.startswith(_SERVER)):
        raise RaglineError(
            f"index uri {uri!r}: expected a Milvus Lite path ending .db or an http(s):// URL"
        )
    return uri


def check_collection(name: str) -> str:
    """``name`` when Milvus accepts it as a collection name, else an error."""
    if not _NAME.match(name):
        raise RaglineError(
            f"index collection {name!r}: use letters, digits and underscores, "
            "not starting with a digit"
        )
    return name


def with_backend(config: Config, backend: str, uri: str | None) -> Config:
    """``config`` with its indexes on ``backend``: ``milvus`` puts the dense and the sparse
    index in Milvus at ``uri`` (a Lite path made absolute, so the knowledge base opens from
    anywhere); ``faiss`` keeps both in the knowledge base directory and takes no ``uri``.

    >>> with_backend(Config(), "milvus", "http://db:19530").index.sparse_backend
    'milvus'
    """
    if backend == "faiss":
        if uri:
            raise RaglineError(f"--uri {uri!r}: only for --backend milvus")
        return config.with_overrides("index", backend="faiss", sparse_backend="bm25", uri="")
    if backend != "milvus":
        raise RaglineError(f"--backend {backend!r}: use faiss or milvus")
    uri = check_uri(uri or config.index.uri)
    if not uri.startswith(_SERVER):
        uri = str(Path(uri).expanduser().resolve())
    return config.with_overrides("index", backend="milvus", sparse_backend="milvus", uri=uri)


class _LiteProbeFilter(logging.Filter):
    """Drops the traceback Milvus Lite's in-process gRPC server logs when pymilvus probes a
    method Lite does not implement (``AllocTimestamp``, on every connection): not an error
    of ours, and a page of it on stderr before every result."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Method not implemented" not in record.getMessage()


def connect(uri: str) -> Any:
    """A ``MilvusClient`` on ``uri``; Lite paths are made absolute (one server per path)."""
    pymilvus = require("pymilvus", "milvus")
    uri = check_uri(uri)
    if uri.endswith(".db") and not uri.startswith(_SERVER):
        grpc_log = logging.getLogger("grpc._server")
        if not any(isinstance(f, _LiteProbeFilter) for f in grpc_log.filters):
            grpc_log.addFilter(_LiteProbeFilter())
        return pymilvus.MilvusClient(str(Path(uri).expanduser().resolve()))
    return pymilvus.MilvusClient(uri, token=os.environ.get(TOKEN_ENV, ""))


@dataclass
class Pointer:
    """The saved state of a Milvus-backed index: where its collection is, what it reflects,
    and the settings it was built with (``settings``: backend-specific, compared by ``fits``)."""

    kind: str
    uri: str
    collection: str
    generation: int = 0
    max_rowid: int = 0
    settings: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        text = json.dumps({"format": FILE_FORMAT, **asdict(self)}, indent=1)
        atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))

    @classmethod
    def load(cls, path: Path, kind: str) -> Pointer:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.pop("format", None) != FILE_FORMAT or data.get("kind") != kind:
            raise ValueError(f"{path}: not a ragline {kind} pointer file")
        try:
            return cls(**data)
        except TypeError as e:
            raise ValueError(f"{path}: {e}") from e


def recreate(client: Any, name: str, schema: Any, index_params: Any) -> None:
    """Drop collection ``name`` if it exists and create it empty, loaded for search."""
    if client.has_collection(name):
        client.drop_collection(name)
    client.create_collection(name, schema=schema, index_params=index_params)
    client.load_collection(name)


def open_existing(client: Any, name: str) -> None:
    """Load collection ``name`` for search; ValueError when it is gone (then the keeper
    rebuilds it from the catalog)."""
    if not client.has_collection(name):
        raise ValueError(f"Milvus collection {name!r} does not exist")
    client.load_collection(name)


def count(client: Any, name: str) -> int:
    """How many rows collection ``name`` holds."""
    rows = client.query(name, filter="", output_fields=["count(*)"])
    return int(rows[0]["count(*)"]) if rows else 0


def id_filter(ids: NDArray[np.int64]) -> str:
    """A boolean expression true for the rows whose ``id`` is in ``ids`` (integers only:
    nothing to quote)."""
    return f"id in [{', '.join(str(int(i)) for i in ids)}]"


def batches(ids: NDArray[np.int64], size: int = 1000) -> Iterator[NDArray[np.int64]]:
    """``ids`` in slices of ``size``: one Milvus request each."""
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def hits_to_arrays(
    results: Sequence[Sequence[dict[str, Any]]], n: int, k: int, *, bm25: bool
) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
    """Milvus search results as ``(scores, ids)`` of shape ``(n, k)``, -1 padded.

    BM25 scores come back positive from a server and negated from Milvus Lite (it ranks by
    a distance); both orders agree, so BM25 scores are taken by absolute value.
    """
    scores = np.full((n, k), -np.inf, dtype=np.float32)
    ids = np.full((n, k), -1, dtype=np.int64)
    for qi, hits in enumerate(results):
        for rank, hit in enumerate(list(hits)[:k]):
            distance = float(hit["distance"])
            scores[qi, rank] = abs(distance) if bm25 else distance
            ids[qi, rank] = int(hit["id"])
    return scores, ids
