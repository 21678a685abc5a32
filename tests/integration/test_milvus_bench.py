"""The Milvus benchmarks on tiny inputs: the backend comparison over a copied catalog (no
re-embedding) and one point of the scale simulation."""

from __future__ import annotations

from pathlib import Path

from beir_folders import write_beir_folder
from conftest import CORPUS, QUERIES, hash_config
from ragline import KnowledgeBase
from ragline.bench.milvus import compare_backends
from ragline.bench.milvus_scale import scale_chart, scale_point
from ragline.evaluate.beir import load_beir


def tiny_beir(root: Path) -> Path:
    """The CORPUS as a BEIR folder: each QUERIES entry judged relevant to its document."""
    return write_beir_folder(
        root,
        [{"_id": doc.id, "title": "", "text": doc.text} for doc in CORPUS],
        [{"_id": f"q-{name}", "text": query} for name, query in QUERIES.items()],
        {"test": [(f"q-{name}", name, 1) for name in QUERIES]},
    )


def test_backends_compared_on_one_embedding(tmp_path: Path) -> None:
    dataset = tiny_beir(tmp_path / "beir")
    source = tmp_path / "faiss-kb"
    with KnowledgeBase.create(source, hash_config()) as kb:
        kb.add([dataset])
        kb.encoder.encode_documents = None  # the copies must not embed again
    report = compare_backends(source, load_beir(dataset), tmp_path / "work", latency_queries=8)
    assert report["milvus"]["index"] == "Milvus FLAT"
    for backend in ("faiss", "milvus"):
        assert report[backend]["chunks"] == len(CORPUS)
        assert report[backend]["quality"]["bm25"]["ndcg@10"] == 1.0
    assert report["milvus"]["quality"]["dense"] == report["faiss"]["quality"]["dense"]
    assert set(report["milvus"]["latency"]) >= {"dense", "bm25", "hybrid"}


def test_one_scale_point(tmp_path: Path) -> None:
    point = scale_point("milvus", 200, tmp_path)
    assert point["chunks"] == 200 and point["chunks_per_s"] > 0
    assert point["peak_rss_mb"] > 0 and point["hybrid_p50_ms"] > 0
    assert point["add_one_ms"] > 0 and point["delete_one_ms"] > 0


def test_scale_chart_draws_each_backend_and_leaves_out_failed_points(tmp_path: Path) -> None:
    points = [
        {
            "backend": b,
            "chunks": n,
            "chunks_per_s": 1e3,
            "peak_rss_mb": n / 1e2,
            "hybrid_p50_ms": n / 1e3,
        }
        for b in ("faiss", "milvus")
        for n in (10_000, 100_000)
    ] + [{"backend": "milvus", "chunks": 1_000_000, "error": "over 3600 s"}]
    scale_chart(points, tmp_path / "scale.png")
    assert (tmp_path / "scale.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
