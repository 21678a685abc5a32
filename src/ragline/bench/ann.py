"""ANN benchmark: recall@10 against exact search vs queries/s, for Flat, HNSW (sweeping
efSearch) and IVF (sweeping nprobe), through ragline's FAISS dense index and on raw FAISS.

Each side builds its own index from the same factory string and vectors (ragline's build
path is what users get); each point searches the whole query batch in one call, best of
``repeats``, the two sides interleaved so that load from other jobs hits both alike.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ragline.bench.datasets import VectorSet
from ragline.bench.machine import machine_info
from ragline.cache import default_cache_dir
from ragline.config import IndexConfig
from ragline.errors import RaglineError
from ragline.index.base import DenseIndex, SearchParams, Trainable
from ragline.index.registry import DENSE_INDEXES

log = logging.getLogger(__name__)

K = 10
EF_SEARCH = (16, 32, 64, 128, 256)
NPROBE = (1, 2, 4, 8, 16, 32, 64)
HNSW_FACTORY = "HNSW32"
TRAIN_SAMPLE = 100_000  # as a knowledge base trains IVF


def ivf_nlist(n: int) -> int:
    """IVF cells for ``n`` vectors: 4·sqrt(n) rounded to the nearest power of two.

    >>> ivf_nlist(400_000), ivf_nlist(5_000)
    (2048, 256)
    """
    return 2 ** max(0, round(math.log2(4 * math.sqrt(max(n, 1)))))


def recall_at_k(found: NDArray[np.int64], truth: NDArray[np.int64]) -> float:
    """Fraction of the true top-k ids found in the returned top-k, averaged over queries.

    >>> recall_at_k(np.array([[1, 2], [3, -1]]), np.array([[2, 1], [3, 4]]))
    0.75
    """
    hits = (found[:, :, None] == truth[:, None, :]).any(axis=2).sum(axis=1)
    return float(np.mean(hits / truth.shape[1]))


def ground_truth(
    vectors: VectorSet, k: int = K, *, cache_dir: Path | None = None
) -> tuple[NDArray[np.int64], bool]:
    """Exact top-``k`` base positions per query by inner product (faiss ``IndexFlatIP``),
    cached as .npy under ``cache_dir`` (default: ragline's cache dir / "ann").

    Returns the ids and whether they came from the cache.
    """
    import faiss

    if cache_dir is None:
        cache_dir = default_cache_dir() / "ann"
    name = vectors.source.split(":")[0]
    path = cache_dir / f"{name}-{vectors.cache_key(k)}.npy"
    if path.is_file():
        ids = np.load(path, allow_pickle=False)
        if ids.shape == (len(vectors.queries), k):
            return ids.astype(np.int64), True
    index = faiss.IndexFlatIP(vectors.dim)
    index.add(vectors.base)
    _, ids = index.search(vectors.queries, k)
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npy")
    np.save(tmp, ids, allow_pickle=False)
    os.replace(tmp, path)
    return ids.astype(np.int64), False


def _raw_faiss(dim: int, factory: str) -> Any:
    """The factory string on plain FAISS, in an IndexIDMap2 where FAISS needs it for ids."""
    import faiss

    index = faiss.index_factory(dim, factory, faiss.METRIC_INNER_PRODUCT)
    if faiss.try_extract_index_ivf(index) is None:
        index = faiss.IndexIDMap2(index)
    return index


def _build(
    factory: str, base: NDArray[np.float32], sample: NDArray[np.float32]
) -> tuple[DenseIndex, Any, float, float]:
    """The same structure built through ragline and on raw FAISS, with build seconds each."""
    ids = np.arange(len(base), dtype=np.int64)
    start = time.perf_counter()
    settings = IndexConfig(backend="faiss", factory=factory)
    ours: DenseIndex = DENSE_INDEXES.load(settings.backend).create(
        base.shape[1], settings, len(base)
    )
    if isinstance(ours, Trainable) and ours.needs_training and not ours.train(sample):
        raise RuntimeError(f"{factory}: training on {len(sample)} vectors failed")
    ours.add(ids, base)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    raw = _raw_faiss(base.shape[1], factory)
    if not raw.is_trained:
        raw.train(sample)
    raw.add_with_ids(base, ids)
    raw_s = time.perf_counter() - start
    return ours, raw, ours_s, raw_s


def _best_of(
    searches: Sequence[Callable[[], NDArray[np.int64]]], repeats: int
) -> tuple[list[float], list[NDArray[np.int64]]]:
    """Best wall time per search over ``repeats`` interleaved rounds, and each one's ids."""
    best = [math.inf] * len(searches)
    found: list[NDArray[np.int64]] = [np.empty(0, dtype=np.int64)] * len(searches)
    for _ in range(repeats):
        for i, search in enumerate(searches):
            start = time.perf_counter()
            ids = search()
            best[i] = min(best[i], time.perf_counter() - start)
            found[i] = ids
    return best, found


def _point(
    name: str,
    factory: str,
    param: str | None,
    value: int | None,
    ours: DenseIndex,
    raw: Any,
    vectors: VectorSet,
    truth: NDArray[np.int64],
    repeats: int,
) -> dict[str, Any]:
    import faiss

    queries = vectors.queries
    if param == "efSearch":
        ours_params = SearchParams(ef_search=value)
        raw_params = faiss.SearchParametersHNSW(efSearch=value)  # type: ignore[attr-defined]
    elif param == "nprobe":
        ours_params = SearchParams(nprobe=value)
        raw_params = faiss.SearchParametersIVF(nprobe=value)  # type: ignore[call-arg]
    else:
        ours_params, raw_params = SearchParams(), None
    (ours_s, raw_s), (ours_ids, raw_ids) = _best_of(
        [
            lambda: ours.search(queries, K, params=ours_params)[1],
            lambda: raw.search(queries, K, params=raw_params)[1],
        ],
        repeats,
    )
    recall = recall_at_k(ours_ids, truth)
    log.info("%s %s=%s: recall %.3f, ratio %.3f", name, param, value, recall, raw_s / ours_s)
    return {
        "index": name,
        "factory": factory,
        "param": param,
        "value": value,
        "recall": recall,
        "faiss_recall": recall_at_k(raw_ids, truth),
        "ragline_qps": len(queries) / ours_s,
        "faiss_qps": len(queries) / raw_s,
        "ratio": raw_s / ours_s,
    }


def bench_ann(
    vectors: VectorSet,
    *,
    ef_search: Sequence[int] = EF_SEARCH,
    nprobe: Sequence[int] = NPROBE,
    nlist: int | None = None,
    threads: int | None = None,
    repeats: int = 3,
    seed: int = 0,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    """Recall@10 and QPS per sweep point for Flat, HNSW32 and IVF{nlist},Flat, on ragline's
    FAISS dense index and raw FAISS; ``ratio`` = ragline QPS / FAISS QPS.

    ``nlist`` defaults to :func:`ivf_nlist`; ``nprobe`` values above it are skipped.
    ``threads`` sets FAISS's OpenMP threads (default: all cores) for the run.
    """
    import faiss

    if repeats < 1:
        raise RaglineError(f"--repeats {repeats}: must be at least 1")
    if len(vectors.base) < K:
        raise RaglineError(f"{len(vectors.base)} base vectors: fewer than k={K}")
    threads = threads or os.cpu_count() or 1
    previous_threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(threads)
    try:
        start = time.perf_counter()
        truth, cached = ground_truth(vectors, K, cache_dir=cache_dir)
        truth_s = time.perf_counter() - start
        nlist = nlist or ivf_nlist(vectors.n)
        rng = np.random.default_rng(seed)
        sample_rows = np.sort(rng.choice(vectors.n, min(vectors.n, TRAIN_SAMPLE), replace=False))
        sample = vectors.base[sample_rows]
        plan: list[tuple[str, str, str | None, Sequence[int | None]]] = [
            ("Flat", "Flat", None, [None]),
            ("HNSW", HNSW_FACTORY, "efSearch", list(ef_search)),
            ("IVF", f"IVF{nlist},Flat", "nprobe", [p for p in nprobe if p <= nlist]),
        ]
        rows: list[dict[str, Any]] = []
        builds: dict[str, dict[str, Any]] = {}
        for name, factory, param, values in plan:
            log.info("building %s on %d vectors (ragline, then FAISS)", factory, vectors.n)
            ours, raw, ours_build, raw_build = _build(factory, vectors.base, sample)
            builds[name] = {"factory": factory, "ragline_s": ours_build, "faiss_s": raw_build}
            for value in values:
                rows.append(_point(name, factory, param, value, ours, raw, vectors, truth, repeats))
            del ours, raw
    finally:
        faiss.omp_set_num_threads(previous_threads)
    return {
        "machine": machine_info(),
        "source": vectors.source,
        "n": vectors.n,
        "dim": vectors.dim,
        "queries": len(vectors.queries),
        "k": K,
        "seed": seed,
        "threads": threads,
        "repeats": repeats,
        "nlist": nlist,
        "train_sample": len(sample),
        "ground_truth_s": truth_s,
        "ground_truth_cached": cached,
        "builds": builds,
        "rows": rows,
    }
