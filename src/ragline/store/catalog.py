"""The catalog: SQLite in WAL mode, the single source of truth of a knowledge base.

It holds documents, their chunks, chunk metadata and vectors. Every write is one transaction
that bumps the catalog *generation*; derived indexes record the generation and the highest
chunk row id they reflect, and catch up from here: chunks with a higher row id were added,
rows in ``tombstones`` with a higher generation were removed. Chunk row ids are never reused
(AUTOINCREMENT), so they double as the int64 ids inside the indexes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline.documents import Chunk, Document
from ragline.filters import Filters, to_sql
from ragline.store.migrations import migrate

INDEXED_TEXT = "CASE WHEN header = '' THEN text ELSE header || char(10) || text END"
"""SQL for ``Chunk.indexed_text``: what BM25 and the embedder see."""
SOURCE_PATH = "json_extract(metadata, '$.path')"
"""SQL for a document's source path (indexed: ``documents_by_path``)."""


@dataclass(frozen=True)
class StoredDocument:
    """A document as the catalog knows it (without its chunks)."""

    id: str
    hash: str
    metadata: dict[str, Any]
    chunks: int


class Catalog:
    """SQLite access for one knowledge base. Thread-safe; one writer process at a time.

    ``vector_dtype`` is how vectors are stored (float16 halves the size); they are always
    returned as float32.
    """

    def __init__(self, path: Path, *, vector_dtype: str = "float32") -> None:
        self.path = path
        self.vector_dtype = np.dtype(vector_dtype)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        with self.transaction():
            migrate(self._db)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: committed entirely or not at all."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ---- meta -------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM meta WHERE key = ?", (key,))
        return rows[0][0] if rows else None

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        return int(self.get_meta("generation") or 0)

    @staticmethod
    def _bump(db: sqlite3.Connection) -> int:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'")
        return int(db.execute("SELECT value FROM meta WHERE key = 'generation'").fetchone()[0])

    # ---- writes -----------------------------------------------------------------------
    def write(self, items: Sequence[tuple[Document, Sequence[Chunk], NDArray[np.float32]]]) -> int:
        """Insert or replace documents with their chunks and vectors; returns the generation.

        A document whose id exists is replaced: its old chunks are tombstoned.
        """
        if not items:
            return self.generation
        with self.transaction() as db:
            generation = self._bump(db)
            for document, chunks, vectors in items:
                self._delete(db, [document.id], generation)
                db.execute(
                    "INSERT INTO documents(id, hash, text, metadata, page_starts, chunks) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        document.id,
                        document.hash,
                        document.text,
                        json.dumps(document.metadata),
                        json.dumps(list(document.page_starts)),
                        len(chunks),
                    ),
                )
                blobs = np.ascontiguousarray(vectors, dtype=self.vector_dtype)
                db.executemany(
                    "INSERT INTO chunks(chunk_id, doc_id, ordinal, start, end, text, metadata,"
                    " vector, header) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (
                            c.id,
                            c.doc_id,
                            i,
                            c.start,
                            c.end,
                            c.text,
                            json.dumps(c.metadata),
                            blobs[i].tobytes(),
                            c.header,
                        )
                        for i, c in enumerate(chunks)
                    ],
                )
        return generation

    @staticmethod
    def _delete(db: sqlite3.Connection, doc_ids: Sequence[str], generation: int) -> int:
        removed = 0
        for doc_id in doc_ids:
            db.execute(
                "INSERT INTO tombstones(rowid, generation) "
                "SELECT id, ? FROM chunks WHERE doc_id = ?",
                (generation, doc_id),
            )
            db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
            removed += db.execute("DELETE FROM documents WHERE id = ?", (doc_id,)).rowcount
        return removed

    # ---- re-embedding ------------------------------------------------------------------
    def stage_vectors(self, ids: NDArray[np.int64], vectors: NDArray[np.float32]) -> None:
        """Store another embedder's vectors for chunk rows, beside the live ones."""
        blobs = np.ascontiguousarray(vectors, dtype=self.vector_dtype)
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO staged_vectors(id, vector) VALUES (?, ?)",
                [(int(i), blobs[n].tobytes()) for n, i in enumerate(ids)],
            )

    def staged_ids(self) -> set[int]:
        return {r[0] for r in self._query("SELECT id FROM staged_vectors")}

    def clear_staged(self) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM staged_vectors")

    def swap_staged_vectors(self, meta: dict[str, str]) -> int:
        """Make the staged vectors live, with ``meta`` (the new embedder's facts), in one
        transaction; returns the new generation, from which older dense indexes are stale."""
        with self.transaction() as db:
            missing = db.execute(
                "SELECT COUNT(*) FROM chunks WHERE id NOT IN (SELECT id FROM staged_vectors)"
            ).fetchone()[0]
            if missing:
                raise RuntimeError(f"{missing} chunks have no staged vector")
            db.execute(
                "UPDATE chunks SET vector = staged_vectors.vector FROM staged_vectors "
                "WHERE chunks.id = staged_vectors.id"
            )
            db.execute("DELETE FROM staged_vectors")
            generation = self._bump(db)
            for key, value in {**meta, "vectors_generation": str(generation)}.items():
                db.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))
            return generation

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Delete documents and their chunks; returns how many documents existed."""
        with self.transaction() as db:
            generation = self._bump(db)
            return self._delete(db, doc_ids, generation)

    def doc_ids_where(self, filters: Filters) -> list[str]:
        condition, params = to_sql(filters)
        rows = self._query(f"SELECT DISTINCT doc_id FROM chunks WHERE {condition}", params)
        return [r[0] for r in rows]

    def prune_tombstones(self, up_to_generation: int) -> None:
        """Forget deletions that every saved index already reflects, and record how far
        (``pruned_through``: an index older than that cannot catch up) in the same
        transaction, so a reader or a snapshot never sees one without the other."""
        with self.transaction() as db:
            db.execute("DELETE FROM tombstones WHERE generation <= ?", (up_to_generation,))
            db.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('pruned_through', ?)",
                (str(up_to_generation),),
            )

    # ---- reads ------------------------------------------------------------------------
    def document_hashes(self, doc_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(doc_ids), 500):
            part = list(doc_ids[start : start + 500])
            marks = ", ".join("?" for _ in part)
            found.update(self._query(f"SELECT id, hash FROM documents WHERE id IN ({marks})", part))
        return found

    def document(self, doc_id: str) -> Document | None:
        rows = self._query(
            "SELECT text, metadata, page_starts FROM documents WHERE id = ?", (doc_id,)
        )
        if not rows:
            return None
        text, metadata, pages = rows[0]
        return Document(doc_id, text, json.loads(metadata), tuple(json.loads(pages)))

    def documents(
        self, limit: int = 100, offset: int = 0, *, filters: Filters | None = None
    ) -> list[StoredDocument]:
        """Documents in id order (``limit`` < 0: all); with ``filters``, those that have a
        chunk matching them."""
        where, params = "", []
        if filters:
            condition, params = to_sql(filters)
            where = f"WHERE id IN (SELECT doc_id FROM chunks WHERE {condition})"
        rows = self._query(
            f"SELECT id, hash, metadata, chunks FROM documents {where} "
            "ORDER BY id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
        return [StoredDocument(i, h, json.loads(m), n) for i, h, m, n in rows]

    # ---- finding documents by source path (see store.doc_ids) -------------------------
    def doc_id_for_path(self, path: str) -> str | None:
        """The id of the document loaded from the file at absolute ``path`` whose id names
        that file (the path itself, or a path ending in the id), if one is stored."""
        rows = self._query(
            f"SELECT id FROM documents WHERE {SOURCE_PATH} = ?1 "
            "AND (id = ?1 OR substr(?1, -length(id) - 1) = '/' || id) ORDER BY rowid LIMIT 1",
            (path,),
        )
        return rows[0][0] if rows else None

    def document_paths(self, doc_ids: Sequence[str]) -> dict[str, str | None]:
        """The source path (``path`` metadata, None if absent) of each of ``doc_ids`` stored."""
        found: dict[str, str | None] = {}
        for start in range(0, len(doc_ids), 500):
            part = list(doc_ids[start : start + 500])
            marks = ", ".join("?" for _ in part)
            sql = f"SELECT id, {SOURCE_PATH} FROM documents WHERE id IN ({marks})"
            found.update(self._query(sql, part))
        return found

    def doc_ids_at(self, path: str) -> list[str]:
        """Ids of the documents loaded from the file at absolute ``path``, or from files
        below it when it is a folder."""
        folder = path.rstrip("/")
        rows = self._query(
            f"SELECT id FROM documents WHERE {SOURCE_PATH} = ? "
            f"OR ({SOURCE_PATH} >= ? AND {SOURCE_PATH} < ?) ORDER BY id",
            # '0' follows '/': the range holds exactly the paths that start with "folder/"
            (path, folder + "/", folder + "0"),
        )
        return [r[0] for r in rows]

    def chunk_by_id(self, chunk_id: str) -> Chunk | None:
        """The chunk with id ``chunk_id``, if stored."""
        rows = self._query(
            "SELECT chunk_id, doc_id, text, start, end, metadata, header FROM chunks "
            "WHERE chunk_id = ?",
            (chunk_id,),
        )
        if not rows:
            return None
        cid, doc_id, text, s, e, meta, header = rows[0]
        return Chunk(cid, doc_id, text, s, e, json.loads(meta), header)

    def chunk_spans(self, doc_id: str) -> list[tuple[str, int, int, int | None]]:
        """(chunk id, start, end, page) of a document's chunks, in order."""
        rows = self._query(
            "SELECT chunk_id, start, end, json_extract(metadata, '$.page') FROM chunks "
            "WHERE doc_id = ? ORDER BY ordinal",
            (doc_id,),
        )
        return [(str(c), int(s), int(e), p) for c, s, e, p in rows]

    def document_titles(self) -> list[tuple[str, str]]:
        """(id, title) of every document: its ``title`` metadata, else (missing or empty)
        its id, as prompts title passages."""
        rows = self._query(
            "SELECT id, COALESCE(NULLIF(json_extract(metadata, '$.title'), ''), id) "
            "FROM documents ORDER BY id"
        )
        return [(str(i), str(t)) for i, t in rows]

    def counts(self) -> tuple[int, int]:
        """(documents, chunks)."""
        docs = self._query("SELECT COUNT(*) FROM documents")[0][0]
        chunks = self._query("SELECT COUNT(*) FROM chunks")[0][0]
        return int(docs), int(chunks)

    def max_rowid(self) -> int:
        return int(self._query("SELECT COALESCE(MAX(id), 0) FROM chunks")[0][0])

    def chunks(self, rowids: Sequence[int]) -> dict[int, Chunk]:
        """Chunks by row id (ids that no longer exist are absent from the result)."""
        found: dict[int, Chunk] = {}
        ids = [int(r) for r in rowids]
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" for _ in part)
            rows = self._query(
                "SELECT id, chunk_id, doc_id, text, start, end, metadata, header FROM chunks "
                f"WHERE id IN ({marks})",
                part,
            )
            for rowid, cid, doc_id, text, s, e, meta, header in rows:
                found[rowid] = Chunk(cid, doc_id, text, s, e, json.loads(meta), header)
        return found

    def iter_rows(
        self, *, after: int = 0, columns: str = "vector", batch: int = 4096
    ) -> Iterator[tuple[NDArray[np.int64], list[Any]]]:
        """Row ids above ``after`` with one column: ``vector`` (float32 arrays), ``text``, or
        ``INDEXED_TEXT`` (header line and text, what BM25 indexes)."""
        last = after
        while True:
            rows = self._query(
                f"SELECT id, {columns} FROM chunks WHERE id > ? ORDER BY id LIMIT ?", (last, batch)
            )
            if not rows:
                return
            ids = np.array([r[0] for r in rows], dtype=np.int64)
            values = [r[1] for r in rows]
            if columns == "vector":
                dim_bytes = len(values[0])
                flat = np.frombuffer(b"".join(values), dtype=self.vector_dtype)
                values = flat.reshape(len(rows), dim_bytes // self.vector_dtype.itemsize)
                values = np.ascontiguousarray(values, dtype=np.float32)
            yield ids, values
            last = int(ids[-1])

    def vectors(self, rowids: Sequence[int]) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
        """The stored vectors of the given chunk row ids (those that exist), as float32."""
        ids: list[int] = []
        blobs: list[bytes] = []
        wanted = [int(r) for r in rowids]
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            marks = ", ".join("?" for _ in part)
            for rowid, blob in self._query(
                f"SELECT id, vector FROM chunks WHERE id IN ({marks})", part
            ):
                ids.append(rowid)
                blobs.append(blob)
        if not ids:
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        flat = np.frombuffer(b"".join(blobs), dtype=self.vector_dtype)
        matrix = flat.reshape(len(ids), -1).astype(np.float32)
        return np.array(ids, dtype=np.int64), matrix

    def rowids_where(self, filters: Filters) -> NDArray[np.int64]:
        """Sorted row ids of the chunks that match ``filters``."""
        condition, params = to_sql(filters)
        rows = self._query(f"SELECT id FROM chunks WHERE {condition} ORDER BY id", params)
        return np.array([r[0] for r in rows], dtype=np.int64)

    def tombstones_after(self, generation: int) -> NDArray[np.int64]:
        rows = self._query("SELECT rowid FROM tombstones WHERE generation > ?", (generation,))
        return np.array([r[0] for r in rows], dtype=np.int64)
