"""BEIR data set folders: ``corpus.jsonl`` records (``_id``, ``title``, ``text``) as documents.

Document ids are the records' ``_id`` unchanged, so the data set's qrels refer to them.
Queries and qrels in the same folder are for evaluation and are not loaded here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.files import document_metadata
from ragline.load.jsonl import JsonlLoader, record_metadata, record_text

CORPUS = "corpus.jsonl"


def is_beir_folder(path: Path) -> bool:
    """Whether ``path`` is a directory holding a BEIR ``corpus.jsonl``."""
    return (path / CORPUS).is_file()


class BeirLoader(JsonlLoader):
    """Loads the corpus of a BEIR folder; text is title, blank line, text (title if non-empty).

    >>> import json, pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     record = {"_id": "d1", "title": "Aspirin", "text": "It thins blood."}
    ...     _ = pathlib.Path(tmp, "corpus.jsonl").write_text(json.dumps(record) + "\\n")
    ...     [doc] = BeirLoader().load(tmp)
    >>> doc.id, doc.text, doc.metadata["title"]
    ('d1', 'Aspirin\\n\\nIt thins blood.', 'Aspirin')
    """

    def documents(
        self, file: Path, source: str, doc_id: str | None
    ) -> Iterator[Document | LoadError]:
        """One document or LoadError per record of ``file``/corpus.jsonl; BEIR documents
        keep their own ids, so ``doc_id`` is ignored."""
        corpus = file / CORPUS
        return super().documents(corpus, str(corpus), None)

    def record_document(
        self, corpus: Path, file_id: str, mtime: float, lineno: int, record: dict[str, Any]
    ) -> Document:
        where = f"{corpus}:{lineno}"
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
