"""KnowledgeBase: the catalog plus its derived indexes, behind one small API.

A knowledge base is a directory (:mod:`ragline.store.layout`). This facade opens it and hands
each job to one part sharing a :class:`~ragline.store.state.KnowledgeBaseState`: writing
(:mod:`ragline.writer`), keeping the indexes in step (:mod:`ragline.index.keeper`),
searching (:mod:`ragline.retrieve.pipeline`) and answering (:mod:`ragline.generate.ask`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cached_property, partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragline.config import Config, EmbedConfig
from ragline.documents import Answer, Document, Hit
from ragline.embed import make_encoder
from ragline.embed.base import Encoder
from ragline.filters import Filters
from ragline.generate.base import Generator
from ragline.generate.links import CatalogTitles
from ragline.index.keeper import IndexKeeper
from ragline.ingest import IngestReport
from ragline.rerank.base import Reranker
from ragline.retrieve.options import SearchOptions
from ragline.retrieve.pipeline import RetrievalPipeline
from ragline.store.layout import CONFIG_FILE, LOCK_FILE, check_embedder, check_new, stored_config
from ragline.store.lock import WriteLock
from ragline.store.lookup import DocumentLookup
from ragline.store.state import KnowledgeBaseState, fitting_query_encoder
from ragline.writer import Source, Writer

if TYPE_CHECKING:
    from ragline.generate.ask import AnswerPipeline


class KnowledgeBase:
    """Documents in, searchable chunks out; usable as a context manager.

    >>> import tempfile
    >>> from ragline.embed.fake import HashEncoder
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with KnowledgeBase.create(tmp + "/kb", encoder=HashEncoder()) as kb:
    ...         _ = kb.add([Document("a", "Cats purr softly."), Document("b", "Dogs bark.")])
    ...         [hit.chunk.doc_id for hit in kb.search("why do dogs bark", k=1)]
    ['b']
    """

    def __init__(
        self, path: Path, config: Config, encoder: Encoder, query_encoder: Encoder | None = None
    ) -> None:
        self.path = path
        self.state = KnowledgeBaseState.at(path, config, encoder, query_encoder)
        self.catalog = self.state.catalog
        self.indexes = IndexKeeper(self.state)
        self.writer = Writer(self.state, self.indexes, WriteLock(path / LOCK_FILE))
        self.retrieval = RetrievalPipeline(
            self.catalog,
            self.indexes.ensure,
            self.state.encoder_for_queries,
            self.state.lock,
            rerank_cache_dir=path,
        )
        self._titles = CatalogTitles(self.catalog, self.state.lock)
        self.lookup = DocumentLookup(self.catalog)  # find documents again: ls, show, delete

    @property
    def config(self) -> Config:
        return self.state.config

    @property
    def encoder(self) -> Encoder:
        return self.state.encoder

    @property
    def query_encoder(self) -> Encoder | None:
        return self.state.query_encoder

    # ---- opening ----------------------------------------------------------------------
    @classmethod
    def create(
        cls, path: str | Path, config: Config | None = None, *, encoder: Encoder | None = None
    ) -> KnowledgeBase:
        """A new, empty knowledge base at ``path`` (refused if one exists there)."""
        path = Path(path)
        check_new(path)
        config = config or Config()
        encoder = encoder or make_encoder(config.embed)
        kb = cls(path, config, encoder)
        kb.writer.initialize()
        return kb

    @classmethod
    def open(
        cls,
        path: str | Path,
        *,
        encoder: Encoder | None = None,
        config: Config | None = None,
        query_encoder: Encoder | str | None = None,
    ) -> KnowledgeBase:
        """An existing knowledge base, with the embedder and settings it was built with.

        ``config`` may change query-time settings; build-time ones (chunking, embedder,
        index structure) must match the stored ones, or ``ConfigMismatchError`` is raised.
        ``query_encoder`` (an Encoder or a model directory) embeds queries instead of the
        passage embedder: a query encoder trained against this index (``ragline train rag``).
        """
        path = Path(path)
        config = stored_config(path, config)
        encoder = encoder or make_encoder(config.embed)
        query_encoder = fitting_query_encoder(path, config.embed, encoder, query_encoder)
        check_embedder(path, encoder.name)
        return cls(path, config, encoder, query_encoder)

    @classmethod
    def open_or_create(
        cls, path: str | Path, config: Config | None = None, *, encoder: Encoder | None = None
    ) -> KnowledgeBase:
        if (Path(path) / CONFIG_FILE).is_file():
            return cls.open(path, encoder=encoder, config=config)
        return cls.create(path, config, encoder=encoder)

    def __enter__(self) -> KnowledgeBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Save indexes that changed a lot since their saved copy, then release the lock."""
        with self.state.lock:
            self.writer.close()
            self.catalog.close()

    # ---- writing ----------------------------------------------------------------------
    def add(
        self,
        sources: Iterable[Source] | str | Path,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        on_commit: Callable[[list[str], IngestReport], None] | None = None,
    ) -> IngestReport:
        """Add or update documents: Document objects, or files and directories to load.

        Unchanged documents (same id and content hash) are skipped; a changed one replaces
        its old chunks. Inputs that cannot be loaded are reported in ``report.errors`` and
        the rest is still indexed. ``on_commit(doc_ids, report)`` follows each batch.
        """
        return self.writer.add(
            sources, include=include, exclude=exclude, metadata=metadata, on_commit=on_commit
        )

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many existed."""
        return self.writer.delete(doc_ids)

    def delete_where(self, filters: Filters) -> int:
        """Delete every document that has a chunk matching ``filters``."""
        return self.writer.delete_where(filters)

    def reembed(
        self,
        embed: EmbedConfig,
        *,
        encoder: Encoder | None = None,
        batch_size: int = 512,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Re-embed every stored chunk with another embedder (:meth:`Writer.reembed`)."""
        return self.writer.reembed(embed, encoder=encoder, batch_size=batch_size, on_batch=on_batch)

    def save(self) -> None:
        """Write the indexes to disk now (``close`` does it when much has changed)."""
        self.writer.save_indexes()

    # ---- searching --------------------------------------------------------------------
    def search(self, query: str, **options: Any) -> list[Hit]:
        """Top-k hits for one query; options as for ``search_many``."""
        return self.search_many([query], **options)[0]

    def retrieve(
        self, queries: Sequence[str], k: int | None = None, *, filters: Filters | None = None
    ) -> list[list[Hit]]:
        """The Retriever protocol: ``search_many`` with the configured defaults."""
        return self.search_many(queries, k=k, filters=filters)

    def search_many(self, queries: Sequence[str], **options: Any) -> list[list[Hit]]:
        """Search by ``mode`` (hybrid, dense or bm25), defaults from ``config.search``;
        ``options``: the fields of :class:`~ragline.retrieve.options.SearchOptions`."""
        return self.retrieval.search(queries, self.config.search, SearchOptions(**options))

    # ---- answering --------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        generator: Generator | str | None = None,
        mode: str | None = None,
        k: int | None = None,
        hops: int | None = None,
        filters: Filters | None = None,
        search_mode: str | None = None,
        rerank: str | Reranker | None = None,
        search_options: Mapping[str, Any] | None = None,
        on_token: Callable[[str], None] | None = None,
        **overrides: Any,
    ) -> Answer:
        """Answer ``question`` from this knowledge base, citing the passages used.

        ``generator``: a Generator or a name (``GenerateConfig.generator``); ``mode``: plain,
        sequence or token; ``k`` passages; ``hops`` > 1: multi-hop; ``search_mode``, ``rerank``
        and ``search_options`` (more :meth:`search_many` fields; they win) for the passages'
        search. Other keyword arguments override ``config.generate`` for this call."""
        search = {"mode": search_mode, "rerank": rerank, **(search_options or {})}
        return self.answering.ask(
            question,
            self.config.generate,
            partial(self.search, **search),
            generator=generator,
            filters=filters,
            on_token=on_token,
            mode=mode,
            passages=k,
            hops=hops,
            **overrides,
        )

    @cached_property
    def answering(self) -> AnswerPipeline:
        """The answering part, made (and its modules imported) on the first question."""
        from ragline.generate.ask import AnswerPipeline

        return AnswerPipeline(self.documents_named_in, self.encoder)

    def documents_named_in(self, texts: Sequence[str]) -> list[str]:
        """Ids of the documents whose titles ``texts`` name (see ``generate.links``)."""
        return self._titles.named_in(texts)

    # ---- reading ----------------------------------------------------------------------
    def document(self, doc_id: str) -> Document | None:
        return self.catalog.document(doc_id)

    def info(self) -> dict[str, Any]:
        """Counts, embedder and index facts, as ``ragline info --json`` prints them."""
        return self.state.info()
