"""KnowledgeBase search with the hash encoder: modes, hits, filters, fusion."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragline import Document, Hit, KnowledgeBase
from ragline.errors import RaglineError
from ragline.retrieve.base import Retriever

MODES = ["dense", "bm25", "hybrid"]


@pytest.mark.parametrize("mode", MODES)
def test_documents_are_found_in_every_mode(docs_kb: KnowledgeBase, queries, mode):
    for doc_id, query in queries.items():
        hits = docs_kb.search(query, mode=mode, k=3)
        assert hits, (mode, doc_id)
        assert hits[0].chunk.doc_id == doc_id, (mode, query, [h.chunk.doc_id for h in hits])
        assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
        assert all(a.score >= b.score for a, b in zip(hits, hits[1:], strict=False))
        assert all(h.source == mode for h in hits)


@pytest.mark.parametrize("mode", MODES)
def test_files_in_several_formats_are_found(
    kb: KnowledgeBase, corpus_dir: Path, corpus_ids, queries, mode
):
    report = kb.add(corpus_dir)
    assert not report.errors, report.errors
    assert report.added == 8 and report.chunks >= 8
    for name, query in queries.items():
        hits = kb.search(query, mode=mode, k=3)
        assert hits[0].chunk.doc_id == corpus_ids[name], (mode, name)


def test_hits_carry_text_span_metadata(docs_kb: KnowledgeBase, corpus_docs):
    by_id = {d.id: d for d in corpus_docs}
    hits = docs_kb.search("lava and coral reefs", k=8)
    assert hits
    for hit in hits:
        document = docs_kb.document(hit.chunk.doc_id)
        assert document is not None and document.text == by_id[hit.chunk.doc_id].text
        assert hit.chunk.text == document.text[hit.chunk.start : hit.chunk.end]
        assert hit.chunk.span == (hit.chunk.start, hit.chunk.end)
        for key, value in by_id[hit.chunk.doc_id].metadata.items():
            assert hit.chunk.metadata[key] == value
        assert hit.chunk.id.startswith(hit.chunk.doc_id + "#")
        data = hit.to_dict()
        assert data["span"] == [hit.chunk.start, hit.chunk.end]
        assert data["doc_id"] == hit.chunk.doc_id and data["chunk_id"] == hit.chunk.id


def test_hybrid_hits_carry_per_retriever_scores_and_ranks(docs_kb: KnowledgeBase):
    hybrid = docs_kb.search("magma lava basalt", mode="hybrid", k=8)
    dense = {h.chunk.id: h for h in docs_kb.search("magma lava basalt", mode="dense", k=100)}
    bm25 = {h.chunk.id: h for h in docs_kb.search("magma lava basalt", mode="bm25", k=100)}
    top = hybrid[0]
    assert top.chunk.doc_id == "volcanoes"
    assert set(top.scores) == {"dense", "bm25"} == set(top.ranks)
    for hit in hybrid:
        assert set(hit.scores) == set(hit.ranks)
        assert hit.scores  # every fused hit came from at least one side
        for side, found in (("dense", dense), ("bm25", bm25)):
            if side in hit.scores:
                assert hit.scores[side] == pytest.approx(found[hit.chunk.id].score)
                assert hit.ranks[side] == found[hit.chunk.id].rank
            else:
                assert hit.chunk.id not in found
    # RRF: the fused score is the sum of 1 / (60 + rank) over the sides
    for hit in hybrid:
        expected = sum(1 / (60 + r) for r in hit.ranks.values())
        assert hit.score == pytest.approx(expected)
    # single-mode hits carry only their own side
    only = docs_kb.search("magma", mode="bm25", k=1)[0]
    assert set(only.scores) == {"bm25"} and only.ranks == {"bm25": 1}


def test_score_fusion(docs_kb: KnowledgeBase, queries):
    for doc_id, query in queries.items():
        hits = docs_kb.search(query, mode="hybrid", fusion="score", k=5)
        assert hits[0].chunk.doc_id == doc_id
        assert all(0.0 <= h.score <= 1.0 + 1e-6 for h in hits)
        assert hits[0].score > hits[-1].score
    # alpha=1 is dense alone (normalised), alpha=0 is BM25 alone
    dense_only = docs_kb.search("kitten sourdough", fusion="score", alpha=1.0, k=8)
    dense = docs_kb.search("kitten sourdough", mode="dense", k=8)
    assert [h.chunk.id for h in dense_only][:2] == [h.chunk.id for h in dense][:2]
    assert dense_only[0].score == pytest.approx(1.0)
    rrf = docs_kb.search("kitten sourdough", fusion="rrf", k=8)
    assert [h.score for h in rrf] != [h.score for h in dense_only]


def test_bad_mode_or_fusion_is_a_clear_error(docs_kb: KnowledgeBase):
    with pytest.raises(RaglineError, match="mode"):
        docs_kb.search("x", mode="sparse")
    with pytest.raises(RaglineError, match="fusion"):
        docs_kb.search("x", fusion="max")


def test_k_limits_and_search_many(docs_kb: KnowledgeBase, queries):
    assert len(docs_kb.search("the", mode="dense", k=3)) == 3
    assert len(docs_kb.search("zzzz qqqq", mode="bm25", k=3)) == 0
    names = list(queries)
    results = docs_kb.search_many([queries[n] for n in names], k=2, mode="bm25")
    assert [r[0].chunk.doc_id for r in results] == names
    assert isinstance(docs_kb, Retriever)
    retrieved = docs_kb.retrieve([queries["chess"]], k=1)
    assert len(retrieved) == 1 and len(retrieved[0]) == 1
    assert isinstance(retrieved[0][0], Hit) and retrieved[0][0].chunk.doc_id == "chess"


FILTER_CASES = [
    ({"lang": "en"}, {"cats", "volcanoes", "astronomy", "oceans"}),
    ({"lang": {"in": ["de", "fr"]}}, {"baking", "chess", "trains", "gardening"}),
    ({"year": {"gte": 2020, "lt": 2023}}, {"astronomy", "baking", "chess", "oceans"}),
    ({"year": 2020, "lang": "fr"}, {"baking"}),
    ({"topic": "science"}, {"astronomy", "oceans"}),
    ({"doc_id": {"in": ["cats", "trains"]}}, {"cats", "trains"}),
    ({"lang": {"nin": ["de", "fr"]}}, {"cats", "volcanoes", "astronomy", "oceans"}),
    (
        {"doc_id": {"nin": ["cats", "trains"]}},
        {"volcanoes", "astronomy", "oceans", "baking", "chess", "gardening"},
    ),
    (
        {"lang": {"nin": []}},
        {"cats", "volcanoes", "astronomy", "oceans", "baking", "chess", "trains", "gardening"},
    ),
]


def check_filters(kb: KnowledgeBase, queries: dict[str, str]) -> None:
    everything = " ".join(queries.values())
    for filters, allowed in FILTER_CASES:
        for mode in MODES:
            hits = kb.search(everything, mode=mode, k=8, filters=filters)
            found = {h.chunk.doc_id for h in hits}
            # the query matches every document, so the filter alone decides what comes back
            assert found == allowed, (filters, mode, found)
            # and per document: its own query finds it only if the filter allows it
            for doc_id, query in queries.items():
                hits = kb.search(query, mode=mode, k=3, filters=filters)
                assert {h.chunk.doc_id for h in hits} <= allowed
                if doc_id in allowed:
                    assert hits and hits[0].chunk.doc_id == doc_id, (filters, mode, doc_id)


def test_filters_restrict_results_in_every_mode(docs_kb: KnowledgeBase, queries):
    check_filters(docs_kb, queries)


def test_filters_with_hnsw_index(kb_path: Path, corpus_docs, queries, make_config):
    with KnowledgeBase.create(kb_path, make_config(factory="HNSW32")) as kb:
        kb.add(corpus_docs)
        assert kb.info()["index"] == "HNSW32"
        check_filters(kb, queries)
        kb.delete(["oceans"])
        hits = kb.search(queries["oceans"], filters={"topic": "science"}, mode="dense", k=5)
        assert {h.chunk.doc_id for h in hits} == {"astronomy"}
    with KnowledgeBase.open(kb_path) as kb:
        assert kb.info()["index"] == "HNSW32"
        hits = kb.search(queries["astronomy"], filters={"topic": "science"}, mode="dense")
        assert [h.chunk.doc_id for h in hits] == ["astronomy"]


def test_filter_that_matches_nothing(docs_kb: KnowledgeBase):
    for mode in MODES:
        assert docs_kb.search("lava", mode=mode, filters={"lang": "xx"}) == []


def test_metadata_for_all_added_files_is_filterable(
    kb: KnowledgeBase, corpus_dir: Path, tmp_path: Path, queries
):
    kb.add(corpus_dir / "cats.txt", metadata={"year": 2020, "source": "pets"})
    kb.add(corpus_dir / "volcanoes.md", metadata={"year": 2010})
    kb.add(
        [Document("extra", "A kitten chases a ball of yarn.", {"year": 2030})],
        metadata={"source": "pets"},
    )
    assert kb.document("extra").metadata == {"year": 2030, "source": "pets"}
    for mode in MODES:
        hits = kb.search("kitten", mode=mode, filters={"year": {"gte": 2015, "lte": 2025}})
        assert {h.chunk.doc_id for h in hits} == {"cats.txt"}
        hits = kb.search("kitten", mode=mode, filters={"source": "pets"}, k=5)
        assert {h.chunk.doc_id for h in hits} == {"cats.txt", "extra"}
        hits = kb.search("lava", mode=mode, filters={"year": {"lt": 2015}})
        assert {h.chunk.doc_id for h in hits} == {"volcanoes.md"}
