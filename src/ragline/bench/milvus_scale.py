"""Scale simulation: the same synthetic chunks (model-free hash encoder) into a knowledge base
on FAISS HNSW + BM25 and one on Milvus Lite (HNSW + Milvus BM25), at growing sizes.

Each point runs in its own process (``python -m ragline.bench.milvus_scale BACKEND N``) so
its peak resident memory is its own; it reports ingest rate (chunks/s, end to end: hash,
catalog, both indexes, save), peak RSS, p50 query latency (dense and hybrid) and the time
to add and to delete one document. :func:`scale_table` runs the points and
:func:`scale_chart` draws them.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragline.bench.machine import PeakMemory
from ragline.bench.update import synthetic_documents
from ragline.config import Config
from ragline.documents import Document

BACKENDS = ("faiss", "milvus")
ENCODER = "hash-128"
WORDS = 30
QUERIES = 50


def scale_config(backend: str, workdir: Path) -> Config:
    """HNSW32 on either backend, the hash encoder, Milvus Lite in ``workdir``."""
    config = Config().with_overrides("embed", model=ENCODER)
    if backend == "faiss":
        return config.with_overrides("index", factory="HNSW32")
    return config.with_overrides(
        "index",
        backend="milvus",
        sparse_backend="milvus",
        uri=str(workdir / "milvus.db"),
        factory="HNSW32",
    )


def _p50_ms(kb: Any, queries: Sequence[str], mode: str) -> float:
    timings = []
    for query in queries:
        start = time.perf_counter()
        kb.search(query, k=10, mode=mode)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def scale_point(backend: str, n: int, workdir: Path) -> dict[str, Any]:
    """One backend at ``n`` chunks (one per document), measured in this process."""
    from ragline.kb import KnowledgeBase

    with PeakMemory() as memory:
        start = time.perf_counter()
        kb = KnowledgeBase.create(workdir / "kb", scale_config(backend, workdir))
        kb.add(synthetic_documents(n, words=WORDS))
        kb.save()
        ingest = time.perf_counter() - start
        queries = [d.text for d in synthetic_documents(QUERIES, words=6, seed=2)]
        _p50_ms(kb, queries[:5], "hybrid")  # warm
        point = {
            "backend": backend,
            "chunks": n,
            "ingest_s": ingest,
            "chunks_per_s": n / ingest,
            "dense_p50_ms": _p50_ms(kb, queries, "dense"),
            "hybrid_p50_ms": _p50_ms(kb, queries, "hybrid"),
            **_one_document(kb),
        }
        kb.close()
    return {**point, "peak_rss_mb": memory.peak / 2**20}


def _one_document(kb: Any, repeats: int = 3) -> dict[str, float]:
    """Median ms to add one document (until searchable) and to delete it again."""
    added, deleted = [], []
    for i, doc in enumerate(synthetic_documents(repeats, words=WORDS, seed=3)):
        new = Document(f"one-{i}", f"{doc.text} onlyhere{i}", doc.metadata)
        start = time.perf_counter()
        kb.add([new])
        kb.search(f"onlyhere{i}", k=1, mode="hybrid")
        added.append(time.perf_counter() - start)
        start = time.perf_counter()
        kb.delete([new.id])
        kb.search(f"onlyhere{i}", k=1, mode="hybrid")
        deleted.append(time.perf_counter() - start)
    return {
        "add_one_ms": statistics.median(added) * 1000,
        "delete_one_ms": statistics.median(deleted) * 1000,
    }


def scale_table(sizes: Sequence[int], *, timeout: float = 3600) -> list[dict[str, Any]]:
    """Every backend at every size, each point in a fresh process; a point that fails or
    runs out of ``timeout`` is reported with its error instead of numbers."""
    points = []
    for n in sizes:
        for backend in BACKENDS:
            command = [sys.executable, "-m", "ragline.bench.milvus_scale", backend, str(n)]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                points.append({"backend": backend, "chunks": n, "error": f"over {timeout:.0f} s"})
                continue
            if done.returncode:
                error = (done.stderr.strip().splitlines() or ["failed"])[-1]
                points.append({"backend": backend, "chunks": n, "error": error})
                continue
            points.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return points


def scale_chart(points: Sequence[dict[str, Any]], path: Path) -> None:
    """Ingest rate, peak RSS and p50 hybrid latency against corpus size, per backend."""
    from ragline.bench.plots import _pyplot

    plt = _pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    panels = (  # log scales where the backends differ by orders of magnitude
        ("chunks_per_s", "ingest (chunks/s)", "linear"),
        ("peak_rss_mb", "peak RSS (MB)", "log"),
        ("hybrid_p50_ms", "p50 hybrid query (ms)", "log"),
    )
    for axis, (key, title, yscale) in zip(axes, panels, strict=True):
        for backend in BACKENDS:
            done = [p for p in points if p["backend"] == backend and "error" not in p]
            axis.plot([p["chunks"] for p in done], [p[key] for p in done], "o-", label=backend)
        axis.set_xscale("log")
        axis.set_yscale(yscale)
        axis.set_xlabel("chunks")
        axis.set_title(title)
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as directory:
        result = scale_point(sys.argv[1], int(sys.argv[2]), Path(directory))
    print(json.dumps(result))
