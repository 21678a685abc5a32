"""A knowledge base on Milvus Lite end to end: index, filtered search, delete, rebuild from
the stored vectors (no re-embedding), hybrid search with Milvus BM25 — each compared with
the same knowledge base on FAISS and ragline's BM25."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import CORPUS, QUERIES, hash_config
from ragline import KnowledgeBase
from ragline.index.milvus import MilvusIndex
from ragline.index.milvus_bm25 import MilvusBM25Index

MODES = ("dense", "bm25", "hybrid")


def milvus_config(uri: Path):
    return hash_config(backend="milvus", sparse_backend="milvus", uri=str(uri), factory="Flat")


def ranked(kb: KnowledgeBase, mode: str, **options) -> dict[str, list[str]]:
    """Per query, the chunk ids of all hits by score, exact ties (to 5 places) by id: index
    backends break ties differently, and Milvus BM25 scores are on another scale."""
    found = {}
    for name, query in QUERIES.items():
        hits = kb.search(query, mode=mode, k=len(CORPUS), **options)
        order = sorted(hits, key=lambda h: (-round(h.score, 5), h.chunk.id))
        found[name] = [h.chunk.id for h in order]
    return found


@pytest.fixture
def pair(tmp_path: Path):
    """The CORPUS in a FAISS knowledge base and in a Milvus Lite one."""
    faiss_kb = KnowledgeBase.create(tmp_path / "faiss", hash_config(factory="Flat"))
    milvus_kb = KnowledgeBase.create(tmp_path / "milvus", milvus_config(tmp_path / "m.db"))
    for kb in (faiss_kb, milvus_kb):
        assert kb.add(CORPUS).added == len(CORPUS)
    yield faiss_kb, milvus_kb
    faiss_kb.close()
    milvus_kb.close()


def test_milvus_answers_as_faiss_and_bm25_do(pair) -> None:
    faiss_kb, milvus_kb = pair
    for mode in ("dense", "bm25"):
        assert ranked(milvus_kb, mode) == ranked(faiss_kb, mode), mode
        assert ranked(milvus_kb, mode, filters={"lang": "en"}) == ranked(
            faiss_kb, mode, filters={"lang": "en"}
        )
    # Fusion sees the dense side's ranks, so exact dense ties (the hash encoder has many)
    # may order the tail differently: the same hits, the same first one.
    on_milvus, on_faiss = ranked(milvus_kb, "hybrid"), ranked(faiss_kb, "hybrid")
    for name in QUERIES:
        assert on_milvus[name][0] == on_faiss[name][0] == f"{name}#0"
        assert sorted(on_milvus[name]) == sorted(on_faiss[name])
    dense, sparse = milvus_kb.indexes.ensure()
    assert isinstance(dense, MilvusIndex) and isinstance(sparse, MilvusBM25Index)


def test_filters_delete_and_rebuild_from_stored_vectors(pair) -> None:
    _, kb = pair
    hits = kb.search(QUERIES["oceans"], mode="hybrid", filters={"year": {"gte": 2021}})
    assert hits[0].chunk.doc_id == "oceans"
    assert all(h.chunk.metadata["year"] >= 2021 for h in hits)
    assert kb.delete(["oceans"]) == 1
    for mode in MODES:
        assert "oceans" not in {h.chunk.doc_id for h in kb.search(QUERIES["oceans"], mode=mode)}
    before = {mode: ranked(kb, mode) for mode in MODES}
    kb.save()
    path = kb.path
    kb.close()
    # Without the saved pointers the keeper drops and refills both collections from the
    # catalog's stored vectors and texts.
    for index in (MilvusIndex, MilvusBM25Index):
        (path / index.file_name).unlink()
    with KnowledgeBase.open(path) as reopened:
        reopened.encoder.encode_documents = None  # re-embedding would fail loudly
        assert {mode: ranked(reopened, mode) for mode in MODES} == before
        dense, sparse = reopened.indexes.ensure()
        assert len(dense) == len(sparse) == reopened.catalog.counts()[1] == len(CORPUS) - 1
        assert reopened.indexes.unsaved > 0  # rebuilt, not loaded


def test_the_collection_carries_the_search_results(pair) -> None:
    _, kb = pair
    kb.save()
    _, sparse = kb.indexes.ensure()
    assert isinstance(sparse, MilvusBM25Index)
    hits = kb.search(QUERIES["chess"], mode="hybrid", k=8)
    rowids = [int(kb.catalog.rowids_where({"doc_id": h.chunk.doc_id})[0]) for h in hits]
    published = sparse.chunks(rowids)
    assert sorted(published.values(), key=lambda c: c.id) == sorted(
        (h.chunk for h in hits), key=lambda c: c.id
    )


def test_milvus_bm25_uses_the_configured_k1_and_b(tmp_path: Path) -> None:
    """Milvus Lite drops flat index parameters; the ones ragline passes must arrive."""
    config = milvus_config(tmp_path / "m.db").with_overrides("index", bm25_k1=1.2, bm25_b=0.6)
    with KnowledgeBase.create(tmp_path / "kb", config) as kb:
        kb.add(CORPUS)
        _, sparse = kb.indexes.ensure()
        params = sparse._client.describe_index(sparse.name, "sparse")
    manifest = tmp_path / "m.db" / "collections" / "ragline_text" / "manifest.json"
    built = json.loads(manifest.read_text())["index_specs"]["sparse"]["build_params"]
    assert built == {"bm25_k1": 1.2, "bm25_b": 0.6}, params
