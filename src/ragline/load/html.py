"""HTML files: the visible text, one blank-line-separated block per paragraph, heading or item."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ragline.errors import LoadError
from ragline.load.text import TextLoader

if TYPE_CHECKING:
    from bs4 import Tag

# Page furniture and non-rendered content: none of it is the document's text.
DROPPED = frozenset(
    {"head", "script", "style", "nav", "header", "footer", "aside", "noscript", "template", "form"}
)
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
    """The ``<title>`` (or None) and the visible text of an HTML page.

    >>> html_to_text(
    ...     "<html><head><title>T</title><script>x()</script></head><body>"
    ...     "<nav>Home</nav><h1>Hi</h1><p>One <b>bold</b><br>line</p>"
    ...     "<ul><li>a</li><li>b</li></ul></body></html>"
    ... )
    ('T', 'Hi\\n\\nOne bold\\nline\\n\\na\\n\\nb')
    """
    from bs4 import BeautifulSoup, NavigableString, Tag

    soup = BeautifulSoup(markup, "lxml")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    blocks: list[str] = []
    inline: list[str] = []

    def flush() -> None:
        lines = (" ".join(line.split()) for line in "".join(inline).split(_BREAK))
        block = "\n".join(line for line in lines if line)
        if block:
            blocks.append(block)
        inline.clear()

    # An explicit stack instead of recursion: deeply nested pages must not overflow it.
    stack: list[tuple[Any, bool]] = [(soup, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            flush()
        elif isinstance(node, NavigableString):
            if type(node) is NavigableString:  # not a Comment, Doctype, CData, ...
                inline.append(str(node))
        elif isinstance(node, Tag) and not _hidden(node):
            if node.name == "br":
                inline.append(_BREAK)
            elif node.name == "pre":
                flush()
                blocks.append(node.get_text().strip("\n"))
            else:
                if node.name in BLOCKS:
                    flush()
                    stack.append((node, True))
                elif node.name in _CELLS:
                    inline.append(" ")
                stack.extend((child, False) for child in reversed(node.contents))
    flush()
    return title or None, "\n\n".join(block for block in blocks if block.strip())


def _hidden(tag: Tag) -> bool:
    return (
        tag.name in DROPPED
        or tag.has_attr("hidden")
        or str(tag.get("aria-hidden", "")).lower() == "true"
    )


class HtmlLoader(TextLoader):
    """Loads a ``.html``/``.htm`` file as one document of its visible text."""

    def parse(self, text: str, source: str) -> tuple[str | None, str]:
        title, visible = html_to_text(text)
        if not visible:
            raise LoadError(source, "no visible text")
        return title, visible
