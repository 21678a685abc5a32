"""Ctrl-C during ``ragline index``: the documents committed so far are kept, the user is told
how many and how to resume (exit 130), and running the same command again resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

N_DOCS = 120
CHUNK_SIZE = 20  # tokens: ~50 chunks a document, so batches commit every ~40 documents
WORDS = ("harbour", "crane", "cargo", "ship", "manifest", "customs", "dock", "pier", "tide")


def _corpus(root: Path) -> Path:
    root.mkdir()
    for i in range(N_DOCS):
        text = " ".join(WORDS[(i + j) % len(WORDS)] for j in range(1000)) + f" doc{i}marker."
        (root / f"doc{i:03d}.txt").write_text(text, encoding="utf-8")
    return root


def _default_ctrl_c() -> None:
    """Ctrl-C as a terminal delivers it, even when this suite runs as a background job (a
    non-interactive shell starts those with SIGINT ignored, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_keeps_what_was_committed_and_says_how_to_resume(tmp_path: Path) -> None:
    corpus, kb = _corpus(tmp_path / "corpus"), tmp_path / "kb"
    command = [sys.executable, "-m", "ragline.cli", "index", str(corpus), "--kb", str(kb)]
    build = ["--embedder", "hash-64", "--chunk-size", str(CHUNK_SIZE), "--overlap", "0"]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    process = subprocess.Popen(
        [*command, *build, "-v"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_ctrl_c,
    )
    assert process.stderr is not None
    committed = 0
    for line in process.stderr:
        if line.startswith("committed "):
            committed += 1
            process.send_signal(signal.SIGINT)  # after the first committed batch
            break
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert out == ""
    [message] = [line for line in err.splitlines() if line.startswith("ragline:")]
    assert message.startswith("ragline: interrupted: kept ")
    assert message.endswith(" documents; run the same command again to resume")
    kept = int(message.split("kept ")[1].split()[0])
    assert committed <= kept < N_DOCS

    again = subprocess.run([*command, "--json"], capture_output=True, text=True, env=env)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["unchanged"] >= kept and report["added"] == N_DOCS - report["unchanged"]
    assert report["documents"] == N_DOCS
