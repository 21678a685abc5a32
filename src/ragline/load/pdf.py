"""PDF files via pypdf (the ``pdf`` extra): page texts joined by blank lines, page offsets kept.

Pages are cleaned first (:mod:`ragline.load.pdf_clean`), and printed page labels ("iv", "A-3")
that differ from the physical page numbers are kept in the document's metadata as
``page_labels``, one per page, so a citation can show the page a reader sees printed.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragline._optional import require
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.files import FileLoaderBase, document_metadata, read_file
from ragline.load.pdf_clean import clean_pages
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


@dataclass(frozen=True)
class PdfText:
    """What a PDF holds for indexing: its title, and each page's text and printed label."""

    title: str | None
    pages: list[str]
    labels: list[str]


def _extract(data: bytes, source: str) -> PdfText:
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
    title = (title.strip() if isinstance(title, str) else None) or None
    return PdfText(title, pages, _labels(reader, len(pages)))


def _labels(reader: Any, count: int) -> list[str]:
    # Printed labels where the PDF declares them; a broken label tree costs the labels only.
    try:
        labels = [str(label) for label in reader.page_labels]
    except Exception:
        labels = []
    return labels if len(labels) == count else physical_labels(count)


def physical_labels(count: int) -> list[str]:
    """The labels of ``count`` pages numbered from 1, as a PDF without page labels has."""
    return [str(n) for n in range(1, count + 1)]


def page_metadata(pdf: PdfText) -> dict[str, Any]:
    """``{"page_labels": [...]}`` when the printed labels differ from the page numbers."""
    return {} if pdf.labels == physical_labels(len(pdf.pages)) else {"page_labels": pdf.labels}


class PdfLoader(FileLoaderBase):
    """Loads a ``.pdf`` file as one document whose ``page_starts`` mark each page, without
    running headers and footers or table-of-contents lines, NFKC-normalised.

    Raises MissingDependencyError when pypdf is not installed: that is a setup problem to fix
    once, not a property of this one file.
    """

    def documents(self, file: Path, source: str, doc_id: str | None) -> Iterator[Document]:
        raw = read_file(file, source, self.config.max_file_bytes)
        pdf = _extract(raw.data, source)
        pages = clean_pages(pdf.pages, pdf.labels)
        if not any(pages):
            raise LoadError(source, "no extractable text (a scanned or image-only PDF?)")
        text, starts = join_pages(pages)
        user = {**(self.metadata or {}), **page_metadata(pdf)}
        meta = document_metadata(file, pdf.title or file.stem, raw.mtime, user)
        yield Document(doc_id or file.name, text, meta, page_starts=starts)
