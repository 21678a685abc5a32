"""DocumentLookup: documents named the way users name them, listed, and shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase


@pytest.fixture
def notes_kb(
    tmp_path: Path, make_config, monkeypatch: pytest.MonkeyPatch
) -> Iterator[KnowledgeBase]:
    for name, text in [("a.md", "Kestrels hover."), ("sub/b.md", "Voles hide.")]:
        path = tmp_path / "p1" / "notes" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    kb = KnowledgeBase.create(tmp_path / "kb", make_config())
    kb.add(tmp_path / "p1" / "notes")
    kb.add([Document("faq-1", "Plain text.", {"title": "FAQ"})])
    monkeypatch.chdir(tmp_path)
    yield kb
    kb.close()


def test_resolve_by_id_relative_or_absolute_path_folder_or_root_relative(notes_kb, tmp_path):
    resolve = notes_kb.lookup.resolve
    assert resolve("faq-1") == ["faq-1"]
    assert resolve("notes/a.md") == ["notes/a.md"]  # the id
    assert resolve("p1/notes/a.md") == ["notes/a.md"]  # relative to the working directory
    assert resolve(str(tmp_path / "p1" / "notes" / "a.md")) == ["notes/a.md"]
    assert resolve("p1/notes") == ["notes/a.md", "notes/sub/b.md"]  # a folder
    assert resolve("notes/sub") == ["notes/sub/b.md"]  # below the id root
    assert resolve("p1/not") == [] and resolve("nothing") == []


def test_listing_and_passages(notes_kb):
    rows = notes_kb.lookup.listing()
    assert [(r["doc_id"], r["title"], r["chunks"]) for r in rows] == [
        ("faq-1", "FAQ", 1),
        ("notes/a.md", "a", 1),
        ("notes/sub/b.md", "b", 1),
    ]
    assert rows[0]["path"] is None and isinstance(rows[1]["mtime"], float)
    assert [r["doc_id"] for r in notes_kb.lookup.listing({"title": "FAQ"})] == ["faq-1"]
    chunk = notes_kb.lookup.passage("notes/a.md#0", context=3)
    assert chunk is not None and (chunk.kind, chunk.text, chunk.before) == (
        "chunk",
        "Kestrels hover.",
        "",
    )
    document = notes_kb.lookup.passage("notes/a.md")
    assert document is not None and document.chunks[0]["chunk_id"] == "notes/a.md#0"
    assert notes_kb.lookup.passage("ghost") is None
