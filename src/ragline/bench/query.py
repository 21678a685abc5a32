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
