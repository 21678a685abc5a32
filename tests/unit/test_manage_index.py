"""``ragline.manage.index_paths`` as ``ragline index`` uses it: progress counted in inputs
from the start (before the first commit), build options checked in one line, and nothing
created when a path does not exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline.errors import ConfigMismatchError, RaglineError
from ragline.manage import index_paths


def test_progress_counts_inputs_from_the_first_one(corpus_dir: Path, tmp_path: Path, make_config):
    events: list[tuple[str, int, int]] = []
    result = index_paths(
        tmp_path / "kb",
        [corpus_dir],
        make_config(),
        on_input=lambda done, total: events.append(("read", done, total)),
        on_commit=lambda ids, report: events.append(("commit", report.indexed, 0)),
    )
    assert result.documents == 8
    reads = [(done, total) for kind, done, total in events if kind == "read"]
    total = 7  # seven files; records.jsonl holds two documents
    assert reads[0] == (0, total) and reads[-1] == (total, total)
    assert [done for done, _ in reads] == sorted(done for done, _ in reads)
    # one small batch: every input is counted before the first (and only) commit
    first_commit = next(i for i, event in enumerate(events) if event[0] == "commit")
    assert [done for kind, done, _ in events[:first_commit]] == list(range(total + 1))


def test_a_missing_source_creates_nothing(corpus_dir: Path, tmp_path: Path, make_config):
    with pytest.raises(RaglineError, match="typo: no such file or directory"):
        index_paths(tmp_path / "kb", [corpus_dir, tmp_path / "typo"], make_config())
    assert not (tmp_path / "kb").exists()


def test_a_changed_build_option_is_named_with_both_values(
    corpus_dir: Path, tmp_path: Path, make_config
):
    index_paths(tmp_path / "kb", [corpus_dir], make_config())
    changed = make_config().with_overrides("chunk", overlap=8)
    with pytest.raises(ConfigMismatchError, match=r"built with --overlap 32, not 8: "):
        index_paths(tmp_path / "kb", [corpus_dir], changed)
