"""Markdown files: kept as written (it is readable text), titled by the first ``# `` heading."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ragline.config import LoadConfig
from ragline.documents import Document
from ragline.errors import LoadError
from ragline.load.base import LoadResult
from ragline.load.files import document_metadata
from ragline.load.text import read_text

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


class MarkdownLoader:
    """Loads a ``.md``/``.markdown`` file as one document; text unchanged but for line ends."""

    def __init__(
        self, config: LoadConfig | None = None, metadata: Mapping[str, Any] | None = None
    ) -> None:
        self.config = config or LoadConfig()
        self.metadata = metadata

    def load(self, path: str, *, doc_id: str | None = None) -> Iterator[LoadResult]:
        """Yield the document, or a LoadError naming ``path``."""
        file = Path(path)
        try:
            text, mtime = read_text(file, path, self.config)
        except LoadError as e:
            yield e
            return
        title = markdown_title(text) or file.stem
        meta = document_metadata(file, title, mtime, self.metadata)
        yield Document(doc_id or file.name, text, meta)
