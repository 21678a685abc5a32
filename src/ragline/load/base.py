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
