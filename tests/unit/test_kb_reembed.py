"""Re-embedding a knowledge base from its stored chunks: atomic, resumable, followed by readers.

Model-free: the hash encoder at two dimensions plays the old and the new embedder.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ragline import KnowledgeBase
from ragline.config import EmbedConfig
from ragline.embed.fake import HashEncoder

NEW = EmbedConfig(model="hash-32")


def test_reembed_replaces_every_vector_and_keeps_chunks(docs_kb: KnowledgeBase, kb_path, queries):
    before = {h.chunk.id for h in docs_kb.search(queries["chess"], k=3, mode="bm25")}
    chunks = docs_kb.catalog.counts()
    report = docs_kb.reembed(NEW)
    assert report["chunks"] == chunks[1] and report["dim"] == 32
    assert docs_kb.catalog.counts() == chunks
    _, vectors = docs_kb.catalog.vectors(docs_kb.catalog.rowids_where({}).tolist())
    assert vectors.shape == (chunks[1], 32)
    assert docs_kb.search(queries["chess"], k=1, mode="dense")[0].chunk.doc_id == "chess"
    assert {h.chunk.id for h in docs_kb.search(queries["chess"], k=3, mode="bm25")} == before
    docs_kb.close()
    with KnowledgeBase.open(kb_path) as reopened:
        assert reopened.config.embed.model == "hash-32"
        assert reopened.info()["dim"] == 32
        assert reopened.search(queries["oceans"], k=1, mode="dense")[0].chunk.doc_id == "oceans"


def test_interrupted_reembed_serves_old_vectors_and_resumes(
    docs_kb: KnowledgeBase, kb_path: Path, queries
):
    calls: list[int] = []

    class Failing(HashEncoder):
        def encode_documents(self, texts, **kw):
            calls.append(len(texts))
            if len(calls) == 2:
                raise KeyboardInterrupt
            return super().encode_documents(texts, **kw)

    with pytest.raises(KeyboardInterrupt):
        docs_kb.reembed(NEW, encoder=Failing(dim=32), batch_size=3)
    assert docs_kb.catalog.get_meta("embedder") == "hash-64"
    assert (
        docs_kb.search(queries["cats"], k=1, mode="dense")[0].chunk.doc_id
        == docs_kb.search(queries["cats"], k=1, mode="bm25")[0].chunk.doc_id
    )
    staged = len(docs_kb.catalog.staged_ids())
    assert staged == 3
    report = docs_kb.reembed(NEW, batch_size=3)
    assert report["resumed_from"] == 3
    assert docs_kb.catalog.staged_ids() == set()
    assert docs_kb.catalog.get_meta("embedder") == "hash-32"


def test_reader_follows_a_reembedding_by_another_process(docs_kb, kb_path: Path, queries):
    docs_kb.save()
    reader = KnowledgeBase.open(kb_path)
    try:
        assert reader.search(queries["trains"], k=1, mode="dense")[0].chunk.doc_id == "trains"
        docs_kb.reembed(NEW)
        hit = reader.search(queries["trains"], k=1, mode="dense")[0]
        assert hit.chunk.doc_id == "trains"
        assert reader.encoder.dim == 32 and reader.config.embed.model == "hash-32"
    finally:
        reader.close()


def test_catalog_commit_wins_over_a_config_file_not_yet_rewritten(docs_kb, kb_path: Path):
    old_config = (kb_path / "ragline.toml").read_text()
    docs_kb.reembed(NEW)
    docs_kb.close()
    (kb_path / "ragline.toml").write_text(old_config)  # a crash before the file was rewritten
    with KnowledgeBase.open(kb_path) as reopened:
        assert reopened.encoder.dim == 32
        assert reopened.search("kitten purr", k=1, mode="dense")


def test_swap_refuses_when_a_chunk_has_no_staged_vector(docs_kb: KnowledgeBase, kb_path: Path):
    docs_kb.catalog.clear_staged()
    with pytest.raises(RuntimeError, match="no staged vector"):
        docs_kb.catalog.swap_staged_vectors({"embedder": "x"})
    with sqlite3.connect(kb_path / "catalog.sqlite") as db:
        assert db.execute("SELECT value FROM meta WHERE key='embedder'").fetchone()[0] == "hash-64"
