"""Keep a knowledge base in step with folders while they change: ``ragline watch``.

A first pass indexes what changed while nobody watched and deletes the documents whose files
are gone. Then file-system events (watchdog) are gathered until the folders have been quiet
for ``debounce`` seconds, so an editor's save or a copied tree is one batch, and the batch is
applied: new and changed files are indexed (unchanged content is skipped by its hash), the
documents of deleted files, and of every file below a deleted or moved-away folder, are
deleted. Hidden files and files no loader reads (editor swap and backup files) are ignored.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ragline._optional import require
from ragline.kb import KnowledgeBase
from ragline.load.registry import LOADERS

log = logging.getLogger(__name__)


class FolderWatcher:
    """Mirrors ``folders`` into the open knowledge base ``kb``; ``on_batch(report)`` follows
    each applied batch (``indexed``, ``unchanged``, ``deleted`` counts and ``errors``)."""

    def __init__(
        self,
        kb: KnowledgeBase,
        folders: Sequence[str | Path],
        *,
        debounce: float = 1.0,
        on_batch: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.kb = kb
        self.folders = [Path(os.path.abspath(folder)) for folder in folders]
        self.debounce = debounce
        self.on_batch = on_batch
        self.events: queue.Queue[tuple[str, str]] = queue.Queue()
        self._observers = require("watchdog.observers", "watch")  # refused before any work

    def sync(self) -> dict[str, Any]:
        """Index the folders and delete the documents below them whose files are gone."""
        gone: list[str] = []
        for folder in self.folders:
            ids = self.kb.catalog.doc_ids_at(str(folder))
            paths = self.kb.catalog.document_paths(ids)
            gone += [i for i, path in paths.items() if path and not os.path.exists(path)]
        return self._apply([str(folder) for folder in self.folders], gone)

    def apply(self, changed: set[str], removed: set[str]) -> dict[str, Any] | None:
        """Index the files (and folders) ``changed`` names and delete the documents of the
        paths ``removed`` names that no longer exist; None when nothing was to do."""
        removed = {path for path in removed if not os.path.exists(path)}
        wanted = sorted(path for path in changed - removed if self._wanted(path))
        folders = [path for path in wanted if os.path.isdir(path)]
        wanted = [p for p in wanted if not any(_below(p, folder) for folder in folders)]
        gone = [doc_id for path in sorted(removed) for doc_id in self.kb.catalog.doc_ids_at(path)]
        return self._apply(wanted, gone) if wanted or gone else None

    def _apply(self, paths: list[str], gone: list[str]) -> dict[str, Any]:
        report = self.kb.add(paths) if paths else None
        result = {
            "indexed": report.indexed if report else 0,
            "unchanged": report.unchanged if report else 0,
            "deleted": self.kb.delete(gone) if gone else 0,
            "errors": [{"source": e.source, "reason": e.reason} for e in report.errors]
            if report
            else [],
        }
        if self.on_batch is not None:
            self.on_batch(result)
        return result

    def _wanted(self, path: str) -> bool:
        """A folder, or a file a loader reads, not hidden, below a watched folder."""
        if not os.path.exists(path):
            return False
        for folder in self.folders:
            relative = Path(path).relative_to(folder) if Path(path).is_relative_to(folder) else None
            if relative is not None and not any(p.startswith(".") for p in relative.parts):
                return os.path.isdir(path) or Path(path).suffix.lower() in LOADERS
        return False

    def run(self, stop: threading.Event) -> None:
        """:meth:`sync`, then watch until ``stop`` is set, applying each quiet-ended batch
        of events. Watching starts before the first pass, so no change falls between."""
        observer = self._observers.Observer()
        handler = _EventQueue(self.events)
        for folder in self.folders:
            observer.schedule(handler, str(folder), recursive=True)
        observer.start()
        try:
            self.sync()
            while not stop.is_set():
                changed, removed = self._gather(stop)
                if changed or removed:
                    self.apply(changed, removed)
        finally:
            observer.stop()
            observer.join()

    def _gather(self, stop: threading.Event) -> tuple[set[str], set[str]]:
        """The paths of the events until none came for ``debounce`` seconds."""
        changed: set[str] = set()
        removed: set[str] = set()
        wait = 0.2  # until the first event: short, to notice ``stop``
        while not stop.is_set():
            try:
                kind, path = self.events.get(timeout=wait)
            except queue.Empty:
                if changed or removed:
                    break
                continue
            (removed if kind == "removed" else changed).add(path)
            wait = self.debounce
        return changed, removed


def _below(path: str, folder: str) -> bool:
    """Whether ``path`` lies strictly below ``folder`` (a walk of the folder reads it).

    >>> _below("/w/sub/b.md", "/w/sub"), _below("/w/sub", "/w/sub"), _below("/w/subx", "/w/sub")
    (True, False, False)
    """
    return path.startswith(folder.rstrip("/") + "/")


class _EventQueue:
    """A watchdog event handler that queues ``("changed" | "removed", path)``."""

    def __init__(self, events: queue.Queue[tuple[str, str]]) -> None:
        self.events = events

    def dispatch(self, event: Any) -> None:
        kind = event.event_type
        if kind == "moved":
            self.events.put(("removed", os.fsdecode(event.src_path)))
            self.events.put(("changed", os.fsdecode(event.dest_path)))
        elif kind == "deleted":
            self.events.put(("removed", os.fsdecode(event.src_path)))
        elif kind in ("created", "modified", "closed") and not (
            event.is_directory and kind != "created"
        ):
            self.events.put(("changed", os.fsdecode(event.src_path)))
