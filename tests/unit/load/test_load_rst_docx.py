"""The .rst and .docx loaders, on saved files.

tests/data/rst/atexit.rst is CPython's Sphinx source of the atexit page (Debian's
python3.11-doc, _sources/library/atexit.rst.txt). tests/data/docx/gauge-report.docx was
written with python-docx 1.2.0: a title, headings, paragraphs, a table with a merged row, a
bulleted list, and a page header and footer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load import DocxLoader, RstLoader, load_paths

DATA = Path(__file__).parents[2] / "data"


@pytest.fixture(scope="module")
def atexit() -> Document:
    pytest.importorskip("docutils")
    [doc] = RstLoader().load(str(DATA / "rst" / "atexit.rst"))
    assert isinstance(doc, Document)
    return doc


def test_rst_title_and_roles(atexit: Document) -> None:
    assert atexit.metadata["title"] == "atexit --- Exit handlers"
    assert atexit.text.startswith("atexit --- Exit handlers\n\nThe atexit module defines")
    assert "when os._exit is called." in atexit.text
    assert ":func:" not in atexit.text and ":mod:" not in atexit.text


def test_rst_sphinx_directives_keep_their_signature_and_body(atexit: Document) -> None:
    assert "\n\nregister(func, *args, **kwargs)\n\nRegister func as a function" in atexit.text
    assert "Changed in version 3.7: When used with C-API subinterpreters" in atexit.text
    assert "Module readline" in atexit.text  # the seealso body


def test_rst_site_directives_and_errors_are_not_text(atexit: Document) -> None:
    for absent in ("Skip Montanaro", "synopsis", "Unknown directive", "atexit-example", "---\n"):
        assert absent not in atexit.text
    assert "\n\n\n" not in atexit.text


def test_rst_code_keeps_its_lines(atexit: Document) -> None:
    assert "def incrcounter(n):\n    global _count\n    _count = _count + n" in atexit.text


def test_rst_cannot_read_other_files(tmp_path: Path) -> None:
    pytest.importorskip("docutils")
    secret = tmp_path / "secret.txt"
    secret.write_text("the secret", encoding="utf-8")
    path = tmp_path / "a.rst"
    path.write_text(
        f"Title\n=====\n\n.. include:: {secret}\n\n.. raw:: html\n   :file: {secret}\n\nBody.\n",
        encoding="utf-8",
    )
    [doc] = RstLoader().load(str(path))
    assert isinstance(doc, Document)
    assert doc.text == "Title\n\nBody."


def test_rst_parse_leaves_docutils_registries_as_they_were(atexit: Document) -> None:
    from docutils.parsers.rst import directives, roles

    assert "function" not in directives._directives and "func" not in roles._roles


def test_docx_body_in_order_without_header_and_footer() -> None:
    pytest.importorskip("docx")
    [doc] = DocxLoader().load(str(DATA / "docx" / "gauge-report.docx"))
    assert isinstance(doc, Document)
    assert doc.metadata["title"] == "Harbour gauge report"
    assert doc.text.split("\n\n") == [
        "Harbour gauge report",
        "Summary",
        "The Brest gauge missed 14 readings in March; the log was recovered from the flash card.",
        "Readings are in metres above chart datum. Times are UTC.",
        "Readings",
        "Station | High water | Low water",
        "Brest | 6.9 m | 1.2 m",
        "Roscoff: no data",
        "Check the gauge battery first.",
        "Then copy the log before opening it.",
    ]


def test_a_damaged_docx_is_a_load_error(tmp_path: Path) -> None:
    pytest.importorskip("docx")
    path = tmp_path / "broken.docx"
    path.write_bytes((DATA / "docx" / "gauge-report.docx").read_bytes()[:2000])
    [error] = DocxLoader().load(str(path))
    assert isinstance(error, LoadError)
    assert error.reason.startswith("not a readable .docx file")


def test_folders_load_rst_and_docx() -> None:
    pytest.importorskip("docutils")
    pytest.importorskip("docx")
    docs = list(load_paths([DATA / "rst", DATA / "docx"]))
    assert [d.id for d in docs if isinstance(d, Document)] == [
        "rst/atexit.rst",
        "docx/gauge-report.docx",
    ]


SPHINX_MARKUP = [
    (".. versionchanged:: 3.8\n   The :attr:`x` attribute.\n",
     "Changed in version 3.8: The x attribute."),
    (".. deprecated-removed:: 3.11 3.13\n   Use :mod:`hashlib`.\n",
     "Deprecated since version 3.11, removed in version 3.13: Use hashlib."),
    (".. versionadded:: 3.9\n", "New in version 3.9."),
    (".. seealso:: :pep:`574` -- Pickle protocol 5\n", "PEP 574 -- Pickle protocol 5"),
    (".. function:: f(*args, **kw)\n   :noindex:\n\n   Calls :func:`~a.g`.\n",
     "f(*args, **kw)\n\nCalls g."),
    (".. toctree::\n   :maxdepth: 2\n\n   intro\n\nText.\n", "Text."),
    ("Text with :unknown:role:`x <y>`.\n\n.. c:function:: int f(void)\n",
     "Text with x.\n\nint f(void)"),
]  # fmt: skip


@pytest.mark.parametrize(("rst", "text"), SPHINX_MARKUP)
def test_rst_sphinx_markup(rst: str, text: str) -> None:
    pytest.importorskip("docutils")
    from ragline.load.rst import rst_to_text

    assert rst_to_text(rst)[1] == text
