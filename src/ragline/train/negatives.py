"""Hard negatives: passages that look relevant to a query but are not labelled so.

Sources, combinable: BM25 (top lexical hits), the model being trained (top dense hits, mined
with sentence-transformers' ``mine_hard_negatives``, skipping the very top ranks and those
scoring too close to the positive, which are often unlabelled positives), and in-batch (free:
the other pairs' passages, supplied by the loss). No source ever returns a passage labelled
relevant for the query.
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

from ragline.train.pairs import TrainingData, TrainingPair

NEGATIVE_SOURCES = ("in-batch", "bm25", "model")


def bm25_negatives(
    data: TrainingData, count: int, *, depth: int = 30, batch: int = 256
) -> dict[str, list[str]]:
    """Per query, its top BM25 hits over the corpus that are not labelled relevant."""
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25(k1=0.9, b=0.4)
    retriever.index(
        bm25s.tokenize(data.corpus, stopwords="en", stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    queries = data.queries()
    found: dict[str, list[str]] = {}
    k = min(depth + max(map(len, data.relevant.values())), len(data.corpus))
    for start in range(0, len(queries), batch):
        part = queries[start : start + batch]
        tokens = bm25s.tokenize(part, stopwords="en", stemmer=stemmer, show_progress=False)
        results, _ = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        for query, row in zip(part, results, strict=True):
            relevant = data.relevant[query]
            hits = [data.corpus[i] for i in row if data.corpus[i] not in relevant]
            found[query] = hits[:count]
    return found


def model_negatives(
    model: Any,
    data: TrainingData,
    count: int,
    *,
    skip: int = 0,
    depth: int = 50,
    relative_margin: float | None = 0.05,
    query_prompt: str = "",
    corpus_prompt: str = "",
    batch_size: int = 32,
) -> dict[str, list[str]]:
    """Per query, the model's top hits that are not labelled relevant, below rank ``skip``
    and at least ``relative_margin`` (a fraction) below the positive's score."""
    from ragline._optional import require

    Dataset = require("datasets", "train").Dataset
    from sentence_transformers.util import mine_hard_negatives

    # The miner treats every pair of a query as that query's positives, so give it all of them.
    rows = [(q, p) for q, positives in data.relevant.items() for p in sorted(positives)]
    dataset = Dataset.from_dict({"anchor": [q for q, _ in rows], "positive": [p for _, p in rows]})
    mined = mine_hard_negatives(
        dataset,
        model,
        corpus=list(data.corpus),
        range_min=skip,
        range_max=skip + depth,
        relative_margin=relative_margin,
        num_negatives=count,
        sampling_strategy="top",
        output_format="labeled-list",
        query_prompt=query_prompt or None,
        corpus_prompt=corpus_prompt or None,
        batch_size=batch_size,
        use_faiss=False,
        verbose=False,
    )
    found: dict[str, list[str]] = {}
    for record in mined:
        query = record["anchor"]
        relevant = data.relevant[query]
        negatives = [
            text
            for text, label in zip(record["positive"], record["labels"], strict=True)
            if not label and text not in relevant
        ]
        merged = found.setdefault(query, [])
        merged += [text for text in negatives if text not in merged]
    return {query: texts[:count] for query, texts in found.items()}


def attach_negatives(
    data: TrainingData,
    sources: Sequence[tuple[dict[str, list[str]], int]],
    *,
    seed: int = 0,
) -> list[TrainingPair]:
    """Pairs with a fixed number of negatives each: the pair's own, then ``count`` from each
    mined source in turn, topped up with random non-relevant corpus passages when a source
    ran short (the loss needs the same number of negatives in every row)."""
    wanted = sum(count for _, count in sources)
    rng = random.Random(seed)
    pairs: list[TrainingPair] = []
    for pair in data.pairs:
        relevant = data.relevant[pair.query]
        chosen = [n for n in pair.negatives if n not in relevant]
        for mined, count in sources:
            fresh = [n for n in mined.get(pair.query, []) if n not in chosen]
            chosen += fresh[:count]
        target = max(wanted, len(pair.negatives)) if wanted else len(pair.negatives)
        while len(chosen) < target and len(data.corpus) > len(relevant) + len(chosen):
            candidate = rng.choice(data.corpus)
            if candidate not in relevant and candidate not in chosen:
                chosen.append(candidate)
        pairs.append(TrainingPair(pair.query, pair.positive, tuple(chosen[:target])))
    width = min((len(p.negatives) for p in pairs), default=0)
    return [TrainingPair(p.query, p.positive, p.negatives[:width]) for p in pairs]


def mine_negatives(
    data: TrainingData,
    *,
    bm25: int = 0,
    model: Any = None,
    dense: int = 0,
    skip: int = 0,
    margin: float | None = 0.05,
    bf16: bool = False,
    length: int | None = None,
    seed: int = 0,
) -> tuple[list[TrainingPair], dict[str, Any]]:
    """``data``'s pairs with ``bm25`` BM25 and ``dense`` model-mined negatives each, and what
    the mining cost. The model may read only the first ``length`` tokens of each passage and
    run under bf16 autocast: mining only needs a rough ranking, at a third of the cost."""
    started = time.perf_counter()
    sources: list[tuple[dict[str, list[str]], int]] = []
    if bm25 > 0:
        sources.append((bm25_negatives(data, bm25), bm25))
    if dense > 0 and model is not None:
        import torch

        full_length = model.max_seq_length
        model.max_seq_length = min(length or full_length, full_length)
        try:
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                mined = model_negatives(model, data, dense, skip=skip, relative_margin=margin)
        finally:
            model.max_seq_length = full_length
        sources.append((mined, dense))
    pairs = attach_negatives(data, sources, seed=seed)
    stats = {
        "negatives_per_pair": len(pairs[0].negatives) if pairs else 0,
        "mining_seconds": round(time.perf_counter() - started, 1),
    }
    return pairs, stats
