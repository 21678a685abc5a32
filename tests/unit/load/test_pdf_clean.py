"""PDF cleaning on a saved manual: running headers and footers, dot-leader contents lines and
ligatures removed, printed page labels kept in the document's metadata.

tests/data/pdf/tide-manual.pdf is what ``build_pdf`` writes from ``MANUAL`` (checked below): a
title page and a contents page labelled i and ii, then chapters labelled 1 to 3 with a running
header, a running footer and printed page numbers, its words set with "fi"/"fl" ligatures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from ragline.chunk.base import spans_to_chunks
from ragline.documents import Document
from ragline.load import PdfLoader
from ragline.load.pdf_clean import clean_pages, is_toc_line, running_lines

SAVED = Path(__file__).parents[2] / "data" / "pdf" / "tide-manual.pdf"
TITLE = "Tide Manual"
LABELS = "0 << /S /r >> 2 << /S /D >>"
FOOTER = "Tidewatch field guides - internal use"
MANUAL = [
    "The Tide Manual\nA \\256eld guide for the harbour \\257eet\ni",
    "Contents\n1 Reading a tide table ........ 1\n"
    "2 Recovering data from a damaged log ........ 2\n"
    "3 Spring and neap tides . . . . . . . . 3\nii",
    f"{TITLE}\n1 Reading a tide table\nEach row gives the time and height of high and low"
    f" water.\nHeights are in metres above chart datum.\n{FOOTER}\n1",
    f"{TITLE}\n2 Recovering data from a damaged log\nCopy the log \\256le before opening it."
    f"\nThe recovery tool rebuilds readings from the \\257ash card journal.\n{FOOTER}\n2",
    f"{TITLE}\n3 Spring and neap tides\nSpring tides come at new and full moon.\nNeap tides"
    f" come at the quarters.\n{FOOTER}\n3",
]

pypdf = pytest.importorskip("pypdf")


@pytest.fixture(scope="module")
def manual() -> Document:
    [doc] = PdfLoader().load(str(SAVED))
    assert isinstance(doc, Document)
    return doc


def test_saved_manual_is_what_the_builder_writes(make_pdf: Callable[..., bytes]) -> None:
    assert SAVED.read_bytes() == make_pdf(MANUAL, title=TITLE, labels=LABELS)


def test_running_headers_footers_and_page_numbers_are_dropped(manual: Document) -> None:
    assert TITLE not in manual.text.replace("The Tide Manual", "")
    assert FOOTER not in manual.text
    lines = manual.text.split("\n")
    assert not {"1", "2", "3", "i", "ii"} & set(lines)
    assert "The Tide Manual" in lines  # on the title page only: not a running line


def test_contents_lines_are_dropped(manual: Document) -> None:
    assert "...." not in manual.text and ". . . ." not in manual.text
    page_ii = manual.text[manual.page_starts[1] : manual.page_starts[2]]
    assert page_ii.strip() == "Contents"
    assert manual.text.count("Recovering data from a damaged log") == 1


def test_ligatures_are_unfolded(manual: Document) -> None:
    assert "ﬁ" not in manual.text and "ﬂ" not in manual.text
    assert "Copy the log file before opening it." in manual.text
    assert "A field guide for the harbour fleet" in manual.text


def test_printed_page_labels_in_metadata(manual: Document) -> None:
    labels = manual.metadata["page_labels"]
    assert labels == ["i", "ii", "1", "2", "3"]
    page = manual.page_at(manual.text.index("damaged log"))
    assert (page, labels[page - 1]) == (4, "2")


def test_chunks_carry_the_labels_of_their_pages(manual: Document) -> None:
    start = manual.text.index("2 Recovering")
    [chunk] = spans_to_chunks(manual, [(start, start + 30)])
    assert chunk.metadata["page"] == 4
    assert chunk.metadata["page_labels"][chunk.metadata["page"] - 1] == "2"


def test_no_labels_metadata_when_labels_are_the_page_numbers(
    tmp_path: Path, make_pdf: Callable[..., bytes]
) -> None:
    path = tmp_path / "plain.pdf"
    path.write_bytes(make_pdf(["One", "Two"], labels="0 << /S /D >>"))
    [doc] = PdfLoader().load(str(path))
    assert isinstance(doc, Document)
    assert "page_labels" not in doc.metadata


def test_too_few_pages_to_tell_running_lines() -> None:
    pages = ["Report\nFirst finding.\n1", "Report\nSecond finding.\n2"]
    assert clean_pages(pages, ["1", "2"]) == [
        "Report\nFirst finding.\n1",
        "Report\nSecond finding.\n2",
    ]


def test_alternating_headers_and_roman_labels() -> None:
    pages = [
        [
            "Tide Manual" if n % 2 else "Chapter 2. Recovery",
            f"Body line {chr(96 + n)} of the chapter.",
            label,
        ]
        for n, label in enumerate(["iii", "iv", "v", "vi", "vii", "viii"], start=1)
    ]
    labels = [page[2] for page in pages]
    assert running_lines(pages, labels) == [{0, 2}] * 6


def test_only_the_header_and_footer_zones_are_searched() -> None:
    lines = ["Title {n}", "Second {n}", "Third {n}", "Note: check the datum.", "Fifth {n}",
             "Sixth {n}", "Last {n}"]  # fmt: skip
    pages = ["\n".join(lines).format(n=n) for n in "abc"]
    assert all("Note: check the datum." in page for page in clean_pages(pages, ["1", "2", "3"]))


@pytest.mark.parametrize(
    ("line", "toc"),
    [
        ("Introduction ........ 3", True),
        ("2.1 Recovering a damaged file........14", True),
        ("Preface . . . . . . xi", True),
        ("Appendix ....... A-3", True),
        ("Wait.... then go", False),
        ("The range is 3.5 m.", False),
    ],
)
def test_toc_lines(line: str, toc: bool) -> None:
    assert is_toc_line(line) is toc
