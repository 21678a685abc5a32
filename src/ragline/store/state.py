"""What the parts of an open knowledge base share: its directory and catalog, the
configuration and encoder it is used with, and one lock around index changes."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ragline.config import Config, EmbedConfig
from ragline.embed import make_encoder
from ragline.embed.base import Encoder
from ragline.errors import ConfigMismatchError
from ragline.store.catalog import Catalog
from ragline.store.layout import CATALOG_FILE, with_recorded_embedder

log = logging.getLogger(__name__)


def fitting_query_encoder(
    path: Path, embed: EmbedConfig, encoder: Encoder, query_encoder: Encoder | str | None
) -> Encoder | None:
    """``query_encoder`` (an Encoder, or a model made with ``embed``'s settings), refused
    when its vectors do not have the dimension of ``encoder``'s, which the index holds."""
    if isinstance(query_encoder, str):
        query_encoder = make_encoder(replace(embed, model=query_encoder))
    if query_encoder is not None and query_encoder.dim != encoder.dim:
        raise ConfigMismatchError(
            f"query encoder {query_encoder.name}: {query_encoder.dim}-d, but {path} holds "
            f"{encoder.dim}-d vectors"
        )
    return query_encoder


@dataclass
class KnowledgeBaseState:
    """The shared, changing facts of an open knowledge base.

    ``encoder`` embeds passages (and queries, unless ``query_encoder`` is set); it and
    ``config.embed`` change together when the catalog is re-embedded, here or by another
    process, so the writer, the index keeper and the retrieval pipeline read them from here.
    """

    path: Path
    catalog: Catalog
    config: Config
    encoder: Encoder
    query_encoder: Encoder | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def at(
        cls, path: Path, config: Config, encoder: Encoder, query_encoder: Encoder | None = None
    ) -> KnowledgeBaseState:
        """The state of the knowledge base in directory ``path`` (made if missing), its
        catalog opened."""
        path.mkdir(parents=True, exist_ok=True)
        catalog = Catalog(path / CATALOG_FILE, vector_dtype=config.embed.vector_dtype)
        return cls(path, catalog, config, encoder, query_encoder)

    def encoder_for_queries(self) -> Encoder:
        return self.query_encoder or self.encoder

    def follow_reembedding(self) -> None:
        """Switch to the embedder the catalog records, if another process re-embedded it."""
        recorded = self.catalog.get_meta("embedder")
        if recorded is None or recorded == self.encoder.name:
            return
        embed = with_recorded_embedder(self.path, self.config).embed
        log.info("%s was re-embedded with %s: switching to it", self.path, embed.model)
        self.config = replace(self.config, embed=embed)
        self.encoder = make_encoder(embed)

    def info(self) -> dict[str, Any]:
        """Counts, embedder and index facts, as ``ragline info --json`` prints them."""
        documents, chunks = self.catalog.counts()
        index = self.catalog.get_meta("dense_index") or self.config.index.factory
        size = sum(f.stat().st_size for f in self.path.iterdir() if f.is_file())
        return {
            "path": str(self.path),
            "documents": documents,
            "chunks": chunks,
            "embedder": self.catalog.get_meta("embedder"),
            "dim": int(self.catalog.get_meta("dim") or 0),
            "index": index,
            "generation": self.catalog.generation,
            "bytes": size,
            "config": self.config.to_dict(),
        }
