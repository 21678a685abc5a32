"""Which part of an HTML page is its content: the main-content landmark, without page furniture.

Documentation generators wrap every page in the same furniture: navigation bars, sidebars
with the site tree and the page's table of contents, breadcrumbs, "previous / next" links,
search boxes, footers. Indexed, that text matches every query a little and outranks content.
Sphinx (``role="main"``), MkDocs (``role="main"`` in its own theme, ``<article>`` in Material)
and Docusaurus (``<article>`` inside ``<main>``) all mark their content with a landmark, and
their furniture with ``<nav>``, ARIA roles or a few well-known classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bs4 import BeautifulSoup, Tag

# Landmark rules rather than trafilatura: on the saved Sphinx pages trafilatura ran code
# examples into one line, and it brings eight more packages; the generators' markup is regular.

# Page furniture and non-rendered content, wherever they appear.
FURNITURE_TAGS = frozenset(
    {"head", "script", "style", "nav", "aside", "footer", "noscript", "template", "form", "button"}
)
# ARIA roles of navigation, search, site banner and footer, sidebars and pop-up dialogs.
FURNITURE_ROLES = frozenset(
    {"navigation", "search", "banner", "contentinfo", "complementary", "dialog"}
)
# Heading permalinks (Sphinx and MkDocs "¶"/"#", Docusaurus "#"), and in-page tables of
# contents (Docusaurus, Sphinx toctree) that only repeat the headings.
FURNITURE_CLASSES = frozenset({"headerlink", "hash-link", "table-of-contents", "toctree-wrapper"})
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


def is_furniture(tag: Tag) -> bool:
    """Whether ``tag`` and everything in it is page furniture or not rendered.

    A ``<header>`` holding a heading is kept: Docusaurus puts a page's ``<h1>`` in one.
    """
    if tag.name in FURNITURE_TAGS:
        return True
    if tag.name == "header":
        return tag.find(_HEADINGS) is None
    if str(tag.get("role", "")).lower() in FURNITURE_ROLES:
        return True
    if tag.has_attr("hidden") or str(tag.get("aria-hidden", "")).lower() == "true":
        return True
    return not FURNITURE_CLASSES.isdisjoint(tag.get_attribute_list("class"))


def main_content(soup: BeautifulSoup) -> Tag:
    """The element holding the page's content: ``role="main"``, else the only ``<article>``,
    else ``<main>``, else the whole page.

    >>> from bs4 import BeautifulSoup
    >>> page = "<nav>Home</nav><main><article><h1>Hi</h1></article><div>TOC</div></main>"
    >>> main_content(BeautifulSoup(page, "html.parser")).name
    'article'
    """
    marked = soup.find(attrs={"role": "main"})
    if marked is not None:
        return marked
    articles = soup.find_all("article", limit=2)
    if len(articles) == 1:
        return articles[0]
    return soup.find("main") or soup
