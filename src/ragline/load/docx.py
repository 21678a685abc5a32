"""Word ``.docx`` files via python-docx (the ``docx`` extra): body paragraphs and tables in
document order, one blank-line-separated block each.

Page headers and footers live outside the body in a ``.docx`` and are left out, like the
running lines of a PDF; so are comments and tracked deletions, which are not the text.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ragline._optional import require
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.files import FileLoaderBase, document_metadata, read_file
from ragline.load.text import normalize_newlines

CELL_SEPARATOR = " | "


def docx_to_text(data: bytes) -> tuple[str | None, str]:
    """The title (document property, else the first Title or Heading 1 paragraph) and text."""
    docx = require("docx", "docx")
    from docx.table import Table

    document = docx.Document(io.BytesIO(data))
    blocks: list[str] = []
    heading: str | None = None
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.extend(_rows(item))
            continue
        text = normalize_newlines(item.text).strip()
        if not text:
            continue
        blocks.append(text)
        style = item.style.name if item.style is not None else ""
        if heading is None and style in ("Title", "Heading 1"):
            heading = text
    title = (document.core_properties.title or "").strip() or heading
    return title, "\n\n".join(blocks)


def _rows(table: Any) -> Iterator[str]:
    # A merged cell is returned once per grid column it spans; it is shown once.
    for row in table.rows:
        cells: list[Any] = []
        for cell in row.cells:
            if not cells or cell._tc is not cells[-1]._tc:
                cells.append(cell)
        text = CELL_SEPARATOR.join(" ".join(cell.text.split()) for cell in cells)
        if text.replace(CELL_SEPARATOR, "").strip():
            yield text


class DocxLoader(FileLoaderBase):
    """Loads a ``.docx`` file as one document.

    Raises MissingDependencyError when python-docx is not installed.
    """

    def documents(self, file: Path, source: str, doc_id: str | None) -> Iterator[Document]:
        raw = read_file(file, source, self.config.max_file_bytes)
        require("docx", "docx")
        # python-docx reports a damaged or foreign file with many exception types (bad zip,
        # missing part, XML syntax, ...); any of them means this file cannot be read.
        try:
            title, text = docx_to_text(raw.data)
        except Exception as e:
            raise LoadError(source, f"not a readable .docx file: {e or type(e).__name__}") from e
        if not text:
            raise LoadError(source, "no text")
        meta = document_metadata(file, title or file.stem, raw.mtime, self.metadata)
        yield Document(doc_id or file.name, text, meta)
