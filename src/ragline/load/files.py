"""Reading one file safely: existence, permissions and size checked before any byte is read.

Every loader reads through :func:`read_file`, so the same input problems get the same
one-line reasons, and :func:`document_metadata` gives every document the same source keys.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragline.config import LoadConfig
from ragline.documents import Document
from ragline.errors import LoadError


@dataclass(frozen=True)
class FileData:
    """The bytes of a file and when it was last modified."""

    data: bytes
    mtime: float


def os_reason(error: OSError) -> str:
    """A short, user-facing reason for an OS error.

    >>> os_reason(FileNotFoundError(2, "No such file or directory"))
    'no such file or directory'
    """
    if isinstance(error, FileNotFoundError):
        return "no such file or directory"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a directory"
    return f"cannot read: {(error.strerror or str(error)).lower()}"


def stat_file(path: Path, source: str) -> os.stat_result:
    """``path``'s status, refusing anything that is not a regular file (FIFOs would block)."""
    try:
        st = path.stat()
    except OSError as e:
        raise LoadError(source, os_reason(e)) from e
    if stat.S_ISDIR(st.st_mode):
        raise LoadError(source, "is a directory")
    if not stat.S_ISREG(st.st_mode):
        raise LoadError(source, "not a regular file")
    return st


def read_file(path: Path, source: str, max_bytes: int) -> FileData:
    """The whole content of ``path``; raises LoadError naming ``source`` when it cannot be used.

    The size is checked with ``stat`` before reading, and again while reading in case the
    file grew in between, so an oversized file is never held in memory.
    """
    st = stat_file(path, source)
    if st.st_size > max_bytes:
        raise LoadError(source, f"file is {st.st_size} bytes, over the limit of {max_bytes}")
    try:
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise LoadError(source, os_reason(e)) from e
    if len(data) > max_bytes:
        raise LoadError(source, f"file is over the limit of {max_bytes} bytes")
    if not data.strip():
        raise LoadError(source, "empty file")
    return FileData(data, st.st_mtime)


def document_metadata(
    path: Path, title: str, mtime: float, user: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A document's metadata: the user's keys, then the source keys ``path``, ``title``, ``mtime``.

    >>> document_metadata(Path("/tmp/a.txt"), "a", 1.0, {"lang": "en", "title": "x"})
    {'lang': 'en', 'title': 'a', 'path': '/tmp/a.txt', 'mtime': 1.0}
    """
    return {**(user or {}), "path": os.path.abspath(path), "title": title, "mtime": mtime}


class FileLoaderBase:
    """What every loader shares: its settings, and reporting instead of raising.

    A subclass fills one hook, ``documents(file, source, doc_id)``, which yields documents
    (or LoadErrors for single bad records) and raises LoadError when the whole file is
    unusable; ``load`` turns that into a yielded LoadError naming the file.
    """

    def __init__(
        self, config: LoadConfig | None = None, metadata: Mapping[str, Any] | None = None
    ) -> None:
        self.config = config or LoadConfig()
        self.metadata = metadata

    def load(self, path: str, *, doc_id: str | None = None) -> Iterator[Document | LoadError]:
        """Yield the documents of ``path``, or LoadErrors naming it and the reason."""
        try:
            yield from self.documents(Path(path), path, doc_id)
        except LoadError as e:
            yield e

    def documents(
        self, file: Path, source: str, doc_id: str | None
    ) -> Iterator[Document | LoadError]:
        raise NotImplementedError
