"""KnowledgeBase: the catalog plus its derived indexes, behind one small API.

A knowledge base is a directory::

    ragline.toml      the configuration it was built with
    catalog.sqlite    the truth: documents, chunks, metadata, vectors (SQLite, WAL)
    dense.faiss       FAISS index, tagged with the catalog generation it reflects
    bm25.npz          BM25 index, likewise
    write.lock        held by the one process allowed to write

Indexes are caches: on open, a missing or stale one is caught up from the catalog (new rows,
tombstoned rows) or rebuilt from stored vectors — never by re-embedding. They are saved only
when enough has changed since the saved copy, so adding one document stays cheap.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import IO, Any

from ragline.chunk import make_chunker
from ragline.config import Config, EmbedConfig
from ragline.documents import Answer, Document, Hit
from ragline.embed import make_encoder
from ragline.embed.base import Encoder
from ragline.errors import ConfigMismatchError, KnowledgeBaseLockedError, LoadError, RaglineError
from ragline.generate.base import Generator
from ragline.generate.links import TitleIndex
from ragline.index.base import SearchParams
from ragline.index.bm25 import BM25Index
from ragline.index.faiss import FaissIndex, resolve_factory
from ragline.index.filters import Filters
from ragline.ingest import IngestReport, ingest
from ragline.rerank.base import Reranker, fuse_with_first_stage
from ragline.retrieve.base import Ranking, to_rankings
from ragline.retrieve.dense import dense_rankings
from ragline.retrieve.fusion import reciprocal_rank_fusion, score_fusion
from ragline.store.catalog import INDEXED_TEXT, Catalog

log = logging.getLogger(__name__)

CONFIG_FILE = "ragline.toml"
CATALOG_FILE = "catalog.sqlite"
DENSE_FILE = "dense.faiss"
BM25_FILE = "bm25.npz"
LOCK_FILE = "write.lock"
SAVE_AFTER_CHANGES = 5000
SAVE_AFTER_FRACTION = 0.05
COMPACT_FRACTION = 0.2
TRAIN_SAMPLE = 100_000
BUILD_SECTIONS = ("chunk", "embed", "index")


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
        self.config = config
        self.encoder = encoder
        self.query_encoder = query_encoder
        self.catalog = Catalog(path / CATALOG_FILE, vector_dtype=config.embed.vector_dtype)
        self._lock = threading.RLock()
        self._lock_file: IO[str] | None = None
        self._dense: FaissIndex | None = None
        self._bm25: BM25Index | None = None
        self._unsaved = 0
        self._generators: dict[str, Generator] = {}
        self._rerankers: dict[str, Reranker] = {}
        self._titles: tuple[int, TitleIndex] | None = None

    # ---- opening ----------------------------------------------------------------------
    @classmethod
    def create(
        cls, path: str | Path, config: Config | None = None, *, encoder: Encoder | None = None
    ) -> KnowledgeBase:
        """A new, empty knowledge base at ``path`` (refused if one exists there)."""
        path = Path(path)
        if (path / CONFIG_FILE).exists():
            raise RaglineError(f"{path}: a knowledge base already exists here")
        if path.exists() and not path.is_dir():
            raise RaglineError(f"{path}: exists and is not a directory")
        config = config or Config()
        encoder = encoder or make_encoder(config.embed)
        path.mkdir(parents=True, exist_ok=True)
        kb = cls(path, config, encoder)
        kb._acquire_write_lock()
        kb.catalog.set_meta("embedder", encoder.name)
        kb.catalog.set_meta("dim", str(encoder.dim))
        config.write(path / CONFIG_FILE)
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
        if not (path / CONFIG_FILE).is_file():
            raise RaglineError(f"{path}: not a ragline knowledge base (no {CONFIG_FILE})")
        stored = _with_recorded_embedder(path, Config.read(path / CONFIG_FILE))
        if config is not None:
            for section in BUILD_SECTIONS:
                if getattr(config, section) != getattr(stored, section):
                    raise ConfigMismatchError(
                        f"{path}: built with [{section}] {getattr(stored, section)}, "
                        f"opened with {getattr(config, section)}"
                    )
            stored = config
        encoder = encoder or make_encoder(stored.embed)
        if isinstance(query_encoder, str):
            query_encoder = make_encoder(replace(stored.embed, model=query_encoder))
        if query_encoder is not None and query_encoder.dim != encoder.dim:
            raise ConfigMismatchError(
                f"query encoder {query_encoder.name}: {query_encoder.dim}-d, but {path} holds "
                f"{encoder.dim}-d vectors"
            )
        kb = cls(path, stored, encoder, query_encoder)
        recorded = kb.catalog.get_meta("embedder")
        if recorded is not None and recorded != encoder.name:
            kb.catalog.close()
            raise ConfigMismatchError(
                f"{path}: built with embedder {recorded!r}, opened with {encoder.name!r}; "
                "mixing embedders in one index is refused (re-create the knowledge base)"
            )
        return kb

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
        with self._lock:
            if self._lock_file is not None:
                self._save_indexes(force=False)
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                self._lock_file.close()
                self._lock_file = None
            self.catalog.close()

    def _acquire_write_lock(self) -> None:
        if self._lock_file is not None:
            return
        handle = open(self.path / LOCK_FILE, "a+")  # noqa: SIM115 - held until close()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as e:
            handle.close()
            raise KnowledgeBaseLockedError(
                f"{self.path}: another process is writing to this knowledge base"
            ) from e
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    # ---- writing ----------------------------------------------------------------------
    def add(
        self,
        sources: Iterable[Document | LoadError | str | Path] | str | Path,
        *,
        include: Sequence[str] = (),
        exclude: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
        on_commit: Callable[[list[str], IngestReport], None] | None = None,
    ) -> IngestReport:
        """Add or update documents: Document objects, or files and directories to load.

        Unchanged documents (same id and content hash) are skipped; a changed one replaces
        its old chunks. Inputs that cannot be loaded are reported in ``report.errors`` and
        the rest is still indexed.
        """
        from ragline.load import load_paths

        if isinstance(sources, str | Path):
            sources = [sources]

        load = partial(
            load_paths,
            include=include,
            exclude=exclude,
            config=self.config.load,
            metadata=metadata,
        )

        def stream() -> Iterable[Document | LoadError]:
            paths: list[str | Path] = []
            for source in sources:
                if not isinstance(source, Document | LoadError):
                    paths.append(source)
                    continue
                if paths:
                    yield from load(paths)
                    paths = []
                if isinstance(source, Document) and metadata:
                    source = replace(source, metadata={**source.metadata, **metadata})
                yield source
            if paths:
                yield from load(paths)

        with self._lock:
            self._acquire_write_lock()
            self._ensure_indexes()

            def committed(doc_ids: list[str], report: IngestReport) -> None:
                self._sync()
                if on_commit is not None:
                    on_commit(doc_ids, report)

            report = ingest(
                stream(),
                catalog=self.catalog,
                chunker=make_chunker(self.config.chunk, self.encoder),
                encoder=self.encoder,
                batch_size=self.config.embed.batch_size,
                on_commit=committed,
            )
            self._maintain()
            return report

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Delete documents by id; returns how many existed."""
        with self._lock:
            self._acquire_write_lock()
            removed = self.catalog.delete(list(doc_ids))
            if self._dense is not None:
                self._sync()
            return removed

    def delete_where(self, filters: Filters) -> int:
        """Delete every document that has a chunk matching ``filters``."""
        return self.delete(self.catalog.doc_ids_where(filters))

    # ---- indexes ----------------------------------------------------------------------
    def _ensure_indexes(self) -> tuple[FaissIndex, BM25Index]:
        if self._dense is None or self._bm25 is None:
            self._dense = self._load_dense()
            self._bm25 = self._load_bm25()
        self._sync()
        return self._dense, self._bm25

    def _pruned_through(self) -> int:
        return int(self.catalog.get_meta("pruned_through") or 0)

    def _usable(self, index: FaissIndex | BM25Index) -> bool:
        oldest = self._pruned_through()
        if isinstance(index, FaissIndex):
            oldest = max(oldest, int(self.catalog.get_meta("vectors_generation") or 0))
        return oldest <= index.generation <= self.catalog.generation

    def _load_dense(self) -> FaissIndex:
        file = self.path / DENSE_FILE
        if file.is_file():
            try:
                index = FaissIndex.load(file)
                wanted = self.config.index.factory
                if (
                    self._usable(index)
                    and index.dim == self.encoder.dim
                    and (wanted == "auto" or index.factory == wanted)
                ):
                    return index
            except (OSError, ValueError, KeyError, RuntimeError) as e:
                log.warning("%s unreadable (%s): rebuilding it from the catalog", file, e)
        return self._build_dense()

    def _load_bm25(self) -> BM25Index:
        file = self.path / BM25_FILE
        index_config = self.config.index
        if file.is_file():
            try:
                index = BM25Index.load(file)
                same = (index.k1, index.b, index.stemmer, index.stopwords) == (
                    index_config.bm25_k1,
                    index_config.bm25_b,
                    index_config.bm25_stemmer,
                    index_config.bm25_stopwords,
                )
                if same and self._usable(index):
                    return index
            except (OSError, ValueError, KeyError) as e:
                log.warning("%s unreadable (%s): rebuilding it from the catalog", file, e)
        return self._build_bm25()

    def _build_dense(self) -> FaissIndex:
        """A dense index from the stored vectors (no re-embedding)."""
        generation = self.catalog.generation
        _, n_chunks = self.catalog.counts()
        index = FaissIndex(self.encoder.dim, resolve_factory(self.config.index.factory, n_chunks))
        if index.needs_training and n_chunks:
            all_ids = self.catalog.rowids_where({}).tolist()
            sample = random.Random(0).sample(all_ids, min(len(all_ids), TRAIN_SAMPLE))
            index.train(self.catalog.vectors(sample)[1])
        log.info("building %s index over %d chunks", index.effective_factory, n_chunks)
        for ids, vectors in self.catalog.iter_rows(columns="vector"):
            index.add(ids, vectors)
        index.generation = generation
        self._unsaved += n_chunks
        return index

    def _build_bm25(self) -> BM25Index:
        generation = self.catalog.generation
        cfg = self.config.index
        index = BM25Index(
            k1=cfg.bm25_k1, b=cfg.bm25_b, stemmer=cfg.bm25_stemmer, stopwords=cfg.bm25_stopwords
        )
        for ids, texts in self.catalog.iter_rows(columns=INDEXED_TEXT):
            index.add(ids, texts)
        index.generation = generation
        self._unsaved += len(index)
        return index

    def _sync(self) -> None:
        """Bring loaded indexes up to the catalog's generation: new rows in, deleted rows out."""
        dense, bm25 = self._dense, self._bm25
        if dense is None or bm25 is None:
            return
        generation = self.catalog.generation
        if dense.generation == bm25.generation == generation:
            return
        recorded = self.catalog.get_meta("embedder")
        if recorded is not None and recorded != self.encoder.name:
            self._follow_reembedding()
        if not self._usable(dense):
            self._dense = dense = self._load_dense()
        if not self._usable(bm25):
            self._bm25 = bm25 = self._load_bm25()
        for ids, vectors in self.catalog.iter_rows(after=dense.max_rowid, columns="vector"):
            dense.add(ids, vectors)
            self._unsaved += len(ids)
        for ids, texts in self.catalog.iter_rows(after=bm25.max_rowid, columns=INDEXED_TEXT):
            bm25.add(ids, texts)
        removed = self.catalog.tombstones_after(dense.generation)
        self._unsaved += len(removed)
        dense.remove(removed)
        same = bm25.generation == dense.generation
        bm25.remove(removed if same else self.catalog.tombstones_after(bm25.generation))
        dense.generation = bm25.generation = generation

    def _follow_reembedding(self) -> None:
        """Another process re-embedded the catalog: switch to its embedder and vectors."""
        embed = _with_recorded_embedder(self.path, self.config).embed
        log.info("%s was re-embedded with %s: switching to it", self.path, embed.model)
        self.config = replace(self.config, embed=embed)
        self.encoder = make_encoder(embed)

    def reembed(
        self,
        embed: EmbedConfig,
        *,
        encoder: Encoder | None = None,
        batch_size: int = 512,
        on_batch: Callable[[int, int], None] | None = None,
    ) -> dict[str, Any]:
        """Re-embed every stored chunk with another embedder, atomically.

        New vectors are staged in the catalog beside the live ones, so searches keep using
        the old vectors and index until all are done (an interrupted run resumes where it
        stopped); one transaction then makes them live with the new embedder's name, and
        the dense index is rebuilt from them. Chunk boundaries are kept as they are.
        ``on_batch(done, total)`` reports progress.
        """
        import json
        import time

        started = time.perf_counter()
        with self._lock:
            self._acquire_write_lock()
            self._ensure_indexes()
            encoder = encoder or make_encoder(embed)
            target = f"{encoder.name}|{encoder.dim}|{embed.document_prefix}"
            if self.catalog.get_meta("staged_for") != target:
                self.catalog.clear_staged()
                self.catalog.set_meta("staged_for", target)
            done = self.catalog.staged_ids()
            _, total = self.catalog.counts()
            resumed = len(done)
            for ids, texts in self.catalog.iter_rows(columns=INDEXED_TEXT, batch=batch_size):
                keep = [n for n, rowid in enumerate(ids.tolist()) if rowid not in done]
                if keep:
                    vectors = encoder.encode_documents([texts[n] for n in keep])
                    self.catalog.stage_vectors(ids[keep], vectors)
                    done.update(ids[keep].tolist())
                if on_batch is not None:
                    on_batch(min(len(done), total), total)
            config = replace(self.config, embed=embed)
            self.catalog.swap_staged_vectors(
                {
                    "embedder": encoder.name,
                    "dim": str(encoder.dim),
                    "embed_config": json.dumps(config.to_dict()["embed"]),
                    "staged_for": "",
                }
            )
            config.write(self.path / CONFIG_FILE)
            self.config, self.encoder = config, encoder
            self._dense = self._build_dense()
            self._save_indexes(force=True)
        return {
            "path": str(self.path),
            "embedder": encoder.name,
            "dim": encoder.dim,
            "chunks": total,
            "resumed_from": resumed,
            "seconds": round(time.perf_counter() - started, 2),
        }

    def _maintain(self) -> None:
        """Compact or retrain indexes that drifted, and save them when enough changed."""
        dense, bm25 = self._dense, self._bm25
        if dense is None or bm25 is None:
            return
        if dense.tombstone_fraction > COMPACT_FRACTION or (
            dense.needs_training and len(dense) >= 40 * _nlist(dense.factory)
        ):
            self._dense = self._build_dense()
        if bm25.dead_fraction > COMPACT_FRACTION:
            bm25.compact()
        self._save_indexes(force=False)

    def _save_indexes(self, *, force: bool) -> None:
        dense, bm25 = self._dense, self._bm25
        if dense is None or bm25 is None or self._lock_file is None:
            return
        self._sync()
        threshold = max(SAVE_AFTER_CHANGES, SAVE_AFTER_FRACTION * len(dense))
        missing = not (self.path / DENSE_FILE).exists() or not (self.path / BM25_FILE).exists()
        if not (force or missing or self._unsaved >= threshold):
            return
        dense.save(self.path / DENSE_FILE)
        bm25.save(self.path / BM25_FILE)
        generation = min(dense.generation, bm25.generation)
        self.catalog.prune_tombstones(generation)
        self.catalog.set_meta("pruned_through", str(generation))
        self.catalog.set_meta("dense_index", dense.effective_factory)
        self._unsaved = 0

    def save(self) -> None:
        """Write the indexes to disk now (``close`` does it when much has changed)."""
        with self._lock:
            self._acquire_write_lock()
            self._ensure_indexes()
            self._save_indexes(force=True)

    # ---- searching --------------------------------------------------------------------
    def search(self, query: str, **options: Any) -> list[Hit]:
        """Top-k hits for one query; options as for ``search_many``."""
        return self.search_many([query], **options)[0]

    def retrieve(
        self, queries: Sequence[str], k: int | None = None, *, filters: Filters | None = None
    ) -> list[list[Hit]]:
        """The Retriever protocol: ``search_many`` with the configured defaults."""
        return self.search_many(queries, k=k, filters=filters)

    def search_many(
        self,
        queries: Sequence[str],
        *,
        k: int | None = None,
        mode: str | None = None,
        filters: Filters | None = None,
        fusion: str | None = None,
        depth: int | None = None,
        rrf_k: int | None = None,
        alpha: float | None = None,
        nprobe: int | None = None,
        ef_search: int | None = None,
        rerank: str | Reranker | None = None,
        rerank_depth: int | None = None,
        rerank_fusion: str | None = None,
    ) -> list[list[Hit]]:
        """Search by ``mode`` (hybrid, dense or bm25), defaults from ``config.search``.

        Hybrid fuses each side's top ``depth`` by reciprocal rank (``rrf_k``) or by
        normalised score (weight ``alpha`` on dense). Filters are applied inside each index.
        With ``rerank`` (a Reranker or a name), the first stage's top ``rerank_depth`` hits
        are re-scored (``rerank_fusion="rrf"``: re-ordered by both stages' ranks) and lead
        the results; any further hits follow in first-stage order.
        """
        cfg = self.config.search
        k = k or cfg.k
        reranker = self._reranker_for(cfg.rerank if rerank is None else rerank)
        if reranker is not None:
            rerank_depth = rerank_depth or cfg.rerank_depth
            first = self.search_many(
                queries, k=max(k, rerank_depth), mode=mode, filters=filters, fusion=fusion,
                depth=depth, rrf_k=rrf_k, alpha=alpha, nprobe=nprobe, ef_search=ef_search,
                rerank="",
            )  # fmt: skip
            heads = reranker.rerank_many(queries, [row[:rerank_depth] for row in first])
            fusion_of_stages = rerank_fusion or cfg.rerank_fusion
            if fusion_of_stages not in ("none", "rrf"):
                raise RaglineError(f"rerank fusion {fusion_of_stages!r}: use none or rrf")
            if fusion_of_stages == "rrf":
                heads = [fuse_with_first_stage(head, rrf_k or cfg.rrf_k) for head in heads]
            return [
                (head + _renumbered(row[rerank_depth:], len(head)))[:k]
                for head, row in zip(heads, first, strict=True)
            ]
        mode = mode or cfg.mode
        fusion = fusion or cfg.fusion
        if mode not in ("hybrid", "dense", "bm25"):
            raise RaglineError(f"search mode {mode!r}: use hybrid, dense or bm25")
        if fusion not in ("rrf", "score"):
            raise RaglineError(f"fusion {fusion!r}: use rrf or score")
        depth = depth or cfg.depth
        dense_depth = max(cfg.dense_depth or depth, k) if mode == "hybrid" else k
        bm25_depth = max(cfg.bm25_depth or depth, k) if mode == "hybrid" else k
        # Encoding and result assembly run outside the lock so concurrent searches overlap;
        # only the index lookups, which a concurrent write could change, hold it.
        encoder = self.query_encoder or self.encoder
        vectors = encoder.encode_queries(list(queries)) if mode != "bm25" else None
        sides: dict[str, list[Ranking]] = {}
        with self._lock:
            dense, bm25 = self._ensure_indexes()
            if vectors is not None and (self.query_encoder or self.encoder) is not encoder:
                vectors = self.encoder.encode_queries(list(queries))  # re-embedded meanwhile
            allowed = self.catalog.rowids_where(filters) if filters else None
            params = SearchParams(
                nprobe=nprobe or cfg.nprobe, ef_search=ef_search or cfg.ef_search, allowed=allowed
            )
            if vectors is not None:
                sides["dense"] = dense_rankings(dense, self.catalog, vectors, dense_depth, params)
            if mode != "dense":
                sides["bm25"] = to_rankings(*bm25.search(list(queries), bm25_depth, params=params))
        results: list[list[Hit]] = []
        for qi in range(len(queries)):
            per_side = {name: rankings[qi] for name, rankings in sides.items()}
            if mode == "hybrid":
                weights = {"dense": cfg.dense_weight, "bm25": cfg.bm25_weight}
                fused = (
                    reciprocal_rank_fusion(per_side, k=rrf_k or cfg.rrf_k, weights=weights)
                    if fusion == "rrf"
                    else score_fusion(per_side, alpha=cfg.alpha if alpha is None else alpha)
                )
            else:
                fused = per_side[mode]
            results.append(self._hits(fused[:k], per_side, mode))
        return results

    def _hits(self, fused: Ranking, per_side: dict[str, Ranking], source: str) -> list[Hit]:
        chunks = self.catalog.chunks([i for i, _ in fused])
        positions = {
            name: {item: (rank, score) for rank, (item, score) in enumerate(ranking, start=1)}
            for name, ranking in per_side.items()
        }
        hits: list[Hit] = []
        for item, score in fused:
            chunk = chunks.get(item)
            if chunk is None:
                continue
            hit = Hit(chunk, score, len(hits) + 1, source)
            for name, found in positions.items():
                if item in found:
                    hit.ranks[name], hit.scores[name] = found[item]
            hits.append(hit)
        return hits

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
        on_token: Callable[[str], None] | None = None,
        **overrides: Any,
    ) -> Answer:
        """Answer ``question`` from this knowledge base, citing the passages used.

        ``generator`` is a Generator or a name (see ``GenerateConfig.generator``); ``mode``
        plain, sequence or token; ``k`` passages; ``hops`` > 1 for multi-hop retrieval;
        ``rerank`` a re-ranker (or its name) for the retrieved passages.
        Other keyword arguments override ``config.generate`` for this call.
        """
        from ragline.generate.answer import answer, with_generation_overrides
        from ragline.generate.multihop import ContextBudget, multihop_retrieve

        config = with_generation_overrides(
            self.config.generate, mode=mode, passages=k, hops=hops, **overrides
        )
        model = self._generator_for(generator, config)

        if config.hops > 1 and config.follow_up == "links" and filters and "doc_id" in filters:
            raise RaglineError("follow-up 'links' cannot be combined with a doc_id filter")

        def search(query: str, documents: Sequence[str] | None = None) -> list[Hit]:
            scoped = filters
            if documents is not None:
                scoped = {**(filters or {}), "doc_id": {"in": list(documents)}}
            return self.search(
                query, k=config.passages, filters=scoped, mode=search_mode, rerank=rerank
            )

        encode = getattr(model, "encode", None)
        count_tokens = (lambda text: len(encode(text))) if callable(encode) else None
        if config.hops > 1:
            passages, log = multihop_retrieve(
                question,
                search,
                model,
                hops=config.hops,
                passages=config.passages,
                follow_up=config.follow_up,
                budget=ContextBudget(config.context_tokens, count_tokens, config.answer_style),
                named_documents=self.documents_named_in,
            )
        else:
            passages = search(question)
            log = [{"query": question, "chunk_ids": [hit.chunk.id for hit in passages]}]
        result = answer(
            question,
            passages,
            model,
            config,
            count_tokens=count_tokens,
            on_token=on_token,
        )
        result.hops = log
        return result

    def documents_named_in(self, texts: Sequence[str]) -> list[str]:
        """Ids of the documents whose titles ``texts`` name (see ``generate.links``); the
        title index is built on first use and again after the knowledge base changes."""
        with self._lock:
            generation = self.catalog.generation
            if self._titles is None or self._titles[0] != generation:
                self._titles = (generation, TitleIndex(self.catalog.document_titles()))
            index = self._titles[1]
        return index.named_in(texts)

    def _reranker_for(self, reranker: str | Reranker | None) -> Reranker | None:
        """A Reranker object as given, or one made (and kept) for a name; None for ""."""
        if not reranker:
            return None
        if not isinstance(reranker, str):
            return reranker
        cached = self._rerankers.get(reranker)
        if cached is None:
            from ragline.rerank.registry import make_reranker

            cached = self._rerankers[reranker] = make_reranker(reranker, cache_dir=self.path)
        return cached

    def _generator_for(self, generator: Generator | str | None, config: Any) -> Generator:
        """A Generator object as given, or one made (and kept) for the configured name."""
        from ragline.generate.registry import make_generator

        if generator is not None and not isinstance(generator, str):
            return generator
        name = generator or config.generator
        cached = self._generators.get(name)
        if cached is None:
            cached = self._generators[name] = make_generator(replace(config, generator=name))
        return cached

    # ---- reading ----------------------------------------------------------------------
    def document(self, doc_id: str) -> Document | None:
        return self.catalog.document(doc_id)

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


def _renumbered(hits: list[Hit], after: int) -> list[Hit]:
    """First-stage hits placed after ``after`` re-ranked ones: ranks continue from there."""
    return [replace(hit, rank=after + n) for n, hit in enumerate(hits, start=1)]


def _with_recorded_embedder(path: Path, config: Config) -> Config:
    """``config`` with the embedder the catalog records, which wins over the config file:
    a re-embedding commits in the catalog first and rewrites the file after."""
    import json
    import sqlite3

    try:
        with sqlite3.connect(f"file:{path / CATALOG_FILE}?mode=ro", uri=True) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'embed_config'").fetchone()
    except sqlite3.Error:
        return config
    if row is None:
        return config
    embed = EmbedConfig(**json.loads(row[0]))
    return config if embed == config.embed else replace(config, embed=embed)


def _nlist(factory: str) -> int:
    """The number of IVF cells a factory string asks for (1 when it is not IVF)."""
    for part in factory.split(","):
        if part.startswith("IVF"):
            digits = "".join(ch for ch in part[3:] if ch.isdigit())
            return int(digits or 1)
    return 1
