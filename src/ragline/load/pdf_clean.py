"""Cleaning the text of PDF pages: what a reader skips is not indexed.

Printed books and reports repeat a running header and footer (title, chapter, page number) on
every page, and list their sections with dot leaders ("Recovery ........ 42"). Indexed, the
running lines match every query a little and the table of contents outranks the sections it
lists. Extracted text also keeps typographic ligatures (``ﬁ``), which do not match ``fi``.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

# A line is in a page's header or footer zone when it is among its first or last ZONE lines.
ZONE = 3
# A zone line repeated (digits aside) on this many pages is a running header or footer.
MIN_REPEATS = 3

_DIGITS = re.compile(r"\d+")
# An entry, a leader of dots (maybe spaced), and a page number, roman numeral or "A-3" label.
_TOC_LINE = re.compile(r"^\s*\S.*?(?:\.\s?){4,}\s*(?:\d+|[ivxlcdm]+|[IVXLCDM]+|[A-Z]-\d+)\s*$")


def is_toc_line(line: str) -> bool:
    """Whether ``line`` is a table-of-contents entry with a dot leader.

    >>> is_toc_line("2.1 Recovering a file ........ 14"), is_toc_line("Preface . . . . . iv")
    (True, True)
    >>> is_toc_line("It was late... very late.")
    False
    """
    return _TOC_LINE.match(line) is not None


def _key(line: str, label: str) -> str:
    # Running lines differ from page to page only by the page number (in digits or the label).
    text = " ".join(line.split()).lower()
    return "#" if text == label.lower() else _DIGITS.sub("#", text)


def _zones(lines: list[str]) -> list[tuple[str, int]]:
    shown = [i for i, line in enumerate(lines) if line.strip()]
    return [("top", i) for i in shown[:ZONE]] + [("bottom", i) for i in shown[-ZONE:]]


def running_lines(pages: Sequence[list[str]], labels: Sequence[str]) -> list[set[int]]:
    """Per page, the indexes of its lines that are running headers or footers.

    A line counts when a line of the same text, digits and the page's own label aside, is in
    the same zone (top or bottom) of at least MIN_REPEATS pages.

    >>> body = ["Ebb.", "Flood.", "Slack water."]
    >>> pages = [["Tide Manual", text, f"- {n} -"] for n, text in enumerate(body, start=1)]
    >>> running_lines(pages, ["1", "2", "3"])
    [{0, 2}, {0, 2}, {0, 2}]
    """
    keys = [
        {(zone, _key(lines[i], label)) for zone, i in _zones(lines)}
        for lines, label in zip(pages, labels, strict=True)
    ]
    seen = Counter(key for page_keys in keys for key in page_keys)
    repeated = {key for key, n in seen.items() if n >= MIN_REPEATS}
    return [
        {i for zone, i in _zones(lines) if (zone, _key(lines[i], label)) in repeated}
        for lines, label in zip(pages, labels, strict=True)
    ]


def clean_pages(pages: Sequence[str], labels: Sequence[str]) -> list[str]:
    """The pages' text NFKC-normalised (ligatures and compatibility forms unfolded), without
    running headers and footers or table-of-contents lines; ``labels`` are the printed page
    labels, one per page.

    >>> body = ["The ﬁrst tide.", "Spring tides.", "Neap tides."]
    >>> pages = [f"Tide Manual\\n{text}\\n{n}" for n, text in enumerate(body, start=1)]
    >>> clean_pages(["Contents\\nTides ....... 2\\nii"] + pages, ["ii", "1", "2", "3"])
    ['Contents', 'The first tide.', 'Spring tides.', 'Neap tides.']
    """
    split = [unicodedata.normalize("NFKC", page).split("\n") for page in pages]
    running = running_lines(split, labels)
    return [
        "\n".join(
            line for i, line in enumerate(lines) if i not in dropped and not is_toc_line(line)
        ).strip()
        for lines, dropped in zip(split, running, strict=True)
    ]
