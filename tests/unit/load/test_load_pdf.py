"""The PDF loader, on PDFs written byte by byte in conftest.build_pdf."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import PdfLoader

pypdf = pytest.importorskip("pypdf")


def test_two_pages_with_page_starts(tmp_path: Path, make_pdf: Callable[..., bytes]) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(make_pdf(["First page text\nstill page one", "Second page text"]))
    [doc] = PdfLoader(metadata={"kind": "report"}).load(str(path))
    assert isinstance(doc, Document)
    assert doc.text == "First page text\nstill page one\n\nSecond page text"
    assert doc.page_starts == (0, len("First page text\nstill page one\n\n"))
    assert doc.text[doc.page_starts[1] :].startswith("Second page")
    assert doc.page_at(0) == 1
    assert doc.page_at(doc.text.index("Second")) == 2
    assert doc.id == "report.pdf"
    assert doc.metadata["title"] == "report"
    assert doc.metadata["kind"] == "report"


def test_title_from_pdf_metadata(tmp_path: Path, make_pdf: Callable[..., bytes]) -> None:
    path = tmp_path / "x.pdf"
    path.write_bytes(make_pdf(["Body"], title="Annual Report"))
    [doc] = PdfLoader().load(str(path))
    assert isinstance(doc, Document)
    assert doc.metadata["title"] == "Annual Report"


@pytest.mark.parametrize(
    "content",
    [b"%PDF-1.4\nthis is not really a pdf", b"plain text named .pdf", b"%PDF-1.4\n1 0 obj\n<<"],
)
def test_corrupt_pdf_is_a_load_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(content)
    [error] = PdfLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert error.source == str(path)
    assert error.reason.startswith("corrupt PDF")


def test_truncated_pdf_is_a_load_error(tmp_path: Path, make_pdf: Callable[..., bytes]) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(make_pdf(["Some text", "More text"])[:250])
    [error] = PdfLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert error.source == str(path)


def test_encrypted_pdf_is_a_load_error(tmp_path: Path, make_pdf: Callable[..., bytes]) -> None:
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(make_pdf(["Secret text"])))
    writer.encrypt("password", algorithm="RC4-128")
    path = tmp_path / "locked.pdf"
    with path.open("wb") as f:
        writer.write(f)
    [error] = PdfLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert "encrypted" in error.reason


def test_pdf_without_text_is_a_load_error(tmp_path: Path, make_pdf: Callable[..., bytes]) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_pdf(["", ""]).replace(b"() Tj", b""))
    [error] = PdfLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert error.reason.startswith("no extractable text")
