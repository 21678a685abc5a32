"""Consistent copies of a knowledge base, taken while it is in use: ``ragline export`` and
``ragline import``.

A snapshot is a directory laid out as a knowledge base (:mod:`ragline.store.layout`), so it
opens as one: its configuration, its catalog and its index files. The catalog is copied
with SQLite's online backup API in one step, which reads one committed state however many
readers and writers are at work (WAL mode lets the writer go on meanwhile); the index files
are copied first, each whole (indexes are replaced by an atomic rename). An index copied
before the catalog reflects an older generation and is caught up from the catalog on the
first opening; one the catalog cannot catch up (newer than the copy, or older than the
deletions the catalog still remembers) is rebuilt from the stored vectors, never by
re-embedding. The write lock is not copied.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

from ragline.errors import RaglineError
from ragline.index.registry import DENSE_INDEXES, SPARSE_INDEXES
from ragline.kb import KnowledgeBase
from ragline.store.layout import CATALOG_FILE, CONFIG_FILE, check_new, stored_config


def copy_catalog(source: Path, target: Path) -> None:
    """Copy the SQLite database ``source`` to ``target`` as one committed state."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        src.backup(dst)  # all pages in one step: one read transaction, one state
    finally:
        dst.close()
        src.close()


def _single_file(catalog: Path) -> None:
    """Fold the copy's write-ahead log into its catalog file, so the snapshot is whole in
    ``catalog.sqlite`` (WAL mode is switched on again by the next opening)."""
    db = sqlite3.connect(catalog)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
    finally:
        db.close()


def copy_knowledge_base(source: str | Path, target: str | Path) -> dict[str, Any]:
    """Copy the knowledge base at ``source`` to the new directory ``target`` (refused if a
    knowledge base or a non-empty directory is there), consistently while it is in use;
    returns what was copied and the copy's document and chunk counts. A copy that fails
    midway is removed."""
    source, target = Path(source), Path(target)
    config = stored_config(source)
    check_new(target)
    if target.is_dir() and any(target.iterdir()):
        raise RaglineError(f"{target}: not empty; give a new or empty directory")
    index_files = [
        DENSE_INDEXES.load(config.index.backend).file_name,
        SPARSE_INDEXES.load(config.index.sparse_backend).file_name,
    ]
    created = not target.exists()
    target.mkdir(parents=True, exist_ok=True)
    try:
        copied = [name for name in index_files if (source / name).is_file()]
        for name in copied:
            shutil.copyfile(source / name, target / name)
        copy_catalog(source / CATALOG_FILE, target / CATALOG_FILE)
        shutil.copyfile(source / CONFIG_FILE, target / CONFIG_FILE)
        with KnowledgeBase.open(target) as copy:
            facts = copy.info()
        _single_file(target / CATALOG_FILE)
    except BaseException:
        _remove_copy(target, created)
        raise
    return {
        "path": str(target),
        "files": [CONFIG_FILE, CATALOG_FILE, *copied],
        "documents": facts["documents"],
        "chunks": facts["chunks"],
        "generation": facts["generation"],
    }


def _remove_copy(target: Path, created: bool) -> None:
    """Remove a failed copy: the directory when this copy made it, else what is in it (it
    was empty before)."""
    if created:
        shutil.rmtree(target, ignore_errors=True)
        return
    for item in target.iterdir():
        if item.is_dir():
            shutil.rmtree(item, ignore_errors=True)
        else:
            item.unlink(missing_ok=True)
