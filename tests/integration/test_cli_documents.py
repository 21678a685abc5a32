"""Documents a user can find again, through ``ragline`` in a subprocess: ids that do not
collide, ``delete`` by what was typed, ``ls`` and ``show``.

Knowledge bases here use ``--embedder hash-64`` (model-free), so each call is ~1 s.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase

pytestmark = pytest.mark.integration


def parse(result) -> dict:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def two_notes(tmp_path: Path, run_cli) -> dict[str, Path]:
    """``p1/notes/a.md`` and ``p2/notes/a.md`` (same folder and file names, different
    content) indexed one after the other into one knowledge base."""
    write(tmp_path / "p1" / "notes" / "a.md", "# Alpha\n\nKestrels hover over the meadow.\n")
    write(tmp_path / "p2" / "notes" / "a.md", "# Beta\n\nNarwhals dive under the sea ice.\n")
    kb = tmp_path / "kb"
    parse(
        run_cli("index", tmp_path / "p1" / "notes", "--kb", kb, "--embedder", "hash-64", "--json")
    )
    return {"root": tmp_path, "kb": kb}


def test_same_folder_name_twice_keeps_both_documents(two_notes, run_cli):
    root, kb = two_notes["root"], two_notes["kb"]
    second = parse(run_cli("index", root / "p2" / "notes", "--kb", kb, "--json"))
    assert (second["added"], second["updated"], second["documents"]) == (1, 0, 2)
    for query, folder in [("kestrels meadow", "p1"), ("narwhals sea ice", "p2")]:
        hits = parse(run_cli("search", query, "--kb", kb, "--mode", "bm25", "--json"))["hits"]
        assert hits[0]["metadata"]["path"] == str(root / folder / "notes" / "a.md")
    again = parse(
        run_cli("index", root / "p1" / "notes", root / "p2" / "notes", "--kb", kb, "--json")
    )
    assert (again["added"], again["updated"], again["unchanged"]) == (0, 0, 2)


def test_delete_by_relative_path_absolute_path_or_id(two_notes, run_cli):
    root, kb = two_notes["root"], two_notes["kb"]
    write(root / "p1" / "notes" / "b.md", "Larks sing at dawn.")
    write(root / "p1" / "notes" / "c.md", "Swifts sleep on the wing.")
    parse(run_cli("index", root / "p1" / "notes", root / "p2" / "notes", "--kb", kb, "--json"))
    assert parse(run_cli("ls", "--kb", kb, "--json"))["count"] == 4
    # as typed from the folder above p1 (relative), absolute, and by id
    relative = run_cli("delete", "p1/notes/b.md", "--kb", kb, "--json", cwd=root)
    assert parse(relative)["doc_ids"] == ["notes/b.md"]
    absolute = parse(run_cli("delete", root / "p2" / "notes" / "a.md", "--kb", kb, "--json"))
    assert absolute["doc_ids"] == [(root / "p2" / "notes" / "a.md").as_posix()]
    assert parse(run_cli("delete", "notes/c.md", "--kb", kb, "--json"))["deleted"] == 1
    assert [d["doc_id"] for d in parse(run_cli("ls", "--kb", kb, "--json"))["documents"]] == [
        "notes/a.md"
    ]


def test_delete_of_nothing_fails_with_a_hint(two_notes, run_cli):
    result = run_cli("delete", "no/such.md", "--kb", two_notes["kb"])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"ragline: error: no document matches no/such.md; "
        f"`ragline ls --kb {two_notes['kb']}` lists ids"
    )
    assert parse(run_cli("ls", "--kb", two_notes["kb"], "--json"))["count"] == 1


def test_delete_a_folder_as_typed(two_notes, run_cli):
    root, kb = two_notes["root"], two_notes["kb"]
    parse(run_cli("index", root / "p2" / "notes", "--kb", kb, "--json"))
    result = parse(run_cli("delete", "p2/notes/", "--kb", kb, "--json", cwd=root))
    assert result["doc_ids"] == [(root / "p2" / "notes" / "a.md").as_posix()]


def test_ls_lists_on_stdout_and_filters(two_notes, run_cli):
    root, kb = two_notes["root"], two_notes["kb"]
    parse(run_cli("index", root / "p2" / "notes", "--kb", kb, "--meta", "team=blue", "--json"))
    rows = parse(run_cli("ls", "--kb", kb, "--json"))["documents"]
    assert {"doc_id", "title", "chunks", "path", "mtime"} <= set(rows[0])
    assert [r["title"] for r in rows] == ["Beta", "Alpha"]  # id order: absolute ids first
    blue = parse(run_cli("ls", "--kb", kb, "--filter", "team=blue", "--json"))["documents"]
    assert [r["path"] for r in blue] == [str(root / "p2" / "notes" / "a.md")]
    text = run_cli("ls", "--kb", kb)
    assert text.returncode == 0
    lines = text.stdout.splitlines()
    assert len(lines) == 2 and lines[1].split("\t")[:3] == ["notes/a.md", "1", "Alpha"]


def test_show_a_chunk_with_page_label_and_context(tmp_path: Path, run_cli, make_config):
    pages = ["Contents of the manual.", "A preface for readers.", "Tides rise twice a day.", "End."]
    starts = tuple(sum(len(p) + 1 for p in pages[:n]) for n in range(len(pages)))
    meta = {"title": "Tide manual", "page_labels": ["i", "ii", "1", "2"]}
    config = make_config().with_overrides("chunk", method="fixed", size=6, overlap=0)
    with KnowledgeBase.create(tmp_path / "kb", config) as kb:
        kb.add([Document("manual", "\n".join(pages), meta, page_starts=starts)])
        chunks = kb.catalog.chunks(range(1, 50)).values()
        tides = next(c for c in chunks if c.metadata["page"] == 3)
    shown = parse(run_cli("show", "manual", "--kb", tmp_path / "kb", "--json"))
    assert shown["kind"] == "document" and shown["text"] == "\n".join(pages)
    assert tides.id in [c["chunk_id"] for c in shown["chunks"]]
    passage = parse(run_cli("show", tides.id, "--kb", tmp_path / "kb", "--context", "8", "--json"))
    assert (passage["kind"], passage["page"], passage["page_label"]) == ("chunk", 3, "1")
    assert passage["span"] == list(tides.span) and passage["metadata"]["title"] == "Tide manual"
    text = "\n".join(pages)
    assert passage["before"] == text[tides.start - 8 : tides.start] and len(passage["before"]) == 8
    assert passage["text"] == tides.text and passage["after"] == text[tides.end : tides.end + 8]
    human = run_cli("show", tides.id, "--kb", tmp_path / "kb")
    assert "page: 3 (printed 1)" in human.stdout and tides.text in human.stdout


def test_show_an_unknown_id_is_one_line(two_notes, run_cli):
    result = run_cli("show", "ghost#3", "--kb", two_notes["kb"])
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "ghost#3" in result.stderr
