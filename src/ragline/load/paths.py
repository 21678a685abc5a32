"""From paths given by a user to a stream of documents: walking, filtering, dispatch by suffix.

Ids are path-based and stable: a file found under directory root ``R`` gets
``"{R.name}/{relative posix path}"``; a file given directly gets its file name.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ragline.config import LoadConfig
from ragline.errors import LoadError
from ragline.load.base import FileLoader, LoadResult
from ragline.load.beir import CORPUS, BeirLoader, is_beir_folder
from ragline.load.files import os_reason
from ragline.load.html import HtmlLoader
from ragline.load.jsonl import JsonlLoader
from ragline.load.markdown import MarkdownLoader
from ragline.load.pdf import PdfLoader
from ragline.load.text import TextLoader

LoaderFactory = Callable[[LoadConfig, Mapping[str, Any] | None], FileLoader]

LOADERS: dict[str, LoaderFactory] = {
    ".txt": TextLoader,
    ".md": MarkdownLoader,
    ".markdown": MarkdownLoader,
    ".html": HtmlLoader,
    ".htm": HtmlLoader,
    ".pdf": PdfLoader,
    ".jsonl": JsonlLoader,
}

PathLike = str | os.PathLike[str]


def load_paths(
    paths: PathLike | Iterable[PathLike],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    config: LoadConfig | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> Iterator[LoadResult]:
    """Stream documents from files and directories; bad input is yielded as LoadError.

    Directories are walked recursively in sorted order, skipping hidden entries and files of
    unknown type; a directory holding ``corpus.jsonl`` is read as a BEIR data set.
    ``include``/``exclude`` are glob patterns matched against paths relative to the directory
    given (see :func:`matches`); they do not apply to files given directly. ``metadata`` is
    added to every document's metadata.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = pathlib.Path(tmp, "kb")
    ...     (root / "sub").mkdir(parents=True)
    ...     _ = (root / "a.txt").write_text("Alpha.")
    ...     _ = (root / "sub" / "b.md").write_text("# Bee\\nBuzz.")
    ...     _ = (root / "logo.png").write_bytes(b"\\x89PNG")
    ...     results = list(load_paths([root, pathlib.Path(tmp, "missing.txt")]))
    >>> [(doc.id, doc.metadata["title"]) for doc in results[:2]]
    [('kb/a.txt', 'a'), ('kb/sub/b.md', 'Bee')]
    >>> results[2].reason
    'no such file or directory'
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    config = config or LoadConfig()
    include, exclude = tuple(include), tuple(exclude)
    for raw in paths:
        yield from _load_root(Path(raw), include, exclude, config, metadata)


def _load_root(
    root: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config: LoadConfig,
    metadata: Mapping[str, Any] | None,
) -> Iterator[LoadResult]:
    source = str(root)
    try:
        st = root.stat()
    except OSError as e:
        yield LoadError(source, os_reason(e))
        return
    if not stat.S_ISDIR(st.st_mode):
        factory = LOADERS.get(root.suffix.lower())
        if factory is None:
            yield LoadError(source, f"unsupported file type {root.suffix or '(no suffix)'}")
        else:
            yield from factory(config, metadata).load(source)
        return
    if is_beir_folder(root):
        yield from BeirLoader(config, metadata).load(source)
        return
    prefix = Path(os.path.abspath(root)).name
    for item in _walk(root, "", include, exclude, frozenset({(st.st_dev, st.st_ino)})):
        if isinstance(item, LoadError):
            yield item
        elif item.beir:
            yield from BeirLoader(config, metadata).load(str(item.path))
        else:
            loader = LOADERS[item.path.suffix.lower()](config, metadata)
            yield from loader.load(str(item.path), doc_id=f"{prefix}/{item.rel}".lstrip("/"))


@dataclass(frozen=True)
class _Found:
    path: Path
    rel: str
    beir: bool = False


def _walk(
    folder: Path,
    rel: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    ancestors: frozenset[tuple[int, int]],
) -> Iterator[_Found | LoadError]:
    """Loadable files and BEIR folders under ``folder``, with root-relative paths, sorted.

    ``ancestors`` holds the (device, inode) of every folder above, so a symlink loop ends.
    """
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda entry: entry.name)
    except OSError as e:
        yield LoadError(str(folder), os_reason(e))
        return
    for entry in entries:
        sub = f"{rel}{entry.name}"
        if entry.name.startswith(".") or _matches_any(sub, exclude):
            continue
        try:
            st = os.stat(entry.path)
        except OSError:
            continue  # a dangling symlink: nothing to load
        path = Path(entry.path)
        if stat.S_ISDIR(st.st_mode):
            if is_beir_folder(path):
                if _included(f"{sub}/{CORPUS}", include, exclude):
                    yield _Found(path, sub, beir=True)
            elif (st.st_dev, st.st_ino) not in ancestors:
                key = (st.st_dev, st.st_ino)
                yield from _walk(path, f"{sub}/", include, exclude, ancestors | {key})
        elif (
            stat.S_ISREG(st.st_mode)
            and path.suffix.lower() in LOADERS
            and _included(sub, include, exclude)
        ):
            yield _Found(path, sub)


def _matches_any(rel: str, patterns: tuple[str, ...]) -> bool:
    return any(matches(rel, pattern) for pattern in patterns)


def _included(rel: str, include: tuple[str, ...], exclude: tuple[str, ...]) -> bool:
    return (not include or _matches_any(rel, include)) and not _matches_any(rel, exclude)


def matches(rel: str, pattern: str) -> bool:
    """Whether the relative posix path ``rel`` matches a glob ``pattern``.

    ``*`` also crosses ``/``; a pattern without ``/`` may match any single path component
    (as in .gitignore); a pattern matching a parent directory matches everything below it.

    >>> matches("notes/a.md", "*.md"), matches("notes/a.md", "notes"), matches("a.md", "**/*.md")
    (True, True, True)
    >>> matches("sub/deep/x.txt", "sub/**"), matches("other/x.txt", "sub/**")
    (True, False)
    """
    pattern = pattern.strip("/")
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    if any(fnmatchcase(prefix, pattern) for prefix in prefixes):
        return True
    if "/" not in pattern and any(fnmatchcase(part, pattern) for part in parts):
        return True
    return pattern.startswith("**/") and matches(rel, pattern[3:])


def count_inputs(
    paths: PathLike | Iterable[PathLike],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> int:
    """How many inputs :func:`load_paths` reads from ``paths``: files and BEIR folders (a
    JSONL file or BEIR folder counts once, however many documents it holds; a path that
    cannot be read counts once, as its error does). A progress bar's total, found without
    reading a file.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     root = pathlib.Path(tmp, "kb")
    ...     (root / "sub").mkdir(parents=True)
    ...     _ = (root / "a.txt").write_text("Alpha.")
    ...     _ = (root / "sub" / "b.md").write_text("# Bee")
    ...     _ = (root / "logo.png").write_bytes(b"\\x89PNG")
    ...     missing = pathlib.Path(tmp, "missing.txt")
    ...     count_inputs([root, missing]), count_inputs(root, exclude=["sub"])
    (3, 1)
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    include, exclude = tuple(include), tuple(exclude)
    total = 0
    for raw in paths:
        root = Path(raw)
        if not root.is_dir() or is_beir_folder(root):
            total += 1
            continue
        st = root.stat()
        found = _walk(root, "", include, exclude, frozenset({(st.st_dev, st.st_ino)}))
        total += sum(isinstance(item, _Found) for item in found)
    return total
