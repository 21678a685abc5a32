"""From paths given by a user to a stream of documents: walking, filtering, dispatch by suffix.

Ids are path-based and stable. By default a file found under directory root ``R`` gets
``"{R.name}/{relative posix path}"`` and a file given directly its file name; a knowledge
base passes ``doc_ids`` instead, its own rule that keeps ids unique across folders
(:class:`ragline.store.doc_ids.DocumentIds`).
:func:`scan_paths` checks the paths before anything is loaded, and counts the files of
types no loader reads.
"""

from __future__ import annotations

import os
import stat
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from ragline.config import LoadConfig
from ragline.errors import LoadError
from ragline.load.base import LoadResult
from ragline.load.beir import CORPUS, BeirLoader, is_beir_folder
from ragline.load.files import os_reason
from ragline.load.registry import LOADERS

PathLike = str | os.PathLike[str]
NameFile = Callable[[str], str]
"""Gives the document id of the file at a path."""


def load_paths(
    paths: PathLike | Iterable[PathLike],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
    config: LoadConfig | None = None,
    metadata: Mapping[str, Any] | None = None,
    doc_ids: NameFile | None = None,
) -> Iterator[LoadResult]:
    """Stream documents from files and directories; bad input is yielded as LoadError.

    Directories are walked recursively in sorted order, skipping hidden entries and files of
    unknown type; a directory holding ``corpus.jsonl`` is read as a BEIR data set.
    ``include``/``exclude`` are glob patterns matched against paths relative to the directory
    given (see :func:`matches`); they do not apply to files given directly. ``metadata`` is
    added to every document's metadata. ``doc_ids(path)`` names each file's document (see
    the module docstring for the default).

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
        yield from _load_root(Path(raw), include, exclude, config, metadata, doc_ids)


def _load_root(
    root: Path,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    config: LoadConfig,
    metadata: Mapping[str, Any] | None,
    doc_ids: NameFile | None,
) -> Iterator[LoadResult]:
    source = str(root)
    try:
        st = root.stat()
    except OSError as e:
        yield LoadError(source, os_reason(e))
        return
    if not stat.S_ISDIR(st.st_mode):
        suffix = root.suffix.lower()
        if suffix not in LOADERS:
            yield LoadError(source, f"unsupported file type {root.suffix or '(no suffix)'}")
        else:
            doc_id = doc_ids(source) if doc_ids else None
            yield from LOADERS.load(suffix)(config, metadata).load(source, doc_id=doc_id)
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
        elif item.known:
            loader = LOADERS.load(item.path.suffix.lower())(config, metadata)
            doc_id = doc_ids(str(item.path)) if doc_ids else f"{prefix}/{item.rel}".lstrip("/")
            yield from loader.load(str(item.path), doc_id=doc_id)


def input_paths(
    paths: Iterable[PathLike], *, include: Iterable[str] = (), exclude: Iterable[str] = ()
) -> Iterator[Path | LoadError]:
    """The inputs :func:`load_paths` reads from ``paths``, in its order, each one that
    ``load_paths([input])`` reads alone (with the id a knowledge base gives it): files given,
    files of a known type found in folders, BEIR folders; and a LoadError for each folder
    that cannot be read. Lets a caller hand the inputs out to several workers."""
    include, exclude = tuple(include), tuple(exclude)
    for raw in paths:
        root = Path(raw)
        if not root.is_dir() or is_beir_folder(root):
            yield root
            continue
        st = root.stat()
        for item in _walk(root, "", include, exclude, frozenset({(st.st_dev, st.st_ino)})):
            if isinstance(item, LoadError):
                yield item
            elif item.beir or item.known:
                yield item.path


@dataclass(frozen=True)
class PathScan:
    """What paths hold before loading: how many files (and BEIR folders) a loader reads, and
    how many files in the folders walked no loader reads, by extension, most frequent first."""

    files: int
    skipped: dict[str, int]

    def summary(self) -> str:
        """One line naming the skipped types, or "" when no file was skipped.

        >>> PathScan(4, {".csv": 2, ".py": 1}).summary()
        'skipped 3 files of unknown type: .csv (2), .py (1)'
        """
        total = sum(self.skipped.values())
        if not total:
            return ""
        kinds = ", ".join(f"{suffix} ({n})" for suffix, n in self.skipped.items())
        return f"skipped {total} file{'s' if total > 1 else ''} of unknown type: {kinds}"


def scan_paths(
    paths: PathLike | Iterable[PathLike],
    *,
    include: Iterable[str] = (),
    exclude: Iterable[str] = (),
) -> PathScan:
    """Check that every path exists and count what :func:`load_paths` will read and skip.

    Raises LoadError naming the first path that does not exist or cannot be read, so a
    caller can refuse before it creates anything. Hidden and excluded files, and files that
    ``include`` leaves out, are not counted as skipped: they were not asked for. A file
    given directly with an unknown type is not counted either; loading reports it.

    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     for name in ("a.md", "b.csv", "c.csv", "run.py", "Makefile", ".hidden.csv"):
    ...         _ = pathlib.Path(tmp, name).write_text("x")
    ...     scan = scan_paths(tmp)
    >>> scan.files, scan.summary()
    (1, 'skipped 4 files of unknown type: .csv (2), (no extension) (1), .py (1)')
    >>> scan_paths("no/such/folder")
    Traceback (most recent call last):
    ...
    ragline.errors.LoadError: no/such/folder: no such file or directory
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    include, exclude = tuple(include), tuple(exclude)
    files = 0
    skipped: Counter[str] = Counter()
    for raw in paths:
        root = Path(raw)
        try:
            st = root.stat()
        except OSError as e:
            raise LoadError(str(root), os_reason(e)) from e
        if stat.S_ISDIR(st.st_mode) and not is_beir_folder(root):
            for item in _walk(root, "", include, exclude, frozenset({(st.st_dev, st.st_ino)})):
                if isinstance(item, _Found) and item.known:
                    files += 1
                elif isinstance(item, _Found):
                    skipped[item.path.suffix.lower() or "(no extension)"] += 1
        elif stat.S_ISDIR(st.st_mode) or root.suffix.lower() in LOADERS:
            files += 1
    return PathScan(files, dict(sorted(skipped.items(), key=lambda kv: (-kv[1], kv[0]))))


@dataclass(frozen=True)
class _Found:
    path: Path
    rel: str
    beir: bool = False
    known: bool = True  # a loader reads files of this type


def _walk(
    folder: Path,
    rel: str,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    ancestors: frozenset[tuple[int, int]],
) -> Iterator[_Found | LoadError]:
    """Files (loadable or not) and BEIR folders under ``folder``, with root-relative paths,
    sorted.

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
        elif stat.S_ISREG(st.st_mode) and _included(sub, include, exclude):
            yield _Found(path, sub, known=path.suffix.lower() in LOADERS)


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
