"""The cross-encoder on OpenVINO scores as PyTorch does: on real SciFact passages its scores
equal torch's to rounding and it orders hits alike, for both kinds of cross-encoder (a
classifier, and a head of modules on pooled token states); it memoises like the torch class
and is chosen by ``make_reranker(backend=...)``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ragline.documents import Chunk, Hit
from ragline.errors import RaglineError
from ragline.rerank.cross_encoder import CrossEncoderReranker
from ragline.rerank.registry import make_reranker

pytest.importorskip("openvino")

SCIFACT = Path("/work/shared/data/scifact")
FALLBACK_PASSAGES = [
    "Aspirin inhibits cyclooxygenase and so lowers the synthesis of prostaglandins.",
    "Vitamin D deficiency is common in northern latitudes during winter.",
    "Measles vaccination coverage above ninety-five percent stops outbreaks.",
    "Mitochondria produce most of the cell's ATP by oxidative phosphorylation.",
]


def scifact_sample(queries: int = 3, passages: int = 12) -> tuple[list[str], list[str]]:
    """The first SciFact test queries and corpus passages (title and text), else a few
    hand-written ones where the data set is not on this machine."""
    if not (SCIFACT / "corpus.jsonl").is_file():
        return ["how does aspirin work", "why do vaccines stop outbreaks"], FALLBACK_PASSAGES
    with (SCIFACT / "corpus.jsonl").open(encoding="utf-8") as f:
        docs = [json.loads(next(f)) for _ in range(passages)]
    with (SCIFACT / "queries.jsonl").open(encoding="utf-8") as f:
        asked = [json.loads(next(f))["text"] for _ in range(queries)]
    return asked, [f"{d['title']}\n{d['text']}" for d in docs]


@pytest.fixture(scope="module", params=["mean", "cls"])
def cross_encoder_dir(request: pytest.FixtureRequest, tmp_path_factory, one_torch_thread) -> Path:
    """An untrained cross-encoder on MiniLM: ``mean`` a head of modules (pooling, dense),
    ``cls`` a sequence classifier; seeded, so its scores are fixed but not trivial."""
    import torch

    from ragline.train.cross_encoder import _new_cross_encoder

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp(f"cross-encoder-{request.param}")
    _new_cross_encoder("minilm", 128, request.param).save(str(path))
    return path


@pytest.fixture(scope="module")
def pair(cross_encoder_dir: Path, tmp_path_factory) -> tuple[CrossEncoderReranker, Any]:
    """(torch, openvino) re-rankers of the same model, the graph in a fresh cache."""
    from ragline.rerank.openvino import OpenVinoCrossEncoderReranker

    cache = tmp_path_factory.mktemp("converted")
    openvino = OpenVinoCrossEncoderReranker(cross_encoder_dir, precision="fp32", cache_dir=cache)
    return CrossEncoderReranker(cross_encoder_dir, precision="fp32"), openvino


def hits(passages: list[str]) -> list[Hit]:
    return [
        Hit(Chunk(f"d{i}#0", f"d{i}", text, 0, len(text)), 1.0 / (i + 1), i + 1, "bm25")
        for i, text in enumerate(passages)
    ]


def test_openvino_scores_and_orders_scifact_as_torch_does(pair):
    torch_reranker, openvino_reranker = pair
    queries, passages = scifact_sample()
    for query in queries:
        want = torch_reranker.score(query, passages)
        got = openvino_reranker.score(query, passages)
        assert np.ptp(want) > 1e-3  # the scores differ, so the order below means something
        np.testing.assert_allclose(got, want, atol=1e-4)
        ordered = [h.chunk.doc_id for h in openvino_reranker.rerank(query, hits(passages))]
        assert ordered == [h.chunk.doc_id for h in torch_reranker.rerank(query, hits(passages))]
    assert openvino_reranker.probe_result.max_difference < 1e-4
    assert openvino_reranker.hint == "f32"


def test_openvino_memoises_pairs_like_torch(pair, monkeypatch: pytest.MonkeyPatch):
    _, openvino_reranker = pair
    queries, passages = scifact_sample(1, 4)
    first = openvino_reranker.score(queries[0], passages)
    calls: list[int] = []
    infer = openvino_reranker._infer
    monkeypatch.setattr(
        openvino_reranker, "_infer", lambda *a: calls.append(len(a[2])) or infer(*a)
    )
    again = openvino_reranker.score(
        queries[0], [passages[1], "a passage never scored", passages[0]]
    )
    assert calls == [1]  # only the new pair is scored
    assert again[0] == first[1] and again[2] == first[0]


def test_the_graph_is_converted_once_per_model(pair, cross_encoder_dir: Path):
    from ragline.rerank.openvino import OpenVinoCrossEncoderReranker

    _, openvino_reranker = pair
    directory = openvino_reranker.graph_dir()
    stamp = (directory / "model.xml").stat().st_mtime_ns
    again = OpenVinoCrossEncoderReranker(cross_encoder_dir, cache_dir=openvino_reranker.cache_dir)
    assert again.graph_dir() == directory
    assert (directory / "model.xml").stat().st_mtime_ns == stamp
    assert json.loads((directory / "scoring.json").read_text())["max_length"] == 128


def test_make_reranker_runs_the_backend_asked_for(cross_encoder_dir: Path):
    from ragline.rerank.openvino import OpenVinoCrossEncoderReranker

    made = make_reranker(str(cross_encoder_dir), backend="openvino")
    assert type(made) is OpenVinoCrossEncoderReranker
    assert type(make_reranker(str(cross_encoder_dir))) is CrossEncoderReranker
    with pytest.raises(RaglineError, match=r"^--rerank-backend onnx: use torch or openvino$"):
        make_reranker(str(cross_encoder_dir), backend="onnx")


def test_scores_off_the_torch_ones_are_refused_before_use(cross_encoder_dir: Path, tmp_path: Path):
    from ragline.rerank.openvino import OpenVinoCrossEncoderReranker

    bad = OpenVinoCrossEncoderReranker(cross_encoder_dir, precision="fp32", cache_dir=tmp_path)
    honest = bad.reference._score_pairs
    bad.reference._score_pairs = lambda pairs: honest(pairs) + np.float32(0.01)  # type: ignore[method-assign]
    with pytest.raises(RaglineError, match=r"^re-ranker backend openvino \(f32\): scores differ"):
        bad.score("a query", ["a passage"])


def test_search_runs_the_configured_or_given_rerank_backend(
    docs_kb, cross_encoder_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from ragline.config import Config
    from ragline.rerank.openvino import OpenVinoCrossEncoderReranker

    monkeypatch.setenv("RAGLINE_CACHE", str(tmp_path))
    model = str(cross_encoder_dir)
    want = docs_kb.search("volcano lava", k=5, rerank=model, rerank_fusion="none")
    got = docs_kb.search(
        "volcano lava", k=5, rerank=model, rerank_fusion="none", rerank_backend="openvino"
    )
    assert [h.chunk.id for h in got] == [h.chunk.id for h in want]
    assert [h.score for h in got] == pytest.approx([h.score for h in want], abs=1e-4)
    made = docs_kb.retrieval._rerankers
    assert type(made[model, "torch"]) is CrossEncoderReranker
    assert type(made[model, "openvino"]) is OpenVinoCrossEncoderReranker
    configured = Config.from_dict({"search": {"rerank_backend": "openvino"}})
    assert configured.search.rerank_backend == "openvino"
    assert Config().search.rerank_backend == "torch"


@pytest.fixture(scope="module")
def colbert_pair(tmp_path_factory, one_torch_thread) -> tuple[Any, Any]:
    """(torch, openvino) ColBERT re-rankers on MiniLM (an untrained start), without a
    passage token cache; the graph in a fresh conversion cache."""
    from ragline.rerank.colbert import ColbertReranker
    from ragline.rerank.openvino import OpenVinoColbertReranker

    root = tmp_path_factory.mktemp("colbert")
    openvino = OpenVinoColbertReranker("minilm", precision="fp32", cache_dir=root)
    return ColbertReranker("minilm"), openvino


def test_openvino_colbert_scores_and_orders_scifact_as_torch_does(colbert_pair):
    torch_reranker, openvino_reranker = colbert_pair
    queries, passages = scifact_sample()
    for query in queries:
        want = np.array([torch_reranker.score(query, [p])[0] for p in passages])
        want_query = torch_reranker.encode_query(query)
        np.testing.assert_allclose(openvino_reranker.encode_query(query), want_query, atol=1e-4)
        got = openvino_reranker.score(query, passages)
        assert np.ptp(want) > 0.1
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=2e-3)  # float16 passage matrices
        ordered = [h.chunk.doc_id for h in openvino_reranker.rerank(query, hits(passages))]
        assert ordered == [h.chunk.doc_id for h in torch_reranker.rerank(query, hits(passages))]
    assert openvino_reranker.probe_result.max_difference < 1e-3
    assert (openvino_reranker.graph_dir() / "probe-f32.json").is_file()


def test_openvino_colbert_encodes_passages_as_torch_does(colbert_pair, tmp_path: Path):
    from ragline.rerank.colbert import ColbertReranker
    from ragline.rerank.openvino import OpenVinoColbertReranker

    torch_reranker, openvino_reranker = colbert_pair
    _, passages = scifact_sample(1, 3)
    want = torch_reranker._encode_documents(passages)
    got = openvino_reranker._encode_documents(passages)
    for a, b in zip(got, want, strict=True):
        assert a.shape == b.shape and a.dtype == np.float16
        np.testing.assert_allclose(a.astype(np.float32), b.astype(np.float32), atol=2e-3)
    cache = tmp_path / "tokens.sqlite"  # the passage token cache is shared by both backends
    writer = OpenVinoColbertReranker(
        "minilm", cache_path=cache, cache_dir=openvino_reranker.cache_dir
    )
    writer.encode_passages(passages)
    assert ColbertReranker("minilm", cache_path=cache).cache.missing(passages) == []


def test_the_openvino_backend_runs_both_kinds():
    from ragline.rerank.openvino import OpenVinoColbertReranker, OpenVinoCrossEncoderReranker
    from ragline.rerank.registry import BACKENDS

    assert BACKENDS["openvino"].load("colbert") is OpenVinoColbertReranker
    assert BACKENDS["openvino"].load("cross-encoder") is OpenVinoCrossEncoderReranker
