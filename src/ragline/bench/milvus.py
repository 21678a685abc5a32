"""FAISS and BM25 against Milvus on one embedded corpus: quality (nDCG@10 per search mode),
query latency, and the time to build each backend's indexes from the stored vectors.

The corpus is embedded once, into a FAISS knowledge base; :func:`backend_copy` copies its
catalog (SQLite backup: one committed state) beside a configuration naming another backend,
and the first search builds that backend's indexes from the stored vectors and texts, never
re-embedding: the catalog is the truth and indexes are derived from it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragline.config import Config
from ragline.snapshot import copy_catalog
from ragline.store.layout import CATALOG_FILE, CONFIG_FILE

if TYPE_CHECKING:
    from ragline.evaluate.beir import BeirDataset

MODES = ("dense", "bm25", "hybrid")


def backend_copy(source: Path, target: Path, **index: Any) -> Path:
    """A copy of the knowledge base at ``source`` (catalog and configuration, no index
    files) with ``[index]`` keys replaced by ``index``."""
    target.mkdir(parents=True)
    copy_catalog(source / CATALOG_FILE, target / CATALOG_FILE)
    config = Config.read(source / CONFIG_FILE).with_overrides("index", **index)
    config.write(target / CONFIG_FILE)
    return target


def compare_backends(
    source: Path, dataset: BeirDataset, workdir: Path, *, latency_queries: int = 200
) -> dict[str, Any]:
    """FAISS + BM25 and Milvus (Lite at ``workdir/milvus.db``) on copies of ``source``: index
    build from stored vectors (s, chunks/s), the first save (for Milvus: flush, and the
    search-result fields published), nDCG@10 and recall@100 per mode, and query latency
    per mode, measured one backend after the other in this process."""
    from ragline.bench.query import bench_query
    from ragline.evaluate.beir import evaluate_modes
    from ragline.kb import KnowledgeBase

    copies = {
        "faiss": backend_copy(source, workdir / "faiss"),
        "milvus": backend_copy(
            source,
            workdir / "milvus",
            backend="milvus",
            sparse_backend="milvus",
            uri=str(workdir / "milvus.db"),
        ),
    }
    report: dict[str, Any] = {}
    for name, path in copies.items():
        with KnowledgeBase.open(path) as kb:
            start = time.perf_counter()
            dense, _ = kb.indexes.ensure()
            built = time.perf_counter() - start
            start = time.perf_counter()
            kb.save()  # as a knowledge base is used: saved (Milvus flushes its segments)
            saved = time.perf_counter() - start
            chunks = kb.catalog.counts()[1]
            quality, _ = evaluate_modes(kb, dataset, MODES)
            queries = list(dataset.queries.values())[:latency_queries]
            latency = bench_query(kb, queries, MODES)["results"]
            report[name] = {
                "index": dense.structure,
                "chunks": chunks,
                "build_s": built,
                "build_chunks_per_s": chunks / built,
                "save_s": saved,
                "quality": quality,
                "latency": latency,
            }
    return report
