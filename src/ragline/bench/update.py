"""Update benchmark: the cost of adding, replacing and deleting one document in a large
knowledge base, which must be proportional to the document, not to the corpus."""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Iterator
from itertools import accumulate
from pathlib import Path
from typing import Any

from ragline.bench.machine import machine_info
from ragline.config import Config
from ragline.documents import Document

VOCABULARY_SIZE = 20_000


def synthetic_documents(count: int, words: int, seed: int = 0) -> Iterator[Document]:
    """Documents of ``words`` words drawn from a Zipf-like vocabulary (repeatable)."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(VOCABULARY_SIZE)]
    cumulative = list(accumulate(1.0 / (rank + 1) for rank in range(VOCABULARY_SIZE)))
    for number in range(count):
        text = " ".join(rng.choices(vocabulary, cum_weights=cumulative, k=words))
        yield Document(f"synthetic-{number}", text, {"group": number % 10})


def bench_update(
    kb_dir: Path, config: Config, *, chunks: int = 100_000, repeats: int = 5
) -> dict[str, Any]:
    """Build a ``chunks``-chunk knowledge base (one chunk per document), then time single
    document add, replace and delete end to end (chunk, embed, commit, index update)."""
    from ragline.kb import KnowledgeBase

    build_start = time.perf_counter()
    with KnowledgeBase.create(kb_dir, config) as kb:
        kb.add(synthetic_documents(chunks, words=100))
        kb.save()
    build = time.perf_counter() - build_start
    open_start = time.perf_counter()
    kb = KnowledgeBase.open(kb_dir)
    kb.search("w1 w2", k=1)
    opened = time.perf_counter() - open_start
    timings: dict[str, list[float]] = {"add": [], "replace": [], "delete": []}
    extra = list(synthetic_documents(repeats, words=100, seed=1))
    with kb:
        for i, doc in enumerate(extra):
            new = Document(f"new-{i}", doc.text + f" marker{i}", doc.metadata)
            start = time.perf_counter()
            kb.add([new])
            timings["add"].append(time.perf_counter() - start)
            changed = Document(new.id, new.text + f" changed{i}", new.metadata)
            start = time.perf_counter()
            kb.add([changed])
            timings["replace"].append(time.perf_counter() - start)
            found = [h.chunk.doc_id for h in kb.search(f"changed{i}", k=1, mode="bm25")]
            if found != [new.id]:
                raise AssertionError(f"replaced document {new.id} not found: {found}")
            start = time.perf_counter()
            kb.delete([new.id])
            timings["delete"].append(time.perf_counter() - start)
            if kb.search(f"changed{i}", k=1, mode="bm25"):
                raise AssertionError(f"deleted document {new.id} still found")
        total_chunks = kb.catalog.counts()[1]
        index = kb.info()["index"]
    return {
        "machine": machine_info(),
        "embedder": config.embed.model,
        "index": index,
        "chunks": total_chunks,
        "build_seconds": build,
        "open_and_first_search_seconds": opened,
        "median_ms": {op: statistics.median(t) * 1000 for op, t in timings.items()},
        "max_ms": {op: max(t) * 1000 for op, t in timings.items()},
    }
