"""Finding documents again: by what a user typed, as a list, or one passage with its place.

What ``ragline delete``, ``ragline ls`` and ``ragline show`` call. A user types a document id,
or a path relative to where they are, or an absolute one, or a folder: :meth:`resolve` maps
each to the ids it names (see :mod:`ragline.store.doc_ids` for how files are named).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from ragline.errors import RaglineError
from ragline.filters import Filters
from ragline.store.catalog import Catalog
from ragline.store.migrations import ID_ROOT


def page_label(metadata: dict[str, Any], page: int | None) -> str | None:
    """The printed label of 1-based ``page``: a chunk's own ``page_label``, or the entry of
    a document's ``page_labels``.

    >>> page_label({"page_labels": ["i", "ii", "1"]}, 3), page_label({}, 3)
    ('1', None)
    >>> page_label({"page": 3, "page_label": "1"}, 3)
    '1'
    """
    if metadata.get("page_label") is not None:
        return str(metadata["page_label"])
    labels = metadata.get("page_labels")
    if page is None or not isinstance(labels, list) or not 0 < page <= len(labels):
        return None
    return str(labels[page - 1])


@dataclass(frozen=True)
class Passage:
    """A chunk, or a whole document, as ``ragline show`` prints it: ``before`` and
    ``after`` hold the context asked for around a chunk; ``chunks`` a document's chunks."""

    kind: str
    doc_id: str
    text: str
    span: tuple[int, int]
    metadata: dict[str, Any]
    chunk_id: str | None = None
    page: int | None = None
    before: str = ""
    after: str = ""
    chunks: list[dict[str, Any]] = field(default_factory=list)

    @property
    def page_label(self) -> str | None:
        return page_label(self.metadata, self.page)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of ``ragline show --json``."""
        shown = {
            "kind": self.kind,
            "doc_id": self.doc_id,
            "chunk_id": self.chunk_id,
            "text": self.text,
            "span": list(self.span),
            "page": self.page,
            "page_label": self.page_label,
            "metadata": self.metadata,
        }
        if self.kind == "chunk":
            return {**shown, "before": self.before, "after": self.after}
        return {**shown, "chunks": self.chunks}


class DocumentLookup:
    """Read-only queries over ``catalog`` that name documents the way users do."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def resolve(self, typed: str) -> list[str]:
        """The ids of the documents ``typed`` names: a document id; else a file or folder,
        relative to the working directory or absolute; else a path below the id root."""
        if self.catalog.document_hashes([typed]):
            return [typed]
        found = self.catalog.doc_ids_at(os.path.abspath(typed))
        root = self.catalog.get_meta(ID_ROOT)
        if not found and root and not os.path.isabs(typed):
            found = self.catalog.doc_ids_at(os.path.normpath(os.path.join(root, typed)))
        return found

    def listing(self, filters: Filters | None = None) -> list[dict[str, Any]]:
        """Every document (with ``filters``: those with a matching chunk), in id order: id,
        title, chunks, source path and modification time."""
        return [
            {
                "doc_id": doc.id,
                "title": doc.metadata.get("title") or "",
                "chunks": doc.chunks,
                "path": doc.metadata.get("path"),
                "mtime": doc.metadata.get("mtime"),
            }
            for doc in self.catalog.documents(limit=-1, filters=filters)
        ]

    def passage(self, some_id: str, *, context: int = 0) -> Passage | None:
        """The chunk with id ``some_id`` and ``context`` characters of its document either
        side, or else the document with that id and its chunks; None if neither exists."""
        if context < 0:
            raise RaglineError(f"--context must be 0 or more characters, got {context}")
        chunk = self.catalog.chunk_by_id(some_id)
        if chunk is not None:
            document = self.catalog.document(chunk.doc_id)
            text = document.text if document else ""
            return Passage(
                "chunk",
                chunk.doc_id,
                chunk.text,
                chunk.span,
                chunk.metadata,
                chunk_id=chunk.id,
                page=chunk.metadata.get("page"),
                before=text[max(0, chunk.start - context) : chunk.start] if context else "",
                after=text[chunk.end : chunk.end + context] if context else "",
            )
        document = self.catalog.document(some_id)
        if document is None:
            return None
        chunks = [
            {"chunk_id": cid, "span": [start, end], "page": page}
            for cid, start, end, page in self.catalog.chunk_spans(some_id)
        ]
        span = (0, len(document.text))
        return Passage("document", some_id, document.text, span, document.metadata, chunks=chunks)
