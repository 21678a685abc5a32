"""Catalog schema, versioned: each migration moves the schema one version up."""

from __future__ import annotations

import sqlite3

from ragline.errors import RaglineError

SCHEMA_VERSION = 3

_MIGRATIONS = {
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
}


def migrate(db: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION (inside the caller's transaction)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise RaglineError(
            f"catalog schema version {version} is newer than this ragline ({SCHEMA_VERSION})"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        for statement in _MIGRATIONS[target].split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {target}")
