"""Crash safety: ``ragline index`` killed with SIGKILL at several points, then checked.

DESIGN.md: "A crash at any point leaves a knowledge base that opens, with every committed
document present and none half-written." ``-v`` prints ``committed <doc_id>`` to stderr after
each committed batch; the run is killed after a chosen number of batches (or at a random
early time), and then every reported document must be present, searchable and whole.
"""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ragline import KnowledgeBase
from ragline.chunk import make_chunker
from ragline.config import ChunkConfig
from ragline.documents import Document
from ragline.embed.fake import HashEncoder
from ragline.ingest import BATCH_CHUNKS

pytestmark = pytest.mark.integration

N_DOCS = 300
CHUNK_SIZE = 20  # tokens; small chunks make many chunks per document, so batches commit often
_VOCAB_TEXT = (
    "harbour crane cargo ship manifest customs dock pier tide anchor rope sail mast hull "
    "keel deck galley compass chart lantern barrel crate net gull wave storm breeze coast "
    "island reef lighthouse buoy channel current voyage sailor captain bosun cabin bunk"
)
VOCAB = _VOCAB_TEXT.split()
COMMITTED = re.compile(r"^committed (\S+)\s*$")


def marker(i: int) -> str:
    return f"zq{i:03d}marker"


def doc_text(i: int) -> str:
    rng = random.Random(i)
    words = [rng.choice(VOCAB) for _ in range(1000)]
    words[rng.randrange(200, 800)] = marker(i)
    paragraphs, start = [], 0
    while start < len(words):
        size = rng.randint(15, 45)
        paragraphs.append(" ".join(words[start : start + size]) + ".")
        start += size
    return "\n\n".join(paragraphs) + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, list[int]]:
    """300 text files of ~1,000 words, and the number of documents committed after each batch.

    Batch boundaries follow the ingest rule (commit once a batch holds BATCH_CHUNKS chunks),
    computed with the same chunker the CLI run uses.
    """
    root = tmp_path_factory.mktemp("crash") / "corpus"
    root.mkdir()
    chunker = make_chunker(ChunkConfig(size=CHUNK_SIZE, overlap=0), HashEncoder(dim=64))
    ends, pending = [], 0
    for i in range(N_DOCS):
        text = doc_text(i)
        (root / f"doc{i:03d}.txt").write_text(text, encoding="utf-8")
        pending += len(chunker.chunk(Document(f"corpus/doc{i:03d}.txt", text)))
        if pending >= BATCH_CHUNKS:
            ends.append(i + 1)
            pending = 0
    if pending:
        ends.append(N_DOCS)
    assert len(ends) >= 8, ends  # enough commits to kill between them
    return root, ends


def index_command(corpus_dir: Path, kb: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ragline.cli",
        "index",
        str(corpus_dir),
        "--kb",
        str(kb),
        "--embedder",
        "hash-64",
        "--chunk-size",
        str(CHUNK_SIZE),
        "--overlap",
        "0",
        *extra,
    ]


def env() -> dict[str, str]:
    return {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "200"}


