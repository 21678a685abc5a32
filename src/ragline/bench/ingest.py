"""Ingest benchmark: throughput with a stage breakdown and peak memory, against the raw
encoder's throughput on the same chunk texts in the same process (the ratio is the overhead)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragline.bench.machine import PeakMemory, machine_info
from ragline.config import Config


def bench_ingest(
    paths: Sequence[str | Path], kb_dir: Path, config: Config, *, raw_baseline: bool = True
) -> dict[str, Any]:
    """Build a knowledge base at ``kb_dir`` from ``paths`` and time it.

    The embedding model is loaded before the clock starts, for both ingest and baseline.
    """
    from ragline.kb import KnowledgeBase

    kb = KnowledgeBase.create(kb_dir, config)
    load_start = time.perf_counter()
    model = getattr(kb.encoder, "model", None)
    model_load = time.perf_counter() - load_start
    with PeakMemory() as memory:
        start = time.perf_counter()
        report = kb.add(list(paths))
        save_start = time.perf_counter()
        kb.save()
        total = time.perf_counter() - start
        save = time.perf_counter() - save_start
    result: dict[str, Any] = {
        "machine": machine_info(),
        "corpus": [str(p) for p in paths],
        "embedder": kb.encoder.name,
        "documents": report.indexed,
        "chunks": report.chunks,
        "megabytes": report.characters / 1e6,
        "errors": len(report.errors),
        "seconds": total,
        "model_load_seconds": model_load,
        "stages": {**report.seconds, "save": save},
        "docs_per_s": report.indexed / total,
        "chunks_per_s": report.chunks / total,
        "mb_per_s": report.characters / 1e6 / total,
        "peak_rss_mb": memory.peak / 2**20,
    }
    if raw_baseline and model is not None and report.chunks:
        texts = [text for _, batch in kb.catalog.iter_rows(columns="text") for text in batch]
        start = time.perf_counter()
        model.encode(
            texts,
            batch_size=config.embed.batch_size,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        raw = time.perf_counter() - start
        result["raw_encode"] = {"seconds": raw, "chunks_per_s": len(texts) / raw}
        result["ingest_vs_raw"] = (report.chunks / total) / (len(texts) / raw)
    kb.close()
    return result
