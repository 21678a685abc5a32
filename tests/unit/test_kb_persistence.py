"""KnowledgeBase on disk: config checks, the write lock, derived indexes rebuilt or caught up."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ragline import Document, KnowledgeBase
from ragline.embed.fake import HashEncoder
from ragline.errors import ConfigMismatchError, KnowledgeBaseLockedError, RaglineError
from ragline.index.bm25 import FILE_NAME as BM25_FILE
from ragline.index.faiss import FILE_NAME as DENSE_FILE
from ragline.store.layout import LOCK_FILE

MODES = ["dense", "bm25", "hybrid"]


class CountingEncoder:
    """HashEncoder that counts how often it embeds documents and queries."""

    def __init__(self, dim: int = 64) -> None:
        self.inner = HashEncoder(dim=dim)
        self.name, self.dim = self.inner.name, self.inner.dim
        self.document_calls = 0
        self.documents_encoded = 0
        self.query_calls = 0

    def encode_documents(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        self.document_calls += 1
        self.documents_encoded += len(texts)
        return self.inner.encode_documents(texts, batch_size=batch_size)

    def encode_queries(self, texts: Sequence[str], *, batch_size: int = 32) -> np.ndarray:
        self.query_calls += 1
        return self.inner.encode_queries(texts, batch_size=batch_size)

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return self.inner.token_offsets(text)


def top_ids(kb: KnowledgeBase, query: str, mode: str, k: int = 3) -> list[str]:
    return [h.chunk.doc_id for h in kb.search(query, mode=mode, k=k)]


def snapshot(kb: KnowledgeBase, queries: dict[str, str]) -> dict:
    return {
        (name, mode): [(h.chunk.id, round(h.score, 5)) for h in kb.search(q, mode=mode, k=5)]
        for name, q in queries.items()
        for mode in MODES
    }


# ---- configuration ----------------------------------------------------------------------
def test_opening_with_a_different_encoder_is_refused(docs_kb: KnowledgeBase):
    path = docs_kb.path
    docs_kb.close()
    with pytest.raises(ConfigMismatchError, match="hash-64") as info:
        KnowledgeBase.open(path, encoder=HashEncoder(dim=32))
    assert "hash-32" in str(info.value)
    with pytest.raises(ConfigMismatchError, match="hash-64"):
        KnowledgeBase.open(path, encoder=HashEncoder(dim=64, name="other"))
    # the same encoder opens fine
    with KnowledgeBase.open(path, encoder=HashEncoder(dim=64)) as kb:
        assert top_ids(kb, "magma lava", "dense", 1) == ["volcanoes"]


def test_opening_with_different_build_config_is_refused(docs_kb: KnowledgeBase, make_config):
    path = docs_kb.path
    docs_kb.close()
    stored = make_config()
    for section, values in [
        ("chunk", {"size": 64}),
        ("chunk", {"method": "fixed"}),
        ("index", {"factory": "HNSW32"}),
        ("embed", {"model": "hash-32"}),
    ]:
        changed = stored.with_overrides(section, **values)
        with pytest.raises(ConfigMismatchError, match=section) as info:
            KnowledgeBase.open(path, config=changed)
        message = str(info.value)
        assert repr(getattr(stored, section)) in message or str(getattr(stored, section)) in message
    # query-time settings may differ
    with KnowledgeBase.open(path, config=stored.with_overrides("search", k=2, mode="bm25")) as kb:
        hits = kb.search("magma lava basalt")
        assert len(hits) <= 2 and hits[0].source == "bm25"


def test_create_and_open_refuse_wrong_places(docs_kb: KnowledgeBase, tmp_path: Path, make_config):
    with pytest.raises(RaglineError, match="already exists"):
        KnowledgeBase.create(docs_kb.path, make_config())
    with pytest.raises(RaglineError, match="not a ragline knowledge base"):
        KnowledgeBase.open(tmp_path / "nowhere")
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(RaglineError, match="not a directory"):
        KnowledgeBase.create(file, make_config())


# ---- write lock -------------------------------------------------------------------------
def test_second_writer_in_the_same_process_is_locked_out(kb: KnowledgeBase):
    kb.add([Document("a", "Anchors hold ships in harbour.")])
    assert (kb.path / LOCK_FILE).read_text().strip() != ""
    second = KnowledgeBase.open(kb.path)
    try:
        # reading is allowed while another instance writes
        assert top_ids(second, "anchors harbour", "bm25") == ["a"]
        with pytest.raises(KnowledgeBaseLockedError, match="another process"):
            second.add([Document("b", "Buoys mark the channel.")])
        with pytest.raises(KnowledgeBaseLockedError):
            second.delete(["a"])
        with pytest.raises(KnowledgeBaseLockedError):
            second.save()
        assert kb.catalog.counts()[0] == 1 and kb.document("a") is not None
        kb.close()
        # once the first writer is closed, the second may write
        assert second.add([Document("b", "Buoys mark the channel.")]).added == 1
        assert top_ids(second, "buoys channel", "bm25") == ["b"]
    finally:
        second.close()


def test_second_writer_in_another_process_is_locked_out(kb: KnowledgeBase):
    kb.add([Document("a", "Anchors hold ships in harbour.")])
    script = textwrap.dedent(f"""
        import sys
        from ragline import Document, KnowledgeBase
        from ragline.errors import KnowledgeBaseLockedError
        kb = KnowledgeBase.open({str(kb.path)!r})
        assert [h.chunk.doc_id for h in kb.search("anchors", mode="bm25")] == ["a"]
        try:
            kb.add([Document("b", "Buoys.")])
        except KnowledgeBaseLockedError as e:
            print("locked:", e)
            sys.exit(3)
        sys.exit(0)
    """)
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 3, result.stderr
    assert "another process is writing" in result.stdout
    assert kb.document("b") is None
    kb.close()
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr


# ---- derived indexes --------------------------------------------------------------------
def test_missing_indexes_are_rebuilt_from_stored_vectors(docs_kb: KnowledgeBase, queries):
    path = docs_kb.path
    before = snapshot(docs_kb, queries)
    docs_kb.close()
    assert (path / DENSE_FILE).is_file() and (path / BM25_FILE).is_file()
    (path / DENSE_FILE).unlink()
    (path / BM25_FILE).unlink()
    encoder = CountingEncoder()
    with KnowledgeBase.open(path, encoder=encoder) as kb:
        assert snapshot(kb, queries) == before
        assert encoder.document_calls == 0
        assert encoder.query_calls > 0
        # a write (the reopened instance becomes the writer) saves the rebuilt indexes
        kb.add([Document("new", "Walruses bask on ice floes.")])
        assert encoder.documents_encoded == 1
    assert (path / DENSE_FILE).is_file() and (path / BM25_FILE).is_file()


def test_unreadable_index_files_are_rebuilt(docs_kb: KnowledgeBase, queries):
    path = docs_kb.path
    before = snapshot(docs_kb, queries)
    docs_kb.close()
    (path / DENSE_FILE).write_bytes(b"not an npz file")
    (path / BM25_FILE).write_bytes(b"\x00" * 10)
    encoder = CountingEncoder()
    with KnowledgeBase.open(path, encoder=encoder) as kb:
        assert snapshot(kb, queries) == before
        assert encoder.document_calls == 0


@pytest.mark.parametrize("saved_in_between", [False, True])
def test_stale_index_files_catch_up_on_open(
    tmp_path: Path, corpus_docs, queries, make_config, saved_in_between: bool
):
    path = tmp_path / "kb"
    first, second = corpus_docs[:4], corpus_docs[4:]
    with KnowledgeBase.create(path, make_config()) as kb:
        kb.add(first)
    aside = tmp_path / "aside"
    aside.mkdir()
    for name in (DENSE_FILE, BM25_FILE):
        shutil.copy2(path / name, aside / name)

    with KnowledgeBase.open(path) as kb:
        kb.add(second)
        kb.delete(["cats"])
        kb.add([Document("volcanoes", "Volcanoes changed: geysers and fumaroles now.")])
        if saved_in_between:
            kb.save()  # new files, and tombstones pruned: the old files cannot catch up
        expected = snapshot(kb, queries)
    for name in (DENSE_FILE, BM25_FILE):
        shutil.copy2(aside / name, path / name)

    encoder = CountingEncoder()
    with KnowledgeBase.open(path, encoder=encoder) as kb:
        assert snapshot(kb, queries) == expected
        for doc in second:
            for mode in MODES:
                assert top_ids(kb, queries[doc.id], mode)[0] == doc.id
        for mode in MODES:
            assert "cats" not in top_ids(kb, queries["cats"], mode, k=20)
            for hit in kb.search("magma lava basalt volcano", mode=mode, k=20):
                assert "magma" not in hit.chunk.text.lower()  # the replaced text is gone
        assert top_ids(kb, "geysers fumaroles", "bm25") == ["volcanoes"]
        assert encoder.document_calls == 0
        assert kb.indexes.dense.generation == kb.indexes.sparse.generation == kb.catalog.generation


def test_reader_sees_writes_made_after_it_opened(kb: KnowledgeBase, corpus_docs, queries):
    writer = kb
    writer.add(corpus_docs[:4])
    reader = KnowledgeBase.open(writer.path)
    try:
        for doc in corpus_docs[:4]:
            assert top_ids(reader, queries[doc.id], "hybrid")[0] == doc.id
        writer.add(corpus_docs[4:])
        for doc in corpus_docs[4:]:
            for mode in MODES:
                assert top_ids(reader, queries[doc.id], mode)[0] == doc.id
        writer.delete(["chess"])
        assert "chess" not in top_ids(reader, queries["chess"], "bm25", k=20)
        # after the writer saves (pruning tombstones), later deletes still reach the reader
        writer.save()
        writer.delete(["trains"])
        writer.add([Document("oceans", "Oceans rewritten: krill and plankton drift.")])
        for mode in MODES:
            found = top_ids(reader, queries["trains"], mode, k=20)
            assert "trains" not in found and "chess" not in found
        assert top_ids(reader, "krill plankton", "bm25") == ["oceans"]
        assert top_ids(reader, "coral reefs clownfish", "bm25", k=20) == []
        assert reader.info()["documents"] == 6
    finally:
        reader.close()


def test_save_writes_indexes_that_match_the_catalog(kb: KnowledgeBase, corpus_docs, queries):
    kb.add(corpus_docs)
    kb.delete(["cats"])
    kb.save()
    from ragline.index.bm25 import BM25Index
    from ragline.index.faiss import FaissIndex

    dense = FaissIndex.load(kb.path / DENSE_FILE)
    bm25 = BM25Index.load(kb.path / BM25_FILE)
    assert dense.generation == bm25.generation == kb.catalog.generation
    assert len(dense) == len(bm25) == kb.catalog.counts()[1] == 7
    assert kb.catalog.tombstones_after(0).size == 0  # pruned: the saved files reflect them
