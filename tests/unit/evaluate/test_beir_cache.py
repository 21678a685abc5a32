"""The BEIR knowledge-base cache: a finished build is reused; a build cut short is carried
on from what it committed instead of being embedded again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragline.config import Config
from ragline.documents import Document
from ragline.evaluate.beir import COMPLETE_MARKER, cached_kb
from ragline.ingest import BATCH_CHUNKS

CONFIG = Config().with_overrides("embed", model="hash-64")
DOCUMENTS = [Document(f"d{i}", f"Fact {i} is about topic {i}.") for i in range(BATCH_CHUNKS + 100)]
"""One chunk each: a build cut after BATCH_CHUNKS + 50 has committed one batch."""
CUT = BATCH_CHUNKS + 50


class Interrupted(Exception):
    """Stands for a timeout or Ctrl-C in the middle of a build."""


def _cut_short(after: int) -> Iterator[Document]:
    yield from DOCUMENTS[:after]
    raise Interrupted


def test_a_build_cut_short_is_carried_on(tmp_path: Path) -> None:
    with pytest.raises(Interrupted):
        cached_kb("facts", "fp", CONFIG, lambda: _cut_short(CUT), cache_dir=tmp_path)
    [directory] = (tmp_path / "kb").iterdir()
    assert not (directory / COMPLETE_MARKER).exists()
    kb = cached_kb("facts", "fp", CONFIG, lambda: DOCUMENTS, cache_dir=tmp_path)
    with kb:
        assert kb.info()["documents"] == len(DOCUMENTS)
    report = json.loads((directory / COMPLETE_MARKER).read_text())
    assert report["unchanged"] == BATCH_CHUNKS  # what the first build committed was kept
    assert report["added"] + report["unchanged"] == len(DOCUMENTS)


def test_without_the_cache_a_build_starts_again(tmp_path: Path) -> None:
    with pytest.raises(Interrupted):
        cached_kb("facts", "fp", CONFIG, lambda: _cut_short(CUT), cache_dir=tmp_path)
    kb = cached_kb("facts", "fp", CONFIG, lambda: DOCUMENTS, cache_dir=tmp_path, use_cache=False)
    with kb:
        assert kb.info()["documents"] == len(DOCUMENTS)
    [directory] = (tmp_path / "kb").iterdir()
    assert json.loads((directory / COMPLETE_MARKER).read_text())["added"] == len(DOCUMENTS)


def test_a_change_to_the_text_code_builds_anew(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cached build is keyed by the loaders' and chunkers' source too: after a change
    there, the corpus is loaded and chunked again instead of reused from the old build."""
    import ragline.evaluate.beir as beir

    assert len(beir.text_code_fingerprint()) == 16
    documents = DOCUMENTS[:3]
    for code in ("before", "after", "after"):
        monkeypatch.setattr(beir, "text_code_fingerprint", lambda code=code: code)
        with cached_kb("facts", "fp", CONFIG, lambda: documents, cache_dir=tmp_path):
            pass
    assert len(list((tmp_path / "kb").iterdir())) == 2
