"""``ragline export`` and ``ragline import`` in a subprocess, taken while another process
writes: every snapshot is one state the writer passed through, and opens and searches."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase

pytestmark = pytest.mark.integration

WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from ragline import Document, KnowledgeBase

    kb_dir, stop = Path(sys.argv[1]), Path(sys.argv[2])
    with KnowledgeBase.open(kb_dir) as kb:
        for i in range(1, 5000):
            kb.add([Document(f"d{i}", f"word{i} the tide turns {i % 13} times")])
            if i % 7 == 6:
                kb.delete([f"d{i - 3}"])
            if i % 25 == 0:
                kb.save()  # index files replaced, tombstones pruned, while exports copy
            if i == 20:
                print("writing", flush=True)
            if stop.exists() and i > 40:
                break
    """
)


def states(adds: int) -> list[set[str]]:
    """Every set of document ids the writer passes through, in order."""
    current, seen = {"d0"}, [{"d0"}]
    for i in range(1, adds + 1):
        current = current | {f"d{i}"}
        seen.append(set(current))
        if i % 7 == 6:
            current = current - {f"d{i - 3}"}
            seen.append(set(current))
    return seen


def check_snapshot(path: Path) -> set[str]:
    """The snapshot at ``path`` is whole and one of the writer's states; returns its ids."""
    with sqlite3.connect(path / "catalog.sqlite") as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        per_doc = dict(db.execute("SELECT id, chunks FROM documents").fetchall())
        counted = dict(db.execute("SELECT doc_id, COUNT(*) FROM chunks GROUP BY doc_id"))
    db.close()
    assert per_doc == counted  # no document without its chunks, no orphan chunk
    ids = set(per_doc)
    newest = max(int(i[1:]) for i in ids)
    assert ids in states(newest + 1)
    with KnowledgeBase.open(path) as kb:
        dense, _ = kb.indexes.ensure()
        assert len(dense) == sum(per_doc.values())
        [hit] = kb.search(f"word{newest}", k=1, mode="bm25")
        assert hit.chunk.doc_id == f"d{newest}"
    return ids


def test_export_while_writing_then_import(tmp_path: Path, run_cli, make_config):
    kb_dir = tmp_path / "kb"
    with KnowledgeBase.create(kb_dir, make_config()) as kb:
        kb.add([Document("d0", "word0 the first tide")])
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(kb_dir), str(stop)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "writing\n"
        snapshots = []
        for n in range(3):
            out = tmp_path / f"snap{n}"
            result = run_cli("export", "--kb", kb_dir, out, "--json")
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout)["documents"] >= 2
            snapshots.append(out)
        assert writer.poll() is None, "the writer ended before the exports: make it longer"
    finally:
        stop.touch()
        writer.wait(timeout=120)
    assert writer.returncode == 0
    taken = [check_snapshot(path) for path in snapshots]
    assert len({frozenset(ids) for ids in taken}) > 1  # taken at different points

    imported = run_cli("import", snapshots[-1], "--kb", tmp_path / "kb2", "--json")
    assert imported.returncode == 0, imported.stderr
    listed = run_cli("ls", "--kb", tmp_path / "kb2", "--json")
    assert {d["doc_id"] for d in json.loads(listed.stdout)["documents"]} == taken[-1]


def test_export_refuses_a_used_directory_and_leaves_nothing_on_failure(
    tmp_path: Path, run_cli, make_config
):
    kb_dir = tmp_path / "kb"
    with KnowledgeBase.create(kb_dir, make_config()) as kb:
        kb.add([Document("d0", "word0")])
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine")
    result = run_cli("export", "--kb", kb_dir, used)
    assert result.returncode == 1 and "not empty" in result.stderr
    assert [p.name for p in used.iterdir()] == ["keep.txt"]
    missing = run_cli("import", tmp_path / "no-snapshot", "--kb", tmp_path / "kb2")
    assert missing.returncode == 1 and not (tmp_path / "kb2").exists()
    assert run_cli("export", "--kb", kb_dir, tmp_path / "fine").returncode == 0
    assert sorted(p.name for p in (tmp_path / "fine").iterdir()) == [
        "bm25.npz",
        "catalog.sqlite",  # whole: its write-ahead log folded in
        "dense.faiss",
        "ragline.toml",
    ]
