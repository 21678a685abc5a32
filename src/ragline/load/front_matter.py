"""Markdown front matter: the YAML block between ``---`` lines at the top of a file.

Static-site generators (Jekyll, Hugo, MkDocs, Docusaurus) keep a page's title, tags and dates
there. It describes the page rather than being part of it, so it becomes document metadata
(filterable, shown with hits) and is not indexed as text.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

# The block opens on the first line and closes with "---" (or YAML's document end "...").
_BLOCK = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str, source: str = "") -> tuple[dict[str, Any], str]:
    """The front matter of ``text`` as JSON-safe metadata, and the text after it.

    Text without a front matter block, or whose block is not a YAML mapping, is returned
    unchanged with empty metadata: a leading ``---`` may also be a Markdown rule. Blank lines
    after the block are dropped.

    >>> split_front_matter("---\\ntitle: Tides\\ndate: 2024-05-01\\n---\\n\\n# Tides\\n")
    ({'title': 'Tides', 'date': '2024-05-01'}, '# Tides\\n')
    >>> split_front_matter("---\\n\\nJust a rule above.\\n")
    ({}, '---\\n\\nJust a rule above.\\n')
    """
    import yaml

    block = _BLOCK.match(text)
    if block is None:
        return {}, text
    try:
        data = yaml.safe_load(block.group(1) or "")
    except yaml.YAMLError as e:
        logger.warning("%s: front matter is not valid YAML, kept as text: %s", source, e)
        return {}, text
    if data is None:  # an empty block, as Jekyll writes for pages with no settings
        data = {}
    if not isinstance(data, dict):
        return {}, text
    body = text[block.end() :].lstrip("\n")
    return {str(key): json_safe(value) for key, value in data.items()}, body


def json_safe(value: Any) -> Any:
    """``value`` as types JSON can hold: dates as ISO strings, mappings with string keys,
    sequences as lists, anything else unknown as its string.

    >>> json_safe({"when": dt.date(2024, 5, 1), 3: {"b", "a"}})
    {'when': '2024-05-01', '3': ['a', 'b']}
    """
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, dt.date | dt.time):  # datetime is a date
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, set | frozenset):
        return sorted((json_safe(item) for item in value), key=str)
    return str(value)
