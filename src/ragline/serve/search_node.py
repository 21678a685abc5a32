"""A stateless search node: a knowledge base served from its Milvus collections alone.

``ragline serve --kb DIR --read-only`` needs only ``DIR/ragline.toml`` (copied from the
writer; ``[index] backend = "milvus"`` and the server's ``uri``): no catalog, no index
files. Search and ask run the knowledge base's own pipeline over
:class:`~ragline.index.milvus_view.MilvusCatalogView`, so a node answers as the writer
does for every row the writer has published (its indexes' last save). Nothing here
writes; the ``links`` follow-up, which reads document titles from the catalog, finds none.
"""

from __future__ import annotations

import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from ragline.config import Config
from ragline.embed.base import Encoder
from ragline.errors import RaglineError
from ragline.index.milvus_view import MilvusCatalogView
from ragline.kb import KnowledgeBase
from ragline.retrieve.pipeline import RetrievalPipeline
from ragline.store.layout import CONFIG_FILE


class SearchNode:
    """Search and ask over the Milvus collections ``config.index`` names, read-only.

    The search and ask methods are :class:`~ragline.kb.KnowledgeBase`'s own, run over this
    node's pipeline, so options and results are the same.
    """

    def __init__(self, path: Path, config: Config, encoder: Encoder) -> None:
        if config.index.backend != "milvus" or config.index.sparse_backend != "milvus":
            raise RaglineError(
                f"{path}: --read-only serves knowledge bases indexed with --backend milvus, "
                f"not {config.index.backend}"
            )
        self.path = path
        self.config = config
        self.encoder = encoder
        self.view = MilvusCatalogView.attach(config.index, encoder.dim)
        self.retrieval = RetrievalPipeline(
            self.view,  # type: ignore[arg-type]  # the three catalog calls search makes
            self.view.indexes,  # type: ignore[arg-type]
            lambda: encoder,
            threading.RLock(),
        )

    @classmethod
    def open(cls, path: str | Path, *, uri: str | None = None) -> SearchNode:
        """The node for ``path/ragline.toml`` (``uri`` replaces its Milvus address)."""
        from ragline.embed.registry import make_encoder

        path = Path(path)
        if not (path / CONFIG_FILE).is_file():
            raise RaglineError(f"{path}: no {CONFIG_FILE} (copy it from the writer)")
        config = Config.read(path / CONFIG_FILE)
        if uri:
            config = config.with_overrides("index", uri=uri)
        return cls(path, config, make_encoder(config.embed))

    search = KnowledgeBase.search
    search_many = KnowledgeBase.search_many
    retrieve = KnowledgeBase.retrieve
    ask = KnowledgeBase.ask

    @cached_property
    def answering(self) -> Any:
        from ragline.generate.ask import AnswerPipeline

        return AnswerPipeline(self.documents_named_in, self.encoder)

    def documents_named_in(self, texts: Any) -> list[str]:
        """No titles without a catalog: the ``links`` follow-up finds nothing here."""
        return []

    def info(self) -> dict[str, Any]:
        """What this node serves, in the shape of ``KnowledgeBase.info`` where it can."""
        _, chunks = self.view.counts()
        return {
            "path": str(self.path),
            "read_only": True,
            "chunks": chunks,
            "embedder": self.encoder.name,
            "dim": self.encoder.dim,
            "index": self.view.dense.structure,
            "config": self.config.to_dict(),
        }

    def close(self) -> None:
        """Nothing to save or release."""
