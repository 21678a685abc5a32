"""Change the knowledge base at a path, as ``ragline index`` and ``ragline delete`` do: index
files into it (creating it when missing) and delete documents by id, path or metadata filter;
and move it onto a retrieval stack's retriever (``--stack``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragline.config import Config
from ragline.errors import ConfigMismatchError, LoadError
from ragline.filters import Filters
from ragline.ingest import IngestReport
from ragline.kb import KnowledgeBase
from ragline.stack import Stack
from ragline.store.layout import CONFIG_FILE

if TYPE_CHECKING:
    from ragline.documents import Document
    from ragline.load.paths import PathScan
    from ragline.store.doc_ids import DocumentIds

Reader = Callable[..., Iterable["Document | LoadError"]]
"""Reads sources into a knowledge base's documents, in order:
``reader(kb, sources, include=, exclude=, metadata=, doc_ids=)`` (see :func:`read_here`)."""

BUILD_FLAGS: dict[str, tuple[str, str]] = {
    "--chunker": ("chunk", "method"),
    "--chunk-size": ("chunk", "size"),
    "--overlap": ("chunk", "overlap"),
    "--embedder": ("embed", "model"),
    "--vector-dtype": ("embed", "vector_dtype"),
    "--index": ("index", "factory"),
    "--backend": ("index", "backend"),
    "--uri": ("index", "uri"),
}
"""The ``index`` flags that set build-time options: flag → (config section, field)."""


@dataclass(frozen=True)
class IndexingResult:
    """What indexing did (the ingest report), the knowledge base's size afterwards, and what
    the paths held before loading (the files of unknown type left out, by extension)."""

    report: IngestReport
    documents: int
    chunks: int
    scan: PathScan

    @property
    def failed(self) -> bool:
        """Inputs could not be read, and nothing was indexed or found unchanged."""
        report = self.report
        return bool(report.errors) and report.indexed == 0 and report.unchanged == 0

    def to_dict(self) -> dict[str, Any]:
        """The ingest report, with the knowledge base's ``documents`` and ``total_chunks``,
        and ``skipped_types`` (extension → files of that unknown type left out)."""
        return {
            **self.report.to_dict(),
            "documents": self.documents,
            "total_chunks": self.chunks,
            "skipped_types": self.scan.skipped,
        }


def stored_config(path: str | Path) -> Config:
    """The configuration the knowledge base at ``path`` was built with, or the defaults where
    there is none yet: the base that build options given for an existing one must match."""
    config_file = Path(path) / CONFIG_FILE
    return Config.read(config_file) if config_file.is_file() else Config()


def check_build_options(path: str | Path, config: Config) -> None:
    """Refuse, in one line naming the flag and both values, a ``config`` whose build-time
    options differ from those the knowledge base at ``path`` was built with (none there yet:
    anything goes)."""
    if not (Path(path) / CONFIG_FILE).is_file():
        return
    stored = stored_config(path)
    for flag, (section, name) in BUILD_FLAGS.items():
        built, asked = (getattr(getattr(c, section), name) for c in (stored, config))
        if built != asked:
            raise ConfigMismatchError(
                f"{path} was built with {flag} {built}, not {asked}: build options are "
                f"fixed when a knowledge base is created (leave out {flag}, or index into a "
                "new --kb)"
            )


def index_paths(
    path: str | Path,
    sources: Sequence[str | Path],
    config: Config | None = None,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
    on_commit: Callable[[list[str], IngestReport], None] | None = None,
    on_input: Callable[[int, int], None] | None = None,
    reader: Reader | None = None,
) -> IndexingResult:
    """Add or update files and directories in the knowledge base at ``path``, created with
    ``config`` when missing (an existing one refuses a ``config`` whose build-time settings
    differ from its own). ``on_input(done, total)`` reports the inputs (files, BEIR folders)
    read so far, out of those found; ``on_commit`` and the rest are ``KnowledgeBase.add``'s.
    Every source must exist: the first that does not is refused (LoadError) before anything
    is created. ``reader`` reads the sources (default: :func:`read_here`)."""
    from ragline.load.paths import scan_paths
    from ragline.store.doc_ids import DocumentIds

    scan = scan_paths(sources, include=include, exclude=exclude)
    if config is not None:
        check_build_options(path, config)
    with KnowledgeBase.open_or_create(path, config) as kb:
        doc_ids = DocumentIds(kb.catalog)  # files named by the knowledge base's id rule
        doc_ids.record_root(list(sources))
        found = (reader or read_here)(
            kb, sources, include=include, exclude=exclude, metadata=metadata, doc_ids=doc_ids
        )
        if on_input is not None:
            found = _counted(found, scan.files, on_input)
        report = kb.add(found, on_commit=on_commit)
        info = kb.info()
    return IndexingResult(report, info["documents"], info["chunks"], scan)


def read_here(
    kb: KnowledgeBase,
    sources: Sequence[str | Path],
    *,
    include: Sequence[str],
    exclude: Sequence[str],
    metadata: dict[str, Any] | None,
    doc_ids: DocumentIds,
) -> Iterable[Document | LoadError]:
    """The documents of ``sources``, loaded in this process for ``kb`` (chunked and
    embedded later, by ``kb.add``)."""
    from ragline.load.paths import load_paths

    return load_paths(
        sources,
        include=include,
        exclude=exclude,
        config=kb.config.load,
        metadata=metadata,
        doc_ids=doc_ids,
    )


def _counted(
    found: Iterable[Any], total: int, on_input: Callable[[int, int], None]
) -> Iterator[Any]:
    """``found`` (documents and load errors), calling ``on_input(done, total)`` first, as
    each input is done, and at the end. The loader streams input by input, so the next input
    starts where the source path changes (a document's ``path``, an error's ``source``)."""
    done, current = 0, None
    on_input(done, total)
    for item in found:
        source = item.source if isinstance(item, LoadError) else item.metadata.get("path")
        if source != current:
            if current is not None:
                done += 1
                on_input(min(done, total), total)
            current = source
        yield item
    on_input(total, total)


def delete_documents(
    path: str | Path, targets: Sequence[str] = (), filters: Filters | None = None
) -> dict[str, Any]:
    """Delete from the knowledge base at ``path`` the documents ``targets`` name (ids, or
    paths as a user types them: see ``DocumentLookup.resolve``) and those matching
    ``filters``: ``deleted`` counts them, ``doc_ids`` lists them, ``missing`` lists the
    targets that named no document."""
    with KnowledgeBase.open(path) as kb:
        named = {target: kb.lookup.resolve(target) for target in targets}
        ids = [doc_id for found in named.values() for doc_id in found]
        if filters:
            ids += kb.catalog.doc_ids_where(filters)
        ids = list(dict.fromkeys(ids))
        deleted = kb.delete(ids)
    missing = [target for target, found in named.items() if not found]
    return {"deleted": deleted, "doc_ids": ids, "missing": missing}


def move_onto_stack(
    knowledge_base: KnowledgeBase,
    stack: Stack,
    *,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any] | None:
    """Make ``knowledge_base`` searchable by ``stack``: re-embed its stored chunks with the
    stack's retriever when they were embedded with another model (atomically, as
    ``ragline reindex`` does). Returns the re-embedding report, or None when nothing had
    to change."""
    from dataclasses import replace

    if knowledge_base.encoder.name == str(stack.retriever):
        return None
    embed = replace(
        knowledge_base.config.embed,
        model=str(stack.retriever),
        query_prefix="",
        document_prefix="",
    )
    return knowledge_base.reembed(embed, on_batch=on_batch)
