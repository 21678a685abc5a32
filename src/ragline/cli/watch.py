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

from ragline.cli.common import JsonOption, KbOption, emit_json, output

DebounceOption = Annotated[
    float,
    typer.Option(
        min=0.0, metavar="SECONDS", help="Seconds of quiet after a change before it is applied."
    ),
]


def watch(
    folders: Annotated[list[Path], typer.Argument(help="Folders to keep indexed.")],
    kb: KbOption,
    debounce: DebounceOption = 1.0,
    as_json: JsonOption = False,
) -> None:
    """Index folders, then keep the knowledge base in step as files change (Ctrl-C or
    SIGTERM stops, after closing the knowledge base)."""
    from ragline.kb import KnowledgeBase
    from ragline.load.paths import scan_paths
    from ragline.watch import FolderWatcher

    scan_paths(folders)  # a missing folder is refused before anything is made
    out = output(as_json=as_json)

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
            out.warn(f"skipped {error['source']}: {error['reason']}")

    with KnowledgeBase.open_or_create(kb) as knowledge_base:
        watcher = FolderWatcher(knowledge_base, folders, debounce=debounce, on_batch=batch)
        out.note(f"watching {', '.join(map(str, folders))} (Ctrl-C stops)")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())  # as Ctrl-C: stop, keep all
        with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends the watch, not the work
            watcher.run(stop)
    out.note(f"stopped watching; {kb} is up to date")
