"""``ragline watch`` in a subprocess: new, changed, deleted and moved files reach the
knowledge base; hidden and unreadable files do not; SIGTERM stops it cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ragline import KnowledgeBase

pytest.importorskip("watchdog")
pytestmark = pytest.mark.integration


def listed(kb: Path) -> dict[str, str]:
    """Source path → title of each document in ``kb``."""
    with KnowledgeBase.open(kb) as opened:
        return {row["path"]: row["title"] for row in opened.lookup.listing()}


def wait_for(kb: Path, expected: dict[str, str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while listed(kb) != expected:
        assert time.monotonic() < deadline, f"{listed(kb)} != {expected}"
        time.sleep(0.2)


def test_watch_follows_a_folder(tmp_path: Path, run_cli):
    folder = tmp_path / "w"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# Alpha\n\nKestrels hover.\n")
    kb = tmp_path / "kb"
    assert run_cli("index", folder, "--kb", kb, "--embedder", "hash-64").returncode == 0
    watcher = subprocess.Popen(
        [sys.executable, "-m", "ragline.cli", "watch", folder, "--kb", kb, "--debounce", "0.3"]
        + ["--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        first = json.loads(watcher.stdout.readline())  # the first pass: nothing changed
        assert (first["indexed"], first["unchanged"], first["deleted"]) == (0, 1, 0)
        (folder / "sub" / "b.md").write_text("# Beta\n\nNarwhals dive.\n")
        (folder / "a.md").write_text("# Alpha two\n\nKestrels hover again.\n")
        (folder / ".c.md").write_text("# Hidden\n")
        (folder / "d.csv").write_text("no,loader\n")
        a, b = str(folder / "a.md"), str(folder / "sub" / "b.md")
        wait_for(kb, {a: "Alpha two", b: "Beta"})
        (folder / "a.md").unlink()
        wait_for(kb, {b: "Beta"})
        (folder / "sub").rename(folder / "moved")
        wait_for(kb, {str(folder / "moved" / "b.md"): "Beta"})
    finally:
        watcher.send_signal(signal.SIGTERM)
        _, err = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, err
    assert "stopped watching" in err
