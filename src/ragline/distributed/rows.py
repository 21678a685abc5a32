"""Documents, load errors and embedded documents as Ray Data rows, and back, losslessly.

A row is ``{"kind", "record", "vectors"}``: ``record`` is the item as JSON (the catalog
stores text and metadata as JSON too, so nothing it keeps is lost on the way), ``vectors``
the float32 bytes of an embedded document's chunk vectors (empty otherwise). Rows of one
shape travel through Arrow whatever metadata a document carries.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ragline.documents import Chunk, Document
from ragline.errors import LoadError
from ragline.ingest import EmbeddedDocument

Row = dict[str, Any]
Item = Document | LoadError


def to_row(item: Item) -> Row:
    """``item`` as a row (an :class:`EmbeddedDocument` with its chunks and vectors).

    >>> doc = Document("a", "Hi.", {"n": 1.5}, (0,))
    >>> from_row(to_row(doc)) == doc
    True
    """
    if isinstance(item, LoadError):
        record: dict[str, Any] = {"source": item.source, "reason": item.reason}
        return {"kind": "error", "record": json.dumps(record), "vectors": b""}
    record = {
        "id": item.id,
        "text": item.text,
        "metadata": item.metadata,
        "page_starts": list(item.page_starts),
    }
    if not isinstance(item, EmbeddedDocument):
        return {"kind": "document", "record": json.dumps(record), "vectors": b""}
    record["chunks"] = [
        [c.id, c.doc_id, c.text, c.start, c.end, c.metadata, c.header] for c in item.chunks
    ]
    record["dim"] = int(item.vectors.shape[1])
    vectors = np.ascontiguousarray(item.vectors, dtype=np.float32).tobytes()
    return {"kind": "embedded", "record": json.dumps(record), "vectors": vectors}


def from_row(row: Row) -> Item:
    """The item a row holds (see :func:`to_row`)."""
    record = json.loads(row["record"])
    if row["kind"] == "error":
        return LoadError(record["source"], record["reason"])
    fields = (record["id"], record["text"], record["metadata"], tuple(record["page_starts"]))
    if row["kind"] == "document":
        return Document(*fields)
    chunks = tuple(Chunk(*values) for values in record["chunks"])
    vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(len(chunks), record["dim"])
    return EmbeddedDocument(*fields, chunks=chunks, vectors=vectors)
