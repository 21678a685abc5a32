"""Document ids for files, unique in a knowledge base: relative to a root it records.

A knowledge base records one folder, its *id root*, when files are first added to it: the
parent of the first path given (``ragline index ~/p1/notes`` records ``~/p1``). A file's id
is then, in order:

1. the id the knowledge base already holds for that file (same absolute source path), so
   re-indexing says "unchanged", also for ids an older ragline made;
2. its path relative to the id root, as a posix path (``notes/a.md``), unless another file
   already holds that id;
3. else its absolute path (``/home/me/p2/notes/a.md``).

Relative paths under one root are unique and absolute paths are unique, so two different
files never share an id: indexing ``p2/notes`` after ``p1/notes`` adds documents instead of
replacing them. Paths are made absolute without resolving symbolic links, as the ``path``
metadata records them. Records that carry their own ids (JSONL, BEIR) keep them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePath

from ragline.store.catalog import Catalog
from ragline.store.migrations import ID_ROOT


def relative_id(path: str, root: str) -> str | None:
    """``path`` relative to the folder ``root`` as a posix path, or None when it is not
    below ``root`` (both absolute).

    >>> relative_id("/data/p1/notes/a.md", "/data/p1"), relative_id("/data/p2/a.md", "/data/p1")
    ('notes/a.md', None)
    """
    try:
        return PurePath(path).relative_to(root).as_posix()
    except ValueError:
        return None


class DocumentIds:
    """Names the files loaded into ``catalog`` (call it with a file's path)."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    @property
    def root(self) -> str | None:
        """The recorded id root, or None before any file was added."""
        return self.catalog.get_meta(ID_ROOT)

    def record_root(self, paths: Sequence[str | os.PathLike[str]]) -> None:
        """Record the parent of the first of ``paths`` as the id root, unless one is."""
        if paths and self.root is None:
            first = Path(os.path.abspath(paths[0]))
            self.catalog.set_meta(ID_ROOT, str(first.parent))

    def __call__(self, path: str | os.PathLike[str]) -> str:
        """The id of the file at ``path`` (see the module docstring for the rule)."""
        source = os.path.abspath(path)
        existing = self.catalog.doc_id_for_path(source)
        if existing is not None:
            return existing
        relative = relative_id(source, self.root) if self.root else None
        if relative is not None:
            holder = self.catalog.document_paths([relative])
            if relative not in holder or holder[relative] == source:
                return relative
        return PurePath(source).as_posix()
