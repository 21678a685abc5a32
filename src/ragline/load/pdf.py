"""PDF files via pypdf (the ``pdf`` extra): page texts joined by blank lines, page offsets kept."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

from ragline._optional import require
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.files import FileLoaderBase, document_metadata, read_file
from ragline.load.text import normalize_newlines

PAGE_SEPARATOR = "\n\n"


def join_pages(pages: list[str]) -> tuple[str, tuple[int, ...]]:
    """The pages joined by blank lines, and the character offset where each page starts.

    >>> join_pages(["one", "two"])
    ('one\\n\\ntwo', (0, 5))
    """
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        offset += len(page) + len(PAGE_SEPARATOR)
    return PAGE_SEPARATOR.join(pages), tuple(starts)


def _extract(data: bytes, source: str) -> tuple[str | None, list[str]]:
    pypdf = require("pypdf", "pdf")
    # pypdf reports malformed files with many exception types (PdfReadError, ValueError,
    # KeyError, struct.error, ...); any of them here means the file cannot be read.
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError(source, "encrypted PDF; it needs a password")
        info = reader.metadata
        title = info.title if info is not None else None
        pages = [normalize_newlines(page.extract_text() or "").strip() for page in reader.pages]
    except LoadError:
        raise
    except pypdf.errors.DependencyError as e:  # AES encryption needs the cryptography package
        raise LoadError(source, f"encrypted PDF cannot be read: {e}") from e
    except Exception as e:
        raise LoadError(source, f"corrupt PDF: {e or type(e).__name__}") from e
    return (title.strip() if isinstance(title, str) else None) or None, pages


class PdfLoader(FileLoaderBase):
    """Loads a ``.pdf`` file as one document whose ``page_starts`` mark each page.

    Raises MissingDependencyError when pypdf is not installed: that is a setup problem to fix
    once, not a property of this one file.
    """

    def documents(self, file: Path, source: str, doc_id: str | None) -> Iterator[Document]:
        raw = read_file(file, source, self.config.max_file_bytes)
        title, pages = _extract(raw.data, source)
        if not any(pages):
            raise LoadError(source, "no extractable text (a scanned or image-only PDF?)")
        text, starts = join_pages(pages)
        meta = document_metadata(file, title or file.stem, raw.mtime, self.metadata)
        yield Document(doc_id or file.name, text, meta, page_starts=starts)
