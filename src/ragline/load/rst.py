"""reStructuredText files via docutils (the ``rst`` extra): the rendered text, no markup.

Most ``.rst`` files are Sphinx sources, full of directives and roles plain docutils does not
know (``.. function::``, ``:func:``). Unknown directives keep their signature and body and
unknown roles their text, as Sphinx would render them; a few directives that only build the
site (``toctree``, ``index``, ``module``, ...) are left out.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ragline._optional import require
from ragline.errors import LoadError, MissingDependencyError
from ragline.load.text import Parsed, TextLoader

# Sphinx directives that navigate, index or annotate rather than say something.
SITE_DIRECTIVES = frozenset(
    {"toctree", "index", "module", "currentmodule", "moduleauthor", "sectionauthor",
     "codeauthor", "highlight", "tabularcolumns", "testsetup", "testcleanup", "autosummary"}
)  # fmt: skip
# Sphinx's version notes, shown with the words Sphinx puts before the version.
VERSION_NOTES = {
    "versionadded": "New in version",
    "versionchanged": "Changed in version",
    "deprecated": "Deprecated since version",
}
_DIRECTIVE = re.compile(r"^\s*\.\. +([\w:.+-]+)::", re.MULTILINE)
_ROLE = re.compile(r"(?<![\w`]):([\w.+-]+(?::[\w.+-]+)*):`")
_BLANK_RUNS = re.compile(r"\n{3,}")  # left where dropped nodes were
_TARGET = re.compile(r"^(.*?)\s*<[^<>]*>$", re.DOTALL)
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
# docutils keeps directive and role registries per process; they are swapped for a parse
# and restored after it, as Sphinx does, so one lock serialises parses.
_REGISTRY_LOCK = threading.Lock()


def role_text(text: str) -> str:
    """What Sphinx shows for a role's text: the title of ``Title <target>``, the last part of
    ``~a.b.c``, the target without its ``!``.

    >>> role_text("Exit handlers <atexit>"), role_text("~os.path.join"), role_text("!x")
    ('Exit handlers', 'join', 'x')
    """
    titled = _TARGET.match(text)
    if titled and titled.group(1):
        return titled.group(1)
    if text.startswith("~"):
        return text[1:].rsplit(".", 1)[-1]
    return text.lstrip("!")


def rst_to_text(source: str, path: str = "<rst>") -> tuple[str | None, str]:
    """The title (None if the document has none) and the plain text of reStructuredText.

    >>> rst_to_text("Tides\\n=====\\n\\nSee :func:`~tide.height`.\\n\\n.. note:: Moon.\\n")
    ('Tides', 'Tides\\n\\nSee height.\\n\\nMoon.')
    """
    require("docutils", "rst")
    from docutils import nodes
    from docutils.core import publish_doctree

    with _REGISTRY_LOCK, _fallbacks(source):
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


@contextmanager
def _fallbacks(source: str) -> Iterator[None]:
    """Registers a pass-through for each directive and role of ``source`` docutils lacks,
    for the duration of the block."""
    from docutils.parsers.rst import directives, roles
    from docutils.parsers.rst.languages import en

    saved = dict(directives._directives), dict(roles._roles)
    try:
        for name in set(_DIRECTIVE.findall(source)):
            known = directives._directive_registry, directives._directives, en.directives
            if not any(name in registry for registry in known):
                short = name.rsplit(":", 1)[-1]
                if short in SITE_DIRECTIVES:
                    directives.register_directive(name, _site_directive())
                else:
                    directives.register_directive(name, _body(VERSION_NOTES.get(short, "")))
        for name in set(_ROLE.findall(source)):
            if not any(name in registry for registry in (roles._role_registry, roles._roles)):
                roles.register_local_role(name, _plain_role)
        yield
    finally:
        directives._directives.clear()
        directives._directives.update(saved[0])
        roles._roles.clear()
        roles._roles.update(saved[1])


def _plain_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None,
    content: Any = None,
) -> tuple[list[Any], list[Any]]:  # fmt: skip
    from docutils import nodes

    return [nodes.literal(rawtext, role_text(text))], []


class _AnyOption(dict[str, Any]):
    # Sphinx directives take options docutils cannot know; every one is accepted as text.
    def __missing__(self, key: str) -> Any:
        from docutils.parsers.rst import directives

        return directives.unchanged

    def __bool__(self) -> bool:
        return True


def _body(lead: str) -> type:
    """A directive class that renders as its argument (a signature), after ``lead`` if
    given, then its parsed body."""
    from docutils import nodes
    from docutils.parsers.rst import Directive

    class Body(Directive):
        optional_arguments = 1
        final_argument_whitespace = True
        option_spec = _AnyOption()
        has_content = True

        def run(self) -> list[Any]:
            box = nodes.container()
            if self.arguments:
                argument = " ".join(self.arguments[0].split())
                if lead:  # "3.7 Text on the same lines" -> "Changed in version 3.7: Text ..."
                    version, _, note = argument.partition(" ")
                    argument = f"{lead} {version}: {note}" if note else f"{lead} {version}."
                box += nodes.paragraph(text=argument)
            self.state.nested_parse(self.content, self.content_offset, box)
            return [box]

    return Body


def _site_directive() -> type:
    """A directive class that renders as nothing."""
    from docutils.parsers.rst import Directive

    class Site(Directive):
        optional_arguments = 1
        final_argument_whitespace = True
        option_spec = _AnyOption()
        has_content = True

        def run(self) -> list[Any]:
            return []

    return Site


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
