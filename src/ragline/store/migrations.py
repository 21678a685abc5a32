"""Catalog schema, versioned: each migration moves the schema one version up.

A migration is SQL, or a function of the connection when it has to compute something
(version 4 works out where an older knowledge base's document ids are relative to).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import PurePath

from ragline.errors import RaglineError

SCHEMA_VERSION = 4
ID_ROOT = "id_root"
"""The ``meta`` key of the folder that file document ids are relative to (see
:mod:`ragline.store.doc_ids`)."""


def _record_id_root(db: sqlite3.Connection) -> None:
    """Index documents by source path, and record the id root of a knowledge base made
    before ids had one.

    Such ids were a walked folder's name plus the path below it (``notes/a.md`` for
    ``/data/p1/notes/a.md``), or a file's name: the source path minus the id is the parent
    of the folder indexed. The oldest document whose path ends in its id gives that
    parent, so files indexed from there again keep their ids; other documents keep theirs
    because a file's existing id is looked up by its path before a new one is made.
    """
    db.execute("CREATE INDEX documents_by_path ON documents(json_extract(metadata, '$.path'))")
    for doc_id, metadata in db.execute("SELECT id, metadata FROM documents ORDER BY rowid"):
        path = json.loads(metadata).get("path")
        if isinstance(path, str) and PurePath(path).is_absolute():
            parts, id_parts = PurePath(path).parts, PurePath(doc_id).parts
            if id_parts and parts[-len(id_parts) :] == id_parts:
                root = PurePath(*parts[: -len(id_parts)])
                db.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (ID_ROOT, str(root)))
                return


_MIGRATIONS: dict[int, str | Callable[[sqlite3.Connection], None]] = {
    1: """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    INSERT INTO meta(key, value) VALUES ('generation', '0');
    CREATE TABLE documents (
        id TEXT PRIMARY KEY,
        hash TEXT NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        page_starts TEXT NOT NULL,
        chunks INTEGER NOT NULL
    );
    CREATE TABLE chunks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        chunk_id TEXT NOT NULL UNIQUE,
        doc_id TEXT NOT NULL,
        ordinal INTEGER NOT NULL,
        start INTEGER NOT NULL,
        end INTEGER NOT NULL,
        text TEXT NOT NULL,
        metadata TEXT NOT NULL,
        vector BLOB NOT NULL
    );
    CREATE INDEX chunks_by_doc ON chunks(doc_id);
    CREATE TABLE tombstones (rowid INTEGER PRIMARY KEY, generation INTEGER NOT NULL);
    CREATE INDEX tombstones_by_generation ON tombstones(generation);
    """,
    2: """
    ALTER TABLE chunks ADD COLUMN header TEXT NOT NULL DEFAULT '';
    """,
    3: """
    CREATE TABLE staged_vectors (id INTEGER PRIMARY KEY, vector BLOB NOT NULL);
    """,
    4: _record_id_root,
}


def migrate(db: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION (inside the caller's transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RaglineError(
            f"catalog schema version {version} is newer than this ragline ({SCHEMA_VERSION})"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        step = _MIGRATIONS[target]
        if callable(step):
            step(db)
        else:
            for statement in step.split(";"):
                if statement.strip():
                    db.execute(statement)
        db.execute(f"PRAGMA user_version = {target}")
