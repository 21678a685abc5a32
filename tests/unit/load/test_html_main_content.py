"""HTML main content on saved documentation pages: furniture is not indexed, content all is.

The pages under tests/data/html are real: Sphinx pages from Debian's python3.11-doc
(3.11.2-6+deb12u9), an MkDocs page (its own theme) from mkdocs-doc 1.4.2 and a Material for
MkDocs page from mkdocs-literate-nav-doc 0.6.0. No Docusaurus site is available offline, so
docusaurus/configuration.html is written by hand after Docusaurus 3's markup (navbar, docs
sidebar, breadcrumbs, "On this page", hash links, code block with a Copy button, edit link,
pagination, table of contents, site footer).

Boilerplate share: the text of each page's furniture (the elements ``FURNITURE`` names, found by
reading the pages) is marked by moving its characters to a private-use plane, so the share of
extracted non-space characters that is furniture can be counted exactly. Before this change
(the loader at main 8d61fe1): Sphinx 23.0%, 31.5%, 35.0% and 57.9% (atexit, fnmatch,
interactive, keyword), MkDocs 14.8%, Material 0.4%, Docusaurus 7.7% -- 3,930 of 19,451
characters, 20.2%, over the seven pages. After: 0 of 15,534 (0.0%), with every content
character still there (and the Docusaurus page's title, which the old loader dropped).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.documents import Document
from ragline.load import HtmlLoader
from ragline.load.html import html_to_text, visible_text

bs4 = pytest.importorskip("bs4")

PAGES = Path(__file__).parents[2] / "data" / "html"
FURNITURE = {
    "sphinx": "div.mobile-nav, div.related, div.sphinxsidebar, div.footer, a.headerlink",
    "mkdocs": "div.navbar, div.bs-sidebar, footer, div.modal, a.headerlink",
    "mkdocs-material": (
        "a.md-skip, header.md-header, nav.md-tabs, div.md-sidebar, footer.md-footer,"
        " a.headerlink, a.md-content__button, div.md-dialog, button.md-top"
    ),
    "docusaurus": (
        "div[role=region], nav.navbar, aside.theme-doc-sidebar-container,"
        " nav.theme-doc-breadcrumbs, div.theme-doc-toc-mobile, a.hash-link, footer,"
        " nav.pagination-nav, div.theme-doc-toc-desktop, div.buttonGroup__atx,"
        " button.theme-back-to-top-button"
    ),
}
SAVED = sorted(
    (generator, page) for generator in FURNITURE for page in (PAGES / generator).glob("*.html")
)
MARK = 0xF0000  # supplementary private-use plane A: no page has characters there


def marked(markup: str, selector: str) -> str:
    """``markup`` with every character of the elements ``selector`` finds moved to MARK + code."""
    soup = bs4.BeautifulSoup(markup, "lxml")
    for element in soup.select(selector):
        for string in list(element.find_all(string=True)):
            if type(string) is bs4.NavigableString:
                moved = "".join(c if c.isspace() else chr(MARK + ord(c)) for c in string)
                string.replace_with(moved)
    return str(soup)


def count(text: str) -> tuple[int, int]:
    """Non-space characters of ``text`` that are marked furniture, and those that are not."""
    chars = [c for c in text if not c.isspace()]
    furniture = sum(ord(c) >= MARK for c in chars)
    return furniture, len(chars) - furniture


def boilerplate_share(texts: list[str]) -> float:
    """The share of the non-space characters of ``texts`` that is marked furniture."""
    furniture, content = map(sum, zip(*(count(text) for text in texts), strict=True))
    return furniture / (furniture + content)


@pytest.fixture(scope="module")
def extracted() -> dict[Path, tuple[str, str]]:
    """Per saved page: the whole page's visible text and the loader's text, furniture marked."""
    out = {}
    for generator, page in SAVED:
        markup = marked(page.read_text(encoding="utf-8"), FURNITURE[generator])
        whole = visible_text(bs4.BeautifulSoup(markup, "lxml"))
        out[page] = (whole, html_to_text(markup)[1])
    return out


def test_saved_pages_cover_the_three_generators() -> None:
    assert {generator for generator, _ in SAVED} == set(FURNITURE)
    assert len(SAVED) == 7


@pytest.mark.parametrize(("generator", "page"), SAVED, ids=lambda p: getattr(p, "name", p))
def test_no_furniture_and_all_content(
    extracted: dict[Path, tuple[str, str]], generator: str, page: Path
) -> None:
    whole, text = extracted[page]
    assert count(text) == (0, count(whole)[1])


def test_boilerplate_share_before_and_after(extracted: dict[Path, tuple[str, str]]) -> None:
    wholes, texts = zip(*extracted.values(), strict=True)
    assert boilerplate_share(list(wholes)) > 0.1  # the marking finds the furniture
    assert boilerplate_share(list(texts)) == 0.0


def test_sphinx_page_text() -> None:
    [doc] = HtmlLoader().load(str(PAGES / "sphinx" / "interactive.html"))
    assert isinstance(doc, Document)
    assert doc.text.startswith("14. Interactive Input Editing and History Substitution\n\n")
    assert "\n\n14.1. Tab Completion and History Editing\n\n" in doc.text
    for furniture in ("Navigation", "Previous topic", "Show Source", "¶", "Copyright"):
        assert furniture not in doc.text


def test_code_keeps_its_lines() -> None:
    [sphinx] = HtmlLoader().load(str(PAGES / "sphinx" / "atexit.html"))
    [docusaurus] = HtmlLoader().load(str(PAGES / "docusaurus" / "configuration.html"))
    assert isinstance(sphinx, Document) and isinstance(docusaurus, Document)
    assert "import atexit\n\n@atexit.register\ndef goodbye():\n" in sphinx.text
    assert '[[station]]\nid = "brest"\ninterval = 6\n' in docusaurus.text


def test_docusaurus_keeps_the_title_in_its_header() -> None:
    [doc] = HtmlLoader().load(str(PAGES / "docusaurus" / "configuration.html"))
    assert isinstance(doc, Document)
    assert doc.text.startswith("Configuration\n\nTidewatch reads one file")
    for furniture in ("On this page", "Edit this page", "Copy", "Previous", "Introduction"):
        assert furniture not in doc.text
