"""Generation benchmark: time to first token and decoding speed of a local generator on
real retrieved passages, the cost per token of RAG-Token relative to plain decoding, and the
cost per answer of RAG-Sequence relative to a plain answer."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from ragline.bench.machine import machine_info


def _plain(model: Any, messages: Any, max_new_tokens: int) -> tuple[float, float, int]:
    """(seconds to the first streamed piece, total seconds, tokens) of one greedy answer."""
    started = time.perf_counter()
    first: float | None = None
    pieces: list[str] = []
    for piece in model.stream(messages, max_new_tokens=max_new_tokens):
        if first is None and piece:
            first = time.perf_counter() - started
        pieces.append(piece)
    total = time.perf_counter() - started
    return (total if first is None else first), total, len(model.encode("".join(pieces)))


def bench_generate(
    kb: Any,
    questions: Sequence[str],
    *,
    generator: str = "smollm2",
    k: int = 3,
    max_new_tokens: int = 32,
    prior_temperature: float = 0.1,
    weights: str = "fp32",
) -> dict[str, Any]:
    """Per question: retrieve ``k`` passages, answer plainly (streamed), by RAG-Token and by
    RAG-Sequence; report load time, time to first token, tokens/s, RAG-Token's time per token
    / plain, and RAG-Sequence's time per answer / plain. ``weights`` is the local model's
    (``fp32`` or ``int8``, see :mod:`ragline.generate.int8`)."""
    from ragline.generate.hf_local import LocalGenerator
    from ragline.generate.prompt import build_messages, passage_messages
    from ragline.generate.rag_sequence import rag_sequence
    from ragline.generate.rag_token import rag_token
    from ragline.generate.scoring import passage_prior

    model = LocalGenerator(generator, weights=weights)
    started = time.perf_counter()
    model._load()
    load_seconds = time.perf_counter() - started
    first, plain_rate, token_rate, plain_per_token, token_per_token = [], [], [], [], []
    sequence_per_answer = []
    for question in questions:
        hits = kb.search(question, k=k)
        messages, _ = build_messages(question, hits)
        ttft, total, tokens = _plain(model, messages, max_new_tokens)
        first.append(ttft)
        if tokens > 1 and total > ttft:
            plain_rate.append((tokens - 1) / (total - ttft))
            plain_per_token.append(total / tokens)
        per_passage = [passage_messages(question, hit) for hit in hits]
        prior = passage_prior([hit.score for hit in hits], prior_temperature)
        started = time.perf_counter()
        result = rag_token(model, per_passage, prior, max_new_tokens=max_new_tokens)
        seconds = time.perf_counter() - started
        if result.token_ids:
            token_rate.append(len(result.token_ids) / seconds)
            token_per_token.append(seconds / len(result.token_ids))
        started = time.perf_counter()
        rag_sequence(model, per_passage, prior, max_new_tokens=max_new_tokens)
        sequence_per_answer.append((time.perf_counter() - started) / total)
    return {
        "machine": machine_info(),
        "generator": model.name,
        "weights": weights,
        "questions": len(questions),
        "k": k,
        "max_new_tokens": max_new_tokens,
        "load_seconds": load_seconds,
        "ttft_p50_s": float(np.percentile(first, 50)) if first else None,
        "ttft_p95_s": float(np.percentile(first, 95)) if first else None,
        "plain_tokens_per_s": float(np.median(plain_rate)) if plain_rate else None,
        "rag_token_tokens_per_s": float(np.median(token_rate)) if token_rate else None,
        "rag_token_cost_per_token": (
            float(np.median(token_per_token) / np.median(plain_per_token))
            if token_per_token and plain_per_token
            else None
        ),
        "rag_sequence_cost_per_answer": (
            float(np.median(sequence_per_answer)) if sequence_per_answer else None
        ),
    }
