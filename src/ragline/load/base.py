"""What loaders produce: a stream of Documents, and LoadErrors for inputs that failed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from ragline.documents import Document
from ragline.errors import LoadError

LoadResult = Document | LoadError


class Loader(Protocol):
    """Reads one file into zero or more documents, or errors naming the file and the reason."""

    def load(self, path: str) -> Iterator[LoadResult]: ...


class FileLoader(Loader, Protocol):
    """A Loader that can be told the document id to give a file (the walker derives it).

    Without ``doc_id`` a loader names a document after the file. Loaders whose records carry
    their own ids use it only for records without one (JSONL) or ignore it (BEIR).
    """

    def load(self, path: str, *, doc_id: str | None = None) -> Iterator[LoadResult]: ...
