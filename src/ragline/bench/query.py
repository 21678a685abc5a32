"""Query benchmark: latency percentiles and throughput per search mode, warm, on one thread
and on several concurrent threads."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ragline.bench.machine import machine_info


def _latencies(
    kb: Any, queries: Sequence[str], mode: str, k: int, options: dict[str, Any]
) -> list[float]:
    out = []
    for query in queries:
        start = time.perf_counter()
        kb.search(query, k=k, mode=mode, **options)
        out.append(time.perf_counter() - start)
    return out


def bench_query(
    kb: Any,
    queries: Sequence[str],
    modes: Sequence[str] = ("bm25", "dense", "hybrid"),
    *,
    k: int = 10,
    threads: int = 2,
    warmup: int = 5,
    **options: Any,
) -> dict[str, Any]:
    """p50/p95/p99 latency (ms) and queries/s per mode; ``threads`` concurrent clients too.
    ``options`` go to every search (e.g. ``rerank``, ``rerank_depth``)."""
    results: dict[str, Any] = {}
    for mode in modes:
        _latencies(kb, queries[:warmup], mode, k, options)
        single = np.array(_latencies(kb, queries, mode, k, options)) * 1000
        start = time.perf_counter()
        with ThreadPoolExecutor(threads) as pool:
            chunks = [queries[i::threads] for i in range(threads)]
            list(
                pool.map(
                    _latencies,
                    [kb] * threads,
                    chunks,
                    [mode] * threads,
                    [k] * threads,
                    [options] * threads,
                )
            )
        concurrent = time.perf_counter() - start
        results[mode] = {
            "p50_ms": float(np.percentile(single, 50)),
            "p95_ms": float(np.percentile(single, 95)),
            "p99_ms": float(np.percentile(single, 99)),
            "qps": len(queries) / (single.sum() / 1000),
            f"qps_{threads}_threads": len(queries) / concurrent,
        }
    return {
        "machine": machine_info(),
        "queries": len(queries),
        "k": k,
        "options": {key: str(value) for key, value in options.items()},
        "chunks": kb.catalog.counts()[1],
        "results": results,
    }


def compare_query_backends(
    kb: Any,
    queries: Sequence[str],
    backends: Sequence[str] | None = None,
    *,
    mode: str = "hybrid",
    k: int = 10,
    warmup: int = 5,
) -> dict[str, Any]:
    """Per embedder backend, one query at a time: p50 of embedding the query alone and of
    the whole ``mode`` search, beside the raw sentence-transformers encode of the same query,
    and the query vectors' cosine to the raw ones. Backends take turns query by query, so
    load changes fall on all alike; the knowledge base's vectors are the same for all."""
    from dataclasses import replace

    from ragline.bench.backends import available_backends
    from ragline.embed import make_encoder
    from ragline.embed.probe import cosines
    from ragline.embed.sentence_transformers import SentenceTransformerEncoder
    from ragline.errors import RaglineError

    embed = kb.config.embed
    raw = SentenceTransformerEncoder(embed.model, query_prefix=embed.query_prefix).model
    encoders: dict[str, Any] = {}
    results: dict[str, Any] = {}
    for name in backends or available_backends():
        encoder = make_encoder(replace(embed, backend=name))
        try:
            encoder.encode_queries(list(queries[:warmup]))
        except (RaglineError, RuntimeError) as e:
            results[name] = {"error": str(e)}
            continue
        encoders[name] = encoder
    timings: dict[str, dict[str, list[float]]] = {
        name: {"embed": [], "search": []} for name in ["raw", *encoders]
    }
    vectors: dict[str, list[Any]] = {name: [] for name in timings}
    previous = kb.state.query_encoder
    try:
        for query in queries:
            text = embed.query_prefix + query
            start = time.perf_counter()
            vectors["raw"].append(raw.encode([text], normalize_embeddings=True)[0])
            timings["raw"]["embed"].append(time.perf_counter() - start)
            for name, encoder in encoders.items():
                start = time.perf_counter()
                vectors[name].append(encoder.encode_queries([query])[0])
                timings[name]["embed"].append(time.perf_counter() - start)
                kb.state.query_encoder = encoder
                start = time.perf_counter()
                kb.search(query, k=k, mode=mode)
                timings[name]["search"].append(time.perf_counter() - start)
    finally:
        kb.state.query_encoder = previous
    reference = np.array(vectors["raw"], dtype=np.float32)
    for name, times in timings.items():
        close = cosines(np.array(vectors[name], dtype=np.float32), reference)
        row = {"embed_p50_ms": float(np.percentile(times["embed"], 50) * 1000)}
        if times["search"]:
            row[f"{mode}_p50_ms"] = float(np.percentile(times["search"], 50) * 1000)
        row.update(mean_cosine=float(close.mean()), min_cosine=float(close.min()))
        results[name] = row
    return {"mode": mode, "queries": len(queries), "backends": results}