def run_and_kill(
    corpus_dir: Path,
    kb: Path,
    *,
    after_lines: int | None = None,
    after_seconds: float | None = None,
) -> list[str]:
    """Run ``ragline index -v``; SIGKILL it after ``after_lines`` committed lines or a delay.

    Returns every document id the run reported as committed (including lines that were
    already in the pipe when the kill landed).
    """
    process = subprocess.Popen(
        index_command(corpus_dir, kb, "-v"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env(),
    )
    committed: list[str] = []
    other: list[str] = []  # the rest of stderr, to explain a failure
    reached = threading.Event()

    def read() -> None:
        for line in process.stderr:
            match = COMMITTED.match(line)
            if match:
                committed.append(match.group(1))
                if after_lines is not None and len(committed) >= after_lines:
                    reached.set()
            else:
                other.append(line.rstrip())
        reached.set()  # EOF: the run ended (it should not, before the kill)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        if after_lines is not None:
            assert reached.wait(timeout=120), "no progress from ragline index"
        else:
            time.sleep(after_seconds)
        finished = process.poll() is not None
        process.send_signal(signal.SIGKILL)
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    reader.join(timeout=30)
    assert not finished, f"ingest ended (exit {code}) before the kill: {other[-5:]}"
    assert code == -signal.SIGKILL, other[-5:]
    return committed


def check_knowledge_base(kb_path: Path, corpus_dir: Path, committed: list[str]) -> int:
    """Everything the brief promises after a crash; returns the number of stored documents."""
    assert len(set(committed)) == len(committed), "a document was committed twice"
    # whole documents only: stored chunk count == chunk rows, and spans rebuild the text
    with sqlite3.connect(kb_path / "catalog.sqlite") as db:
        documents = db.execute("SELECT id, text, chunks FROM documents ORDER BY id").fetchall()
        orphans = db.execute(
            "SELECT COUNT(*) FROM chunks WHERE doc_id NOT IN (SELECT id FROM documents)"
        ).fetchone()[0]
        assert orphans == 0
        for doc_id, text, n_chunks in documents:
            rows = db.execute(
                "SELECT ordinal, start, end, text, chunk_id, length(vector) FROM chunks "
                "WHERE doc_id = ? ORDER BY ordinal",
                (doc_id,),
            ).fetchall()
            assert len(rows) == n_chunks > 0, doc_id
            assert [r[0] for r in rows] == list(range(n_chunks)), doc_id
            covered = bytearray(len(text))
            for _, start, end, chunk_text, chunk_id, vector_bytes in rows:
                assert chunk_text == text[start:end], chunk_id
                assert chunk_id.startswith(doc_id + "#")
                assert vector_bytes == 64 * 4
                covered[start:end] = b"\x01" * (end - start)
            for match in re.finditer(r"\w+", text):  # every word is in some chunk
                assert all(covered[match.start() : match.end()]), (doc_id, match.group())
            name = doc_id.split("/", 1)[1]
            assert text == (corpus_dir / name).read_text(encoding="utf-8"), doc_id
    stored = {doc_id for doc_id, _, _ in documents}
    assert set(committed) <= stored, sorted(set(committed) - stored)[:5]

    # it opens, and every committed document is searchable by its unique word
    with KnowledgeBase.open(kb_path) as kb:
        numbers = [int(doc_id[-7:-4]) for doc_id in committed]
        results = kb.search_many([marker(i) for i in numbers], mode="bm25", k=3)
        for doc_id, i, hits in zip(committed, numbers, results, strict=True):
            assert [h.chunk.doc_id for h in hits] == [doc_id], (doc_id, hits)
            assert marker(i) in hits[0].chunk.text
        if committed:
            dense = kb.search(marker(numbers[0]) + " harbour crane", mode="dense", k=5)
            assert len(dense) == 5
        assert kb.info()["documents"] == len(stored)

    # and the CLI reads it too
    info = subprocess.run(
        [sys.executable, "-m", "ragline.cli", "info", "--kb", str(kb_path), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env(),
    )
    assert info.returncode == 0, info.stderr
    assert json.loads(info.stdout)["documents"] == len(stored)
    return len(stored)


@pytest.mark.parametrize("batches", [1, 3, 6])
def test_kill_after_committed_batches(corpus, tmp_path: Path, batches: int):
    corpus_dir, ends = corpus
    kb = tmp_path / "kb"
    committed = run_and_kill(corpus_dir, kb, after_lines=ends[batches - 1])
    assert len(committed) >= ends[batches - 1]
    stored = check_knowledge_base(kb, corpus_dir, committed)
    assert stored < N_DOCS

    if batches == 3:  # resume: the same command again, to completion
        result = subprocess.run(
            index_command(corpus_dir, kb, "--json"),
            capture_output=True,
            text=True,
            timeout=120,
            env=env(),
        )
        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)
        assert payload["unchanged"] == stored  # committed work is not redone
        assert payload["added"] == N_DOCS - stored and payload["updated"] == 0
        assert payload["documents"] == N_DOCS and payload["errors"] == []
        every = [f"corpus/doc{i:03d}.txt" for i in range(N_DOCS)]
        assert check_knowledge_base(kb, corpus_dir, every) == N_DOCS
        with sqlite3.connect(kb / "catalog.sqlite") as db:
            (chunks,) = db.execute("SELECT COUNT(*) FROM chunks").fetchone()
            (distinct,) = db.execute("SELECT COUNT(DISTINCT chunk_id) FROM chunks").fetchone()
            (stored_total,) = db.execute("SELECT SUM(chunks) FROM documents").fetchone()
        assert chunks == distinct == stored_total == payload["total_chunks"]


def test_kill_at_a_random_early_time(corpus, tmp_path: Path):
    corpus_dir, _ = corpus
    kb = tmp_path / "kb"
    delay = random.Random(20240611).uniform(0.8, 2.0)
    committed = run_and_kill(corpus_dir, kb, after_seconds=delay)
    if not (kb / "ragline.toml").exists():
        # killed before the knowledge base existed: nothing can have been committed
        assert committed == []
    else:
        check_knowledge_base(kb, corpus_dir, committed)
    # either way, running again completes
    result = subprocess.run(
        index_command(corpus_dir, kb, "--json"),
        capture_output=True,
        text=True,
        timeout=120,
        env=env(),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["documents"] == N_DOCS
