"""Sphinx markup in plain docutils: pass-throughs for the directives and roles it lacks.

Most ``.rst`` files are Sphinx sources, full of directives and roles docutils does not know
(``.. function::``, ``:func:``); docutils reports them as errors and drops their text. Here an
unknown directive renders as its signature and body, an unknown role as its text, as Sphinx
would show them; a few directives that only build the site (``toctree``, ``index``,
``module``, ...) render as nothing.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# Sphinx directives that navigate, index or annotate rather than say something.
SITE_DIRECTIVES = frozenset(
    {"toctree", "index", "module", "currentmodule", "moduleauthor", "sectionauthor",
     "codeauthor", "highlight", "tabularcolumns", "testsetup", "testcleanup", "autosummary"}
)  # fmt: skip
# Sphinx's version notes, shown with the words Sphinx puts before the version.
VERSION_NOTES = {
    "versionadded": "New in version {}",
    "versionchanged": "Changed in version {}",
    "deprecated": "Deprecated since version {}",
    "deprecated-removed": "Deprecated since version {}, removed in version {}",
}
_DIRECTIVE = re.compile(r"^\s*\.\. +([\w:.+-]+)::", re.MULTILINE)
_ROLE = re.compile(r"(?<![\w`]):([\w.+-]+(?::[\w.+-]+)*):`")
_TARGET = re.compile(r"^(.*?)\s*<[^<>]*>$", re.DOTALL)
# docutils keeps directive and role registries per process; they are swapped for a parse
# and restored after it, so one lock serialises parses.
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


@contextmanager
def sphinx_fallbacks(source: str) -> Iterator[None]:
    """Registers a pass-through for each directive and role of ``source`` docutils lacks,
    for the duration of the block; the registries are restored after it, as Sphinx does, and
    other threads' parses wait."""
    from docutils.parsers.rst import directives, roles

    with _REGISTRY_LOCK:
        saved = dict(directives._directives), dict(roles._roles)
        try:
            _register(source)
            yield
        finally:
            directives._directives.clear()
            directives._directives.update(saved[0])
            roles._roles.clear()
            roles._roles.update(saved[1])


def _register(source: str) -> None:
    from docutils.parsers.rst import directives, roles
    from docutils.parsers.rst.languages import en

    for name in set(_DIRECTIVE.findall(source)):
        known = directives._directive_registry, directives._directives, en.directives
        if any(name in registry for registry in known):
            continue
        short = name.rsplit(":", 1)[-1]
        if short in SITE_DIRECTIVES:
            directives.register_directive(name, _site_directive())
        else:
            directives.register_directive(name, _body(VERSION_NOTES.get(short, "")))
    for name in set(_ROLE.findall(source)):
        if not any(name in known for known in (roles._role_registry, roles._roles, en.roles)):
            roles.register_local_role(name, _plain_role)


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
            # The directive line holds a signature ("register(func, *args)") or a version,
            # taken as written (its * is not emphasis), unless it has markup, as a
            # seealso's prose does; argument lines below it are prose, parsed as Sphinx does.
            argument = self.arguments[0] if self.arguments else ""
            signature = self.block_text.split("\n", 1)[0].partition("::")[2].strip()
            if "`" in signature or not argument.startswith(signature):
                signature = ""
            prose = " ".join(argument[len(signature) :].split())
            box = nodes.container()
            if lead:
                versions = signature.split()
                wanted = lead.count("{}")
                if len(versions) >= wanted:
                    prose = " ".join([*versions[wanted:], prose]).strip()
                    signature = lead.format(*versions[:wanted])
            inline = self.state.inline_text(prose, self.lineno)[0] if prose else []
            if lead:
                box += nodes.paragraph("", f"{signature}{': ' if prose else '.'}", *inline)
            else:
                if signature:
                    box += nodes.paragraph(text=signature)
                if inline:
                    box += nodes.paragraph("", "", *inline)
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
