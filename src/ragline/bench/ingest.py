"""Ingest benchmark: throughput with a stage breakdown and peak memory, against the raw
encoder's throughput on the same chunk texts in the same process (the ratio is the overhead),
and every embedder backend side by side with the raw float32 encode on a sample of those
texts (``bench/backends.py``).

The raw encoder is timed on a sample of the chunk texts (as indexed: with their title
headers) just before and just after the ingest, after a warm-up call, and the two are
averaged, so a change in machine load during the run does not masquerade as overhead.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragline.bench.machine import PeakMemory, machine_info
from ragline.config import Config

RAW_SAMPLE = 1024
BACKEND_SAMPLE = 256


def _chunk_texts(kb: Any, paths: Sequence[str | Path]) -> list[str]:
    """The chunk texts ingest will embed, made the same way (load, then chunk)."""
    from ragline.chunk import make_chunker
    from ragline.documents import Document
    from ragline.load import load_paths

    chunker = make_chunker(kb.config.chunk, kb.encoder)
    return [
        chunk.indexed_text
        for item in load_paths(paths, config=kb.config.load)
        if isinstance(item, Document)
        for chunk in chunker.chunk(item)
    ]


def _raw_model(config: Config) -> Any:
    """The sentence-transformers float32 model the raw baseline runs (None for the
    model-free test encoder)."""
    if config.embed.model.startswith("hash-"):
        return None
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder

    return SentenceTransformerEncoder(config.embed.model).model


def _raw_throughput(model: Any, texts: list[str], batch_size: int) -> float:
    start = time.perf_counter()
    model.encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)
    return len(texts) / (time.perf_counter() - start)


def bench_ingest(
    paths: Sequence[str | Path],
    kb_dir: Path,
    config: Config,
    *,
    raw_baseline: bool = True,
    raw_sample: int = RAW_SAMPLE,
    backends: Sequence[str] | None = (),
    backend_sample: int = BACKEND_SAMPLE,
    rounds: int = 3,
) -> dict[str, Any]:
    """Build a knowledge base at ``kb_dir`` from ``paths`` and time it.

    The embedding model is loaded before the clock starts, for both ingest and baseline.
    ``backends`` (None: every available one) are then compared on ``backend_sample`` of the
    chunk texts, ``rounds`` times, interleaved with the raw encode.
    """
    from ragline.kb import KnowledgeBase

    kb = KnowledgeBase.create(kb_dir, config)
    load_start = time.perf_counter()
    kb.encoder.encode_documents(["warm-up"])  # loads (converts, probes) the model in use
    model_load = time.perf_counter() - load_start
    model = _raw_model(config) if raw_baseline else None
    batch_size = config.embed.batch_size
    sample: list[str] = []
    raw_rates: list[float] = []
    if raw_baseline and model is not None:
        texts = _chunk_texts(kb, paths)
        sample = random.Random(0).sample(texts, min(raw_sample, len(texts)))
        _raw_throughput(model, sample[:batch_size], batch_size)  # warm-up: first calls are slow
        raw_rates.append(_raw_throughput(model, sample, batch_size))
    with PeakMemory() as memory:
        start = time.perf_counter()
        report = kb.add(list(paths))
        save_start = time.perf_counter()
        kb.save()
        total = time.perf_counter() - start
        save = time.perf_counter() - save_start
    if sample:
        raw_rates.append(_raw_throughput(model, sample, batch_size))
    result: dict[str, Any] = {
        "machine": machine_info(),
        "corpus": [str(p) for p in paths],
        "embedder": kb.encoder.name,
        "embed_backend": config.embed.backend,
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
    if raw_rates and report.chunks:
        raw = sum(raw_rates) / len(raw_rates)
        result["raw_encode"] = {
            "sample": len(sample),
            "chunks_per_s": raw,
            "before_and_after": raw_rates,
        }
        result["ingest_vs_raw"] = (report.chunks / total) / raw
    if backends is None or backends:
        from ragline.bench.backends import compare_backends

        texts = _chunk_texts(kb, paths)
        sample = random.Random(1).sample(texts, min(backend_sample, len(texts)))
        result["backends"] = compare_backends(
            config.embed, sample, backends=backends, rounds=rounds, batch_size=batch_size
        )
    kb.close()
    return result
