"""The reference a chunking default must not lose to: every document encoded whole.

One vector per document (title and text, truncated by the model as sentence-transformers
does), bm25s over the same texts, and reciprocal rank fusion of the two — the raw libraries
used directly, as BEIR's own baselines are run. ``ragline eval beir --whole-documents``
scores this beside ragline's chunked knowledge base, over the same queries and qrels.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from ragline.config import Config
from ragline.evaluate.beir import BeirDataset
from ragline.evaluate.metrics import DEFAULT_METRICS, Run, evaluate_run
from ragline.retrieve.fusion import reciprocal_rank_fusion

DEPTH = 100
"""Documents per query from each side, as the knowledge base's own hybrid search takes."""


def whole_documents(dataset: BeirDataset) -> tuple[list[str], list[str]]:
    """Ids and texts ("title text", as BEIR's dense baselines join them) of the corpus."""
    if dataset.documents is not None:
        ids = [d.id for d in dataset.documents]
        texts = [_joined(d.metadata.get("title"), d.text) for d in dataset.documents]
        return ids, texts
    ids, texts = [], []
    with open(dataset.path / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                ids.append(str(record["_id"]))
                texts.append(_joined(record.get("title"), record.get("text", "")))
    return ids, texts


def _joined(title: Any, text: str) -> str:
    title = str(title or "").strip()
    return f"{title} {text}" if title and not text.startswith(title) else text


def evaluate_whole_documents(
    dataset: BeirDataset,
    modes: Sequence[str],
    config: Config,
    *,
    metrics: Sequence[str] = DEFAULT_METRICS,
) -> dict[str, dict[str, float]]:
    """Metrics per mode (``bm25``, ``dense``, ``hybrid``) of the whole-document reference,
    named ``<mode> (whole documents)``."""
    ids, texts = whole_documents(dataset)
    query_ids = list(dataset.queries)
    queries = [dataset.queries[q] for q in query_ids]
    rankings: dict[str, list[list[tuple[int, float]]]] = {}
    if {"bm25", "hybrid"} & set(modes):
        rankings["bm25"] = _bm25(texts, queries, config)
    if {"dense", "hybrid"} & set(modes):
        rankings["dense"] = _dense(texts, queries, config)
    results: dict[str, dict[str, float]] = {}
    for mode in modes:
        per_query = (
            [
                reciprocal_rank_fusion({side: rankings[side][i] for side in ("bm25", "dense")})
                for i in range(len(queries))
            ]
            if mode == "hybrid"
            else rankings[mode]
        )
        run: Run = {
            q: {ids[item]: float(score) for item, score in ranking[:DEPTH]}
            for q, ranking in zip(query_ids, per_query, strict=True)
        }
        results[f"{mode} (whole documents)"] = evaluate_run(dataset.qrels, run, metrics)
    return results


def _bm25(texts: list[str], queries: list[str], config: Config) -> list[list[tuple[int, float]]]:
    import bm25s
    import Stemmer

    settings = config.index
    stemmer = Stemmer.Stemmer(settings.bm25_stemmer) if settings.bm25_stemmer else None
    stopwords = settings.bm25_stopwords or None
    retriever = bm25s.BM25(k1=settings.bm25_k1, b=settings.bm25_b)
    retriever.index(
        bm25s.tokenize(texts, stopwords=stopwords, stemmer=stemmer, show_progress=False),
        show_progress=False,
    )
    tokens = bm25s.tokenize(queries, stopwords=stopwords, stemmer=stemmer, show_progress=False)
    found, scores = retriever.retrieve(tokens, k=min(DEPTH, len(texts)), show_progress=False)
    return [
        [(int(i), float(s)) for i, s in zip(row_ids, row_scores, strict=True) if s > 0]
        for row_ids, row_scores in zip(found, scores, strict=True)
    ]


def _dense(texts: list[str], queries: list[str], config: Config) -> list[list[tuple[int, float]]]:
    from sentence_transformers import SentenceTransformer

    from ragline.packaged_models import resolve_model

    path, _ = resolve_model(config.embed.model)
    model = SentenceTransformer(str(path), device="cpu")
    batch = config.embed.batch_size
    documents = model.encode(
        [config.embed.document_prefix + t for t in texts],
        batch_size=batch,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    asked = model.encode(
        [config.embed.query_prefix + q for q in queries],
        batch_size=batch,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    scores = asked @ documents.T
    depth = min(DEPTH, len(texts))
    top = np.argsort(-scores, axis=1, kind="stable")[:, :depth]
    return [[(int(i), float(scores[q, i])) for i in row] for q, row in enumerate(top)]
