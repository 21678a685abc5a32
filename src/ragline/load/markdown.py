"""Markdown files: kept as written (it is readable text) but for the front matter, which
becomes metadata; titled by the front matter's ``title`` or the first ``# `` heading."""

from __future__ import annotations

import re

from ragline.errors import LoadError
from ragline.load.front_matter import split_front_matter
from ragline.load.text import Parsed, TextLoader

_HEADING = re.compile(r"^ {0,3}# +(.*?)(?: +#+)? *$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_title(text: str) -> str | None:
    """The text of the first level-1 ATX heading outside code fences, or None.

    >>> markdown_title("intro\\n```sh\\n# not a heading\\n```\\n# Getting started #\\n")
    'Getting started'
    >>> markdown_title("## Only a subheading") is None
    True
    """
    fence: str | None = None
    for line in text.split("\n"):
        opener = _FENCE.match(line)
        if opener:
            if fence is None:
                fence = opener.group(1)
            elif opener.group(1) == fence:
                fence = None
            continue
        if fence is None:
            heading = _HEADING.match(line)
            if heading and heading.group(1).strip():
                return heading.group(1).strip()
    return None


class MarkdownLoader(TextLoader):
    """Loads a ``.md``/``.markdown`` file as one document: its front matter as metadata, the
    rest as text, unchanged but for line ends."""

    def parse(self, text: str, source: str) -> Parsed:
        metadata, body = split_front_matter(text, source)
        if not body.strip():
            raise LoadError(source, "empty file (nothing after the front matter)")
        title = metadata.get("title")
        if not isinstance(title, str) or not title.strip():
            title = markdown_title(body)
        return Parsed(body, title.strip() if title else None, metadata)
