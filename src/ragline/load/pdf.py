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


MAX_STREAM_BYTES = 8 * 1024 * 1024
"""The most one stream may inflate to: page contents past this are not text worth the
minutes pypdf would spend parsing them, and a few hundred bytes of nested Flate can
inflate to gigabytes (a decompression bomb)."""

MIN_CONTENT_BUDGET = 32 * 1024 * 1024
CONTENT_RATIO = 20
"""The page contents of a file may inflate to ``CONTENT_RATIO`` times its size, or
``MIN_CONTENT_BUDGET`` for a small file: ordinary text compresses a few times, a bomb
a thousand times or more."""


def content_budget(size: int) -> int:
    """How many bytes the page contents of a ``size``-byte PDF may inflate to.

    >>> content_budget(1000) == MIN_CONTENT_BUDGET
    True
    """
    return max(MIN_CONTENT_BUDGET, CONTENT_RATIO * size)


def _extract(data: bytes, source: str) -> PdfText:
    pypdf = require("pypdf", "pdf")
    limits = {
        name: MAX_STREAM_BYTES
        for name in (
            "zlib_maximum_output_length",
            "lzw_maximum_output_length",
            "run_length_maximum_output_length",
            "brotli_maximum_output_length",
            "array_based_stream_maximum_output_length",
            "stream_decoding_work_maximum_length",
        )
    }
    # pypdf reports malformed files with many exception types (PdfReadError, ValueError,
    # KeyError, struct.error, ...); any of them here means the file cannot be read.
    try:
        with pypdf.apply_configuration(**limits):
            reader = pypdf.PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise LoadError(source, "encrypted PDF; it needs a password")
            info = reader.metadata
            title = info.title if info is not None else None
            _check_inflated(reader.pages, content_budget(len(data)), source)
            pages = [normalize_newlines(page.extract_text() or "").strip() for page in reader.pages]
    except LoadError:
        raise
    except pypdf.errors.LimitReachedError as e:
        raise LoadError(source, f"refused: a stream inflates past a limit ({e})") from e
    except pypdf.errors.DependencyError as e:  # AES encryption needs the cryptography package
        raise LoadError(source, f"encrypted PDF cannot be read: {e}") from e
    except Exception as e:
        raise LoadError(source, f"corrupt PDF: {e or type(e).__name__}") from e
    title = (title.strip() if isinstance(title, str) else None) or None
    return PdfText(title, pages, _labels(reader, len(pages)))


def _check_inflated(pages: Any, budget: int, source: str) -> None:
    """Refuse a file whose page contents inflate past ``budget``, before parsing any."""
    total = 0
    for page in pages:
        contents = page.get_contents()
        total += len(contents.get_data()) if contents is not None else 0
        if total > budget:
            raise LoadError(
                source, f"refused: its pages inflate to over {budget} bytes (a decompression bomb?)"
            )


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
