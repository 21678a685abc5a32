"""The demo corpus is the same bytes on every run, so a second ``make demo`` re-embeds
nothing: two runs in separate processes (other hash seeds, another environment) agree."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from ragline.demo_corpus import MODULES


def _write(out: Path, seed: str, **env: str) -> dict[str, bytes]:
    done = subprocess.run(
        [sys.executable, "-m", "ragline.demo_corpus", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONHASHSEED": seed, **env},
    )
    assert done.returncode == 0, done.stderr
    return {path.name: path.read_bytes() for path in sorted(out.iterdir())}


def test_two_runs_write_the_same_bytes(tmp_path: Path) -> None:
    first = _write(tmp_path / "a", "1")
    second = _write(tmp_path / "b", "2", RAGLINE_DEMO_PROBE="differs")
    assert len(first) == len(MODULES)
    assert [name for name in first if first[name] != second.get(name)] == []
    everything = b"".join(first.values())
    assert b"function copy2>" in everything and b" at 0x" not in everything
    assert b"RAGLINE_DEMO_PROBE" not in b"".join(second.values())


def test_a_second_run_leaves_unchanged_files_alone(tmp_path: Path) -> None:
    from ragline.demo_corpus import write_corpus

    (path,) = write_corpus(tmp_path, ("shutil",))
    before = path.stat().st_mtime_ns
    os.utime(path, ns=(before - 10**9, before - 10**9))
    write_corpus(tmp_path, ("shutil",))
    assert path.stat().st_mtime_ns == before - 10**9
