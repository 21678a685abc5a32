"""A SQLite cache of ColBERT passage token matrices, shared across processes.

A passage's matrix does not depend on the query, so it is kept for the next query that
retrieves the same passage.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)


class TokenCache:
    """Passage token matrices in a SQLite file (float16 blobs), keyed by a hash of the model
    fingerprint and the passage text: an edited passage or another model never hits a stale
    entry. WAL mode lets readers in other processes share it; a file that cannot be opened
    or read turns the cache off with a warning instead of failing the search."""

    def __init__(self, path: Path, fingerprint: str) -> None:
        self.path = path
        self.fingerprint = fingerprint
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=10, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS tokens (key TEXT PRIMARY KEY, rows INTEGER NOT NULL, "
                "dim INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID"
            )
            self._db.commit()
        except (sqlite3.Error, OSError) as e:
            self._disable(e)

    def _disable(self, error: Exception) -> None:
        log.warning("ColBERT cache %s is unusable (%s); re-ranking without it", self.path, error)
        if self._db is not None:
            self._db.close()
            self._db = None

    @property
    def enabled(self) -> bool:
        return self._db is not None

    def key(self, text: str) -> str:
        return hashlib.sha256(
            f"{self.fingerprint}\0{text}".encode("utf-8", "surrogatepass")
        ).hexdigest()

    def _select(self, columns: str, keys: list[str]) -> list[tuple[Any, ...]]:
        """``columns`` of the entries whose key is in ``keys`` (in chunks of SQLite's
        parameter limit)."""
        rows: list[tuple[Any, ...]] = []
        if self._db is None:
            return rows
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT {columns} FROM tokens WHERE key IN ({marks})"
                rows += self._db.execute(query, part).fetchall()
        return rows

    def missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct ``texts`` that have no entry (all of them when the cache is off)."""
        keys = {self.key(t): t for t in dict.fromkeys(texts)}
        try:
            present = {key for (key,) in self._select("key", list(keys))}
        except sqlite3.Error as e:
            self._disable(e)
            present = set()
        return [text for key, text in keys.items() if key not in present]

    def get(self, texts: Sequence[str]) -> dict[str, NDArray[np.float16]]:
        """The cached matrices of ``texts`` (those found), by text."""
        keys = {self.key(t): t for t in texts}
        found: dict[str, NDArray[np.float16]] = {}
        try:
            for key, count, dim, data in self._select("key, rows, dim, data", list(keys)):
                if len(data) == count * dim * 2:
                    found[keys[key]] = np.frombuffer(data, dtype=np.float16).reshape(count, dim)
        except sqlite3.Error as e:
            self._disable(e)
        return found

    def put(self, items: dict[str, NDArray[np.float16]]) -> None:
        """Store ``items`` (text -> token matrix), replacing entries with the same key."""
        if self._db is None or not items:
            return
        rows = [
            (self.key(text), m.shape[0], m.shape[1], np.ascontiguousarray(m, np.float16).tobytes())
            for text, m in items.items()
        ]
        try:
            with self._lock, self._db:
                self._db.executemany("INSERT OR REPLACE INTO tokens VALUES (?, ?, ?, ?)", rows)
        except sqlite3.Error as e:
            self._disable(e)
