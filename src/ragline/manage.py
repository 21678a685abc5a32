"""Change the knowledge base at a path, as ``ragline index`` and ``ragline delete`` do: index
files into it (creating it when missing) and delete documents by id, path or metadata filter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragline.config import Config
from ragline.filters import Filters
from ragline.ingest import IngestReport
from ragline.kb import KnowledgeBase
from ragline.store.layout import CONFIG_FILE


@dataclass(frozen=True)
class IndexingResult:
    """What indexing did (the ingest report) and the knowledge base's size afterwards."""

    report: IngestReport
    documents: int
    chunks: int

    @property
    def failed(self) -> bool:
        """Inputs could not be read, and nothing was indexed or found unchanged."""
        report = self.report
        return bool(report.errors) and report.indexed == 0 and report.unchanged == 0

    def to_dict(self) -> dict[str, Any]:
        """The ingest report, with the knowledge base's ``documents`` and ``total_chunks``."""
        return {**self.report.to_dict(), "documents": self.documents, "total_chunks": self.chunks}


def stored_config(path: str | Path) -> Config:
    """The configuration the knowledge base at ``path`` was built with, or the defaults where
    there is none yet: the base that build options given for an existing one must match."""
    config_file = Path(path) / CONFIG_FILE
    return Config.read(config_file) if config_file.is_file() else Config()


def index_paths(
    path: str | Path,
    sources: Sequence[str | Path],
    config: Config | None = None,
    *,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    metadata: dict[str, Any] | None = None,
    on_commit: Callable[[list[str], IngestReport], None] | None = None,
) -> IndexingResult:
    """Add or update files and directories in the knowledge base at ``path``, created with
    ``config`` when missing (an existing one refuses a ``config`` whose build-time settings
    differ from its own). Arguments after ``config`` are those of ``KnowledgeBase.add``."""
    with KnowledgeBase.open_or_create(path, config) as kb:
        report = kb.add(
            sources, include=include, exclude=exclude, metadata=metadata, on_commit=on_commit
        )
        info = kb.info()
    return IndexingResult(report, info["documents"], info["chunks"])


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
