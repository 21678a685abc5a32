"""KnowledgeBase writes: unchanged re-adds, replacements, deletes — live and after reopening."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline import Document, KnowledgeBase

MODES = ["dense", "bm25", "hybrid"]


def doc_ids(kb: KnowledgeBase, query: str, mode: str, **options) -> list[str]:
    return [h.chunk.doc_id for h in kb.search(query, mode=mode, k=20, **options)]


def long_text(marker: str, paragraphs: int = 40) -> str:
    """Several hundred words: many chunks, with ``marker`` only in the last paragraph."""
    body = [
        f"Paragraph {i} talks about harbour cranes, cargo ships and container logistics "
        f"with schedules, manifests and customs paperwork number {i}."
        for i in range(paragraphs)
    ]
    body[-1] += f" Only here the word {marker} appears."
    return "\n\n".join(body)


def test_readding_unchanged_files_is_a_no_op(kb: KnowledgeBase, corpus_dir: Path):
    first = kb.add(corpus_dir)
    generation = kb.catalog.generation
    counts = kb.catalog.counts()
    again = kb.add(corpus_dir)
    assert (again.added, again.updated, again.unchanged, again.chunks) == (0, 0, 8, 0)
    assert kb.catalog.generation == generation
    assert kb.catalog.counts() == counts == (8, first.chunks)
    # also across a reopen, and for Document objects
    path = kb.path
    kb.close()
    with KnowledgeBase.open(path) as reopened:
        report = reopened.add(corpus_dir)
        assert report.unchanged == 8 and report.indexed == 0
        assert reopened.catalog.generation == generation
        doc = Document("solo", "A single note about lighthouses.")
        assert reopened.add([doc]).added == 1
        assert reopened.add([doc]).unchanged == 1


def test_changed_file_replaces_its_chunks(kb: KnowledgeBase, tmp_path: Path):
    folder = tmp_path / "docs"
    folder.mkdir()
    target = folder / "port.txt"
    target.write_text(long_text("aardvark"), encoding="utf-8")
    (folder / "other.txt").write_text("Lighthouses guide sailors at night.", encoding="utf-8")
    first = kb.add(folder)
    assert first.added == 2
    old_chunks = kb.catalog.counts()[1]
    assert old_chunks > 3  # the long document is really split
    assert doc_ids(kb, "aardvark", "bm25") == ["docs/port.txt"]

    target.write_text(long_text("zeppelin", paragraphs=15), encoding="utf-8")
    report = kb.add(folder)
    assert (report.added, report.updated, report.unchanged) == (0, 1, 1)

    def check(kb: KnowledgeBase) -> None:
        assert doc_ids(kb, "aardvark", "bm25") == []
        for mode in ("bm25", "hybrid"):
            assert doc_ids(kb, "zeppelin", mode)[0] == "docs/port.txt"
            assert "zeppelin" in kb.search("zeppelin", mode=mode, k=1)[0].chunk.text
        for mode in MODES:  # dense and hybrid return neighbours, but never the old text
            assert all("aardvark" not in h.chunk.text for h in kb.search("aardvark", mode=mode))
        stored = kb.document("docs/port.txt")
        assert stored is not None and "zeppelin" in stored.text and "aardvark" not in stored.text
        # no chunk of the old version survives, in any mode
        for mode in MODES:
            for hit in kb.search("harbour cranes cargo", mode=mode, k=50):
                assert "aardvark" not in hit.chunk.text
                document = kb.document(hit.chunk.doc_id)
                assert hit.chunk.text == document.text[hit.chunk.start : hit.chunk.end]
        documents, chunks = kb.catalog.counts()
        assert documents == 2 and chunks < old_chunks

    check(kb)
    path = kb.path
    kb.close()
    with KnowledgeBase.open(path) as reopened:
        check(reopened)


def test_same_id_twice_in_one_add_keeps_the_last(kb: KnowledgeBase):
    report = kb.add(
        [Document("x", "first version with walrus"), Document("x", "second version with narwhal")]
    )
    assert kb.catalog.counts()[0] == 1
    assert report.added + report.updated == 2
    assert doc_ids(kb, "narwhal", "bm25") == ["x"]
    assert doc_ids(kb, "walrus", "bm25") == []


@pytest.mark.parametrize("how", ["ids", "filters"])
def test_delete_is_reflected_now_and_after_reopen(docs_kb: KnowledgeBase, queries, how):
    kb = docs_kb
    generation = kb.catalog.generation
    if how == "ids":
        assert kb.delete(["oceans", "chess", "not-there"]) == 2
        gone = {"oceans", "chess"}
    else:
        assert kb.delete_where({"lang": "de"}) == 2  # chess and trains
        gone = {"chess", "trains"}
    assert kb.catalog.generation > generation

    def check(kb: KnowledgeBase) -> None:
        assert kb.catalog.counts()[0] == 6
        for doc_id in gone:
            assert kb.document(doc_id) is None
            for mode in MODES:
                assert not gone & set(doc_ids(kb, queries[doc_id], mode))
        for doc_id in set(queries) - gone:
            for mode in MODES:
                assert doc_ids(kb, queries[doc_id], mode)[0] == doc_id
        everything = " ".join(queries.values())
        for mode in MODES:
            assert set(doc_ids(kb, everything, mode)) == set(queries) - gone

    check(kb)
    path = kb.path
    kb.close()
    with KnowledgeBase.open(path) as reopened:
        check(reopened)
        # a deleted document can come back
        assert (
            reopened.add([Document("chess", "Chess returns: grandmasters and a sicilian.")]).added
            == 1
        )
        assert doc_ids(reopened, queries["chess"], "bm25")[0] == "chess"


def test_delete_where_range_and_in(docs_kb: KnowledgeBase, queries):
    assert docs_kb.delete_where({"year": {"lt": 2020}}) == 2  # cats, volcanoes
    assert docs_kb.delete_where({"topic": {"in": ["food", "games"]}}) == 3
    assert docs_kb.delete_where({"topic": "nothing"}) == 0
    remaining = {"astronomy", "oceans", "trains"}
    for mode in MODES:
        assert set(doc_ids(docs_kb, " ".join(queries.values()), mode)) == remaining


def test_context_manager_and_public_api(tmp_path: Path, make_config, queries):
    path = tmp_path / "ctx"
    with KnowledgeBase.create(path, make_config()) as kb:
        report = kb.add([Document("note", "The lighthouse keeper polishes the lens.")])
        assert report.added == 1 and report.indexed == 1 and report.chunks == 1
        assert report.to_dict()["errors"] == []
    # closed: the write lock is released, so a new writer can open it
    with KnowledgeBase.open(path) as kb:
        kb.add([Document("note2", "Fog horns sound over the bay.")])
        info = kb.info()
        assert (info["documents"], info["chunks"], info["embedder"], info["dim"]) == (
            2,
            2,
            "hash-64",
            64,
        )
        assert info["config"]["embed"]["model"] == "hash-64"
    with KnowledgeBase.open_or_create(path) as kb:
        assert kb.search("lighthouse keeper lens", k=1)[0].chunk.doc_id == "note"


def test_bad_inputs_are_reported_and_the_rest_indexed(kb: KnowledgeBase, tmp_path: Path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Penguins huddle together in the cold.", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02binary\x00")
    report = kb.add([folder, tmp_path / "missing.txt"])
    assert report.added == 1
    reasons = {Path(e.source).name: e.reason for e in report.errors}
    assert set(reasons) == {"empty.txt", "binary.txt", "missing.txt"}
    assert all(reasons.values())
    assert doc_ids(kb, "penguins", "bm25") == ["mixed/good.txt"]
