"""Two-stage search: a first stage's top hits re-scored by a Reranker, first-stage facts kept.

Model-free: a keyword re-ranker stands in for a model, so the expected order is known.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from ragline import KnowledgeBase
from ragline.documents import Chunk, Hit
from ragline.errors import RaglineError
from ragline.rerank.base import PairScoringReranker, Reranker, reorder
from ragline.rerank.registry import make_reranker


class KeywordReranker(PairScoringReranker):
    """Scores a passage by how often it contains ``word``; counts the passages it scores."""

    name = "keyword"

    def __init__(self, word: str) -> None:
        self.word = word
        self.scored = 0

    def score(self, query: str, passages: Sequence[str]) -> np.ndarray:
        self.scored += len(passages)
        return np.array([p.lower().count(self.word) for p in passages], dtype=np.float32)


def hits(texts: list[str]) -> list[Hit]:
    return [
        Hit(Chunk(f"d{i}#0", f"d{i}", t, 0, len(t), {"n": i}), 1.0 / (i + 1), i + 1, "hybrid",
            {"bm25": 2.0}, {"bm25": i + 1})
        for i, t in enumerate(texts)
    ]  # fmt: skip


def test_reorder_follows_scores_and_keeps_first_stage_facts():
    first = hits(["a", "b", "c", "d"])
    out = reorder(first, np.array([0.1, 0.9, 0.5, 0.9], dtype=np.float32), top_k=3)
    assert [h.chunk.doc_id for h in out] == ["d1", "d3", "d2"]  # ties keep first-stage order
    assert [h.rank for h in out] == [1, 2, 3]
    assert out[0].ranks == {"bm25": 2, "first_stage": 2, "rerank": 1}
    assert out[0].scores["first_stage"] == pytest.approx(0.5)
    assert out[0].scores["rerank"] == out[0].score == pytest.approx(0.9)
    assert out[0].chunk.metadata == {"n": 1} and out[0].source == "hybrid"
    assert first[1].rank == 2 and "rerank" not in first[1].ranks  # inputs untouched
    with pytest.raises(ValueError, match="3 scores for 4 hits"):
        reorder(first, np.zeros(3, dtype=np.float32), None)


def test_keyword_reranker_is_a_reranker():
    reranker = KeywordReranker("x")
    assert isinstance(reranker, Reranker)
    ranked = reranker.rerank_many(["q", "q"], [hits(["a", "xx", "x"]), []], top_k=2)
    assert [[h.chunk.text for h in row] for row in ranked] == [["xx", "x"], []]


def test_search_reranks_the_first_stage_head_and_keeps_the_tail(docs_kb: KnowledgeBase):
    query = "cats lava galaxies sourdough knight coral steam tomatoes"
    plain = docs_kb.search(query, k=8, mode="bm25")
    assert len(plain) == 8
    reranker = KeywordReranker("moon")
    out = docs_kb.search(
        query, k=8, mode="bm25", rerank=reranker, rerank_depth=len(plain), rerank_fusion="none"
    )
    assert out[0].chunk.doc_id == "oceans"  # the one passage that mentions the moon
    assert {h.chunk.id for h in out} == {h.chunk.id for h in plain}
    assert reranker.scored == len(plain)
    head = docs_kb.search(
        query, k=8, mode="bm25", rerank=reranker, rerank_depth=2, rerank_fusion="none"
    )
    assert [h.chunk.id for h in head[2:]] == [h.chunk.id for h in plain[2:]]
    assert [h.rank for h in head] == list(range(1, len(head) + 1))
    assert "rerank" not in head[2].ranks and head[0].ranks["first_stage"] in (1, 2)


def test_rerank_names_without_models_are_clear_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("RAGLINE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(RaglineError, match="no trained cross-encoder at .*ragline train reranker"):
        make_reranker("cross-encoder")
    (tmp_path / "plain").mkdir()
    with pytest.raises(RaglineError, match="not cross-encoder or colbert nor"):
        make_reranker(str(tmp_path / "plain"))


def test_rrf_fusion_of_stages_lets_both_ranks_vote(docs_kb: KnowledgeBase):
    from ragline.retrieve.rerank_stage import fuse_with_first_stage

    first = hits(["x", "a", "b", "xx"])
    reranked = reorder(first, np.array([1.0, 0.0, 0.0, 2.0], dtype=np.float32), None)
    assert [h.chunk.text for h in reranked] == ["xx", "x", "a", "b"]
    fused = fuse_with_first_stage(reranked, rrf_k=1)
    # x: 1/2 + 1/3; xx: 1/5 + 1/2; a: 1/3 + 1/4; b: 1/4 + 1/5
    assert [h.chunk.text for h in fused] == ["x", "xx", "a", "b"]
    assert fused[0].score == pytest.approx(1 / 2 + 1 / 3) == fused[0].scores["fused"]
    assert fused[0].ranks == {"bm25": 1, "first_stage": 1, "rerank": 2}
    out = docs_kb.search("cats lava", k=2, mode="bm25", rerank=KeywordReranker("lava"),
                         rerank_fusion="rrf")  # fmt: skip
    assert all("fused" in h.scores for h in out)
    with pytest.raises(RaglineError, match="rerank fusion 'max'"):
        docs_kb.search("cats", rerank=KeywordReranker("x"), rerank_fusion="max")


def test_doc_rrf_fuses_documents_each_ranked_by_its_best_chunk(docs_kb: KnowledgeBase):
    from dataclasses import replace

    from ragline.retrieve.rerank_stage import fuse_with_first_stage

    # first stage: A's two chunks lead, then B, then C; the re-ranker puts A's second chunk
    # third and its first last
    first = [replace(h, chunk=replace(h.chunk, doc_id=doc)) for h, doc in
             zip(hits(["a1", "a2", "b", "c"]), ["A", "A", "B", "C"], strict=True)]  # fmt: skip
    reranked = reorder(first, np.array([0.0, 1.0, 3.0, 2.0], dtype=np.float32), None)
    assert [h.chunk.text for h in reranked] == ["b", "c", "a2", "a1"]
    per_chunk = fuse_with_first_stage(reranked, rrf_k=1)
    # a1: 1/2 + 1/5; a2: 1/3 + 1/4; b: 1/4 + 1/2; c: 1/5 + 1/3
    assert [h.chunk.text for h in per_chunk] == ["b", "a1", "a2", "c"]
    per_document = fuse_with_first_stage(reranked, rrf_k=1, by_document=True)
    # A: first 1, re-rank 3 (1/2 + 1/4); B: 2 and 1 (1/3 + 1/2); C: 3 and 2 (1/4 + 1/3)
    assert [h.chunk.text for h in per_document] == ["b", "a2", "a1", "c"]
    assert [h.rank for h in per_document] == [1, 2, 3, 4]
    assert per_document[1].score == per_document[2].score == pytest.approx(1 / 2 + 1 / 4)
    assert per_document[0].ranks == {"bm25": 3, "first_stage": 3, "rerank": 1}
    out = docs_kb.search("cats lava", k=3, mode="bm25", rerank=KeywordReranker("lava"),
                         rerank_fusion="doc-rrf")  # fmt: skip
    assert out and all("fused" in h.scores for h in out)


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"config_sentence_transformers.json": {"model_type": "CrossEncoder"}}, True),
        ({"config.json": {"architectures": ["BertForSequenceClassification"]}}, True),
        ({"config_sentence_transformers.json": {"model_type": "SentenceTransformer"},
          "config.json": {"architectures": ["BertModel"]}}, False),
        ({"config_sentence_transformers.json": ["not", "an", "object"]}, False),
        ({}, False),
    ],
)  # fmt: skip
def test_cross_encoder_dirs_are_told_from_bi_encoders(tmp_path, files, expected):
    import json

    from ragline.rerank.cross_encoder import is_cross_encoder_dir

    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content))
    assert is_cross_encoder_dir(tmp_path) is expected
