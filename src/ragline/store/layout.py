"""A knowledge base directory: the files in it, and the configuration they record.

::

    ragline.toml      the configuration it was built with
    catalog.sqlite    the truth: documents, chunks, metadata, vectors (SQLite, WAL)
    dense.faiss       the dense index, tagged with the catalog generation it reflects
    bm25.npz          the sparse index, likewise
    write.lock        held by the one process allowed to write

The index files are named by their backends (``file_name``); the rest here.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import replace
from pathlib import Path

from ragline.config import Config, EmbedConfig
from ragline.errors import ConfigMismatchError, RaglineError

CONFIG_FILE = "ragline.toml"
CATALOG_FILE = "catalog.sqlite"
LOCK_FILE = "write.lock"
BUILD_SECTIONS = ("chunk", "embed", "index")
"""Configuration fixed when a knowledge base is built; the rest may change per opening."""


def check_new(path: Path) -> None:
    """Refuse to create a knowledge base where one exists, or over a file."""
    if (path / CONFIG_FILE).exists():
        raise RaglineError(f"{path}: a knowledge base already exists here")
    if path.exists() and not path.is_dir():
        raise RaglineError(f"{path}: exists and is not a directory")


def stored_config(path: Path, config: Config | None = None) -> Config:
    """The configuration to open ``path`` with: ``config`` when given, whose build-time
    sections must equal the stored ones (else ``ConfigMismatchError``), else the stored one."""
    if not (path / CONFIG_FILE).is_file():
        raise RaglineError(f"{path}: not a ragline knowledge base (no {CONFIG_FILE})")
    stored = with_recorded_embedder(path, Config.read(path / CONFIG_FILE))
    if config is None:
        return stored
    for section in BUILD_SECTIONS:
        if _built_with(config, section) != _built_with(stored, section):
            raise ConfigMismatchError(
                f"{path}: built with [{section}] {getattr(stored, section)}, "
                f"opened with {getattr(config, section)}"
            )
    return config


def _built_with(config: Config, section: str) -> object:
    """What of ``section`` the stored data depends on: all of it, except the embedder
    backend, which runs the recorded model and may change per opening (a backend whose
    vectors differ from the model's is refused by its probe, ``ragline.embed.probe``)."""
    value = getattr(config, section)
    return replace(value, backend="") if section == "embed" else value


def with_recorded_embedder(path: Path, config: Config) -> Config:
    """``config`` with the embedder the catalog records, which wins over the config file:
    a re-embedding commits in the catalog first and rewrites the file after. The backend
    stays ``config``'s: it runs the model, it is not part of it."""
    recorded = recorded_meta(path, "embed_config")
    if recorded is None:
        return config
    embed = replace(EmbedConfig(**json.loads(recorded)), backend=config.embed.backend)
    return config if embed == config.embed else replace(config, embed=embed)


def check_embedder(path: Path, encoder_name: str) -> None:
    """Refuse an encoder other than the one the catalog's vectors were made with."""
    recorded = recorded_meta(path, "embedder")
    if recorded is not None and recorded != encoder_name:
        raise ConfigMismatchError(
            f"{path}: built with embedder {recorded!r}, opened with {encoder_name!r}; "
            "mixing embedders in one index is refused (re-create the knowledge base)"
        )


def recorded_meta(path: Path, key: str) -> str | None:
    """A value of the catalog's ``meta`` table, read without opening the catalog for writing
    (None when the catalog or the key does not exist yet)."""
    try:
        # closing(): a connection's own `with` only commits; unclosed, it lingers until a
        # garbage collection and keeps a lock that stops e.g. a journal mode change
        with closing(sqlite3.connect(f"file:{path / CATALOG_FILE}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])
