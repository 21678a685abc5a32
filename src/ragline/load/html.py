"""HTML files: the main content's text, one blank-line-separated block per paragraph, heading
or item; navigation, sidebars and footers are left out (see :mod:`ragline.load.html_main`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragline.errors import LoadError
from ragline.load.html_main import is_furniture, main_content
from ragline.load.text import Parsed, TextLoader

if TYPE_CHECKING:
    from bs4 import Tag

BLOCKS = frozenset(
    {
        "address", "article", "blockquote", "body", "caption", "dd", "details", "dialog", "div",
        "dl", "dt", "fieldset", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
        "html", "li", "main", "ol", "p", "section", "summary", "table", "tbody", "tfoot", "thead",
        "tr", "ul",
    }
)  # fmt: skip
_CELLS = frozenset({"td", "th"})
_BREAK = "\x00"  # stands for <br>; decoded text never holds NUL (it would be binary)


def html_to_text(markup: str) -> tuple[str | None, str]:
    """The ``<title>`` (or None) and the text of an HTML page's main content.

    >>> html_to_text(
    ...     "<html><head><title>T</title><script>x()</script></head><body>"
    ...     "<nav>Home</nav><h1>Hi</h1><p>One <b>bold</b><br>line</p>"
    ...     "<ul><li>a</li><li>b</li></ul></body></html>"
    ... )
    ('T', 'Hi\\n\\nOne bold\\nline\\n\\na\\n\\nb')
    """
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    return title or None, visible_text(main_content(soup))


def visible_text(root: Tag) -> str:
    """The rendered text under ``root``, furniture left out, blocks separated by blank lines."""
    from bs4 import NavigableString, Tag

    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        lines = (" ".join(line.split()) for line in "".join(inline).split(_BREAK))
        block = "\n".join(line for line in lines if line)
        if block:
            blocks.append(block)
        inline.clear()

    # An explicit stack instead of recursion: deeply nested pages must not overflow it.
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            flush()
        elif isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not a Comment, Doctype, CData, ...
                inline.append(str(node))
        elif isinstance(node, Tag) and not is_furniture(node):
            if node.name == "br":
                inline.append(_BREAK)
            elif node.name == "pre":
                flush()
                blocks.append(_preformatted(node))
            else:
                if node.name in BLOCKS:
                    flush()
                    stack.append((node, True))
                elif node.name in _CELLS:
                    inline.append(" ")
                stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return "\n\n".join(block for block in blocks if block.strip())


def _preformatted(pre: Tag) -> str:
    # Highlighters (Docusaurus' Prism) end each code line with <br> instead of a newline.
    from bs4 import NavigableString

    parts = []
    for node in pre.descendants:
        if type(node) is NavigableString:
            parts.append(str(node))
        elif getattr(node, "name", None) == "br":
            parts.append("\n")
    return "".join(parts).strip("\n")


class HtmlLoader(TextLoader):
    """Loads a ``.html``/``.htm`` file as one document of its main content's text."""

    def parse(self, text: str, source: str) -> Parsed:
        title, visible = html_to_text(text)
        if not visible:
            raise LoadError(source, "no visible text")
        return Parsed(visible, title)
