"""``ragline watch``: keep a knowledge base in step with folders until Ctrl-C
(see :mod:`ragline.watch`). Each applied batch is one line on stdout."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from ragline.cli.common import JsonOption, KbOption, emit_json, stderr_console

DebounceOption = Annotated[
    float, typer.Option(help="Seconds of quiet after a change before it is applied.")
]


def watch(
    folders: Annotated[list[Path], typer.Argument(help="Folders to keep indexed.")],
    kb: KbOption,
    debounce: DebounceOption = 1.0,
    as_json: JsonOption = False,
) -> None:
    """Index folders, then keep the knowledge base in step as files change (Ctrl-C or
    SIGTERM stops, after closing the knowledge base)."""
    from ragline.errors import RaglineError
    from ragline.kb import KnowledgeBase
    from ragline.load.paths import scan_paths
    from ragline.watch import FolderWatcher

    if debounce < 0:
        raise RaglineError(f"--debounce must be 0 or more seconds, got {debounce}")
    scan_paths(folders)  # a missing folder is refused before anything is made
    console = stderr_console()

    def batch(report: dict[str, Any]) -> None:
        if as_json:
            emit_json(report)
        else:
            print(
                f"indexed {report['indexed']}, unchanged {report['unchanged']}, "
                f"deleted {report['deleted']}",
            )
        sys.stdout.flush()  # a line per batch, now, also into a pipe
        for error in report["errors"]:
            console.print(f"skipped {error['source']}: {error['reason']}", markup=False)

    with KnowledgeBase.open_or_create(kb) as knowledge_base:
        watcher = FolderWatcher(knowledge_base, folders, debounce=debounce, on_batch=batch)
        console.print(f"watching {', '.join(map(str, folders))} (Ctrl-C stops)", markup=False)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # as Ctrl-C: stop, keep all
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the watch, not the work
            watcher.run(stop)
    console.print(f"stopped watching; {kb} is up to date", markup=False)
