"""reStructuredText files via docutils (the ``rst`` extra): the rendered text, no markup.

Sphinx sources are read too: their directives and roles are rendered as Sphinx shows them
(:mod:`ragline.load.rst_sphinx`).
"""

from __future__ import annotations

import io
import re

from ragline._optional import require
from ragline.errors import LoadError, MissingDependencyError
from ragline.load.rst_sphinx import sphinx_fallbacks
from ragline.load.text import Parsed, TextLoader

_BLANK_RUNS = re.compile(r"\n{3,}")  # left where dropped nodes were
# Settings: no file or URL access from a document (include, raw, csv-table :url:), no
# reports on stderr, never halt on a markup error (the text around it is still text).
SETTINGS = {
    "file_insertion_enabled": False,
    "raw_enabled": False,
    "report_level": 5,
    "halt_level": 5,
    "exit_status_level": 5,
    "_disable_config": True,
    "traceback": True,
}


def rst_to_text(source: str, path: str = "<rst>") -> tuple[str | None, str]:
    """The title (None if the document has none) and the plain text of reStructuredText.

    >>> rst_to_text("Tides\\n=====\\n\\nSee :func:`~tide.height`.\\n\\n.. note:: Moon.\\n")
    ('Tides', 'Tides\\n\\nSee height.\\n\\nMoon.')
    """
    require("docutils", "rst")
    from docutils import nodes
    from docutils.core import publish_doctree

    with sphinx_fallbacks(source):
        doctree = publish_doctree(
            source,
            source_path=path,
            settings_overrides={**SETTINGS, "warning_stream": io.StringIO()},
        )
    drop = (nodes.system_message, nodes.comment, nodes.substitution_definition, nodes.raw)
    for node in list(doctree.findall(lambda n: isinstance(n, drop))):
        node.parent.remove(node)
    title = doctree.next_node(nodes.title)
    text = _BLANK_RUNS.sub("\n\n", doctree.astext()).strip()
    return (title.astext().strip() if title else None) or None, text


class RstLoader(TextLoader):
    """Loads a ``.rst`` file as one document of its rendered text, titled by its title.

    Raises MissingDependencyError when docutils is not installed.
    """

    def parse(self, text: str, source: str) -> Parsed:
        # docutils is told never to halt on markup errors; what it still raises comes from
        # deep inside (a recursion limit, a bug on odd input) and concerns this file only.
        try:
            title, plain = rst_to_text(text, source)
        except MissingDependencyError:
            raise
        except Exception as e:
            raise LoadError(source, f"cannot parse reStructuredText: {e}") from e
        if not plain:
            raise LoadError(source, "no text")
        return Parsed(plain, title)
