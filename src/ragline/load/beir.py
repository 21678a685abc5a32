"""BEIR data set folders: ``corpus.jsonl`` records (``_id``, ``title``, ``text``) as documents.

Document ids are the records' ``_id`` unchanged, so the data set's qrels refer to them.
Queries and qrels in the same folder are for evaluation and are not loaded here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ragline.config import LoadConfig
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.base import LoadResult
from ragline.load.files import document_metadata, stat_file
from ragline.load.jsonl import iter_records, record_metadata, record_text

CORPUS = "corpus.jsonl"


def is_beir_folder(path: Path) -> bool:
    """Whether ``path`` is a directory holding a BEIR ``corpus.jsonl``."""
    return (path / CORPUS).is_file()


class BeirLoader:
    """Loads the corpus of a BEIR folder; text is title, blank line, text (title if non-empty).

    >>> import json, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     record = {"_id": "d1", "title": "Aspirin", "text": "It thins blood."}
    ...     _ = pathlib.Path(tmp, "corpus.jsonl").write_text(json.dumps(record) + "\\n")
    ...     [doc] = BeirLoader().load(tmp)
    >>> doc.id, doc.text, doc.metadata["title"]
    ('d1', 'Aspirin\\n\\nIt thins blood.', 'Aspirin')
    """

    def __init__(
        self, config: LoadConfig | None = None, metadata: Mapping[str, Any] | None = None
    ) -> None:
        self.config = config or LoadConfig()
        self.metadata = metadata

    def load(self, path: str, *, doc_id: str | None = None) -> Iterator[LoadResult]:
        """Yield one document or LoadError per corpus record; ``path`` is the folder.

        ``doc_id`` is accepted for symmetry with the other loaders and ignored: BEIR
        documents keep their own ids.
        """
        corpus = Path(path) / CORPUS
        source = str(corpus)
        try:
            mtime = stat_file(corpus, source).st_mtime
        except LoadError as e:
            yield e
            return
        for item in iter_records(corpus, source, self.config.max_file_bytes):
            if isinstance(item, LoadError):
                yield item
                continue
            lineno, record = item
            try:
                yield self._document(corpus, mtime, f"{source}:{lineno}", record)
            except LoadError as e:
                yield e

    def _document(self, corpus: Path, mtime: float, where: str, record: dict[str, Any]) -> Document:
        doc_id = record.get("_id")
        if not isinstance(doc_id, str | int) or isinstance(doc_id, bool) or doc_id == "":
            raise LoadError(where, "no '_id' field")
        title = record.get("title") or ""
        if not isinstance(title, str):
            raise LoadError(where, "'title' is not a string")
        title = title.strip()
        body = record.get("text")
        if title and isinstance(body, str) and not body.strip():
            text = title  # some BEIR corpora have title-only records
        else:
            text = record_text(record, "text", where)
            text = f"{title}\n\n{text}" if title else text
        user = {**(self.metadata or {}), **record_metadata(record)}
        return Document(str(doc_id), text, document_metadata(corpus, title, mtime, user))
